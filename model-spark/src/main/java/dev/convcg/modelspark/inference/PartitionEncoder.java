package dev.convcg.modelspark.inference;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.train.Devices;
import dev.convcg.modelspark.train.FeatureBatchAssembler;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of batch inference: streams a partition's rows into {@link FeatureBatchAssembler} batches of
 * {@code batchSize}, encodes each with the JVM's one {@link TwoTowerEncoder#shared shared encoder} (loaded once
 * per executor JVM and device, not per task), and emits {@code keys..., embedding, arrival_seq} rows lazily, one
 * batch in memory at a time. Input rows are {@code keys..., arrival_seq, features...} with the features in the
 * tower's spec order (as {@code ModelInputs.columns} makes them). Logs rows, batches, rows/s and an ETA.
 */
public final class PartitionEncoder implements MapPartitionsFunction<Row, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionEncoder.class);
    private static final long LOG_EVERY_NANOS = 15_000_000_000L;

    private final String artifactDir;
    private final boolean userTower;
    private final int keyCount;
    private final int batchSize;
    private final String device;
    private final int intraOpThreads;
    private final String label;
    private final long expectedRowsPerPartition;

    /**
     * @param device                   cpu, gpu or auto
     * @param intraOpThreads           libtorch threads for this JVM, set once; 0 leaves libtorch's default
     * @param expectedRowsPerPartition for the ETA in the progress log
     */
    public PartitionEncoder(
            String artifactDir,
            boolean userTower,
            int keyCount,
            int batchSize,
            String device,
            int intraOpThreads,
            String label,
            long expectedRowsPerPartition) {
        this.artifactDir = artifactDir;
        this.userTower = userTower;
        this.keyCount = keyCount;
        this.batchSize = batchSize;
        this.device = device;
        this.intraOpThreads = intraOpThreads;
        this.label = label;
        this.expectedRowsPerPartition = expectedRowsPerPartition;
    }

    /** The device a task of this JVM encodes on: cpu; gpu (the task's assigned GPU, else GPU 0); auto. */
    static Device resolveDevice(String spec, int gpuCount, TaskContext task) {
        if (spec.equals("cpu") || (spec.equals("auto") && gpuCount == 0)) {
            return Device.cpu();
        }
        if (gpuCount == 0) {
            throw new IllegalStateException("infer-embeddings.device = gpu but libtorch sees no GPU on this executor"
                    + " (the CPU-only native library sees none); use cpu or auto, or install a CUDA libtorch");
        }
        if (task != null) {
            ResourceInformation gpus = task.resources().get("gpu").getOrElse(() -> null);
            if (gpus != null && gpus.addresses().length > 0) {
                return Device.gpu(Integer.parseInt(gpus.addresses()[0]));
            }
        }
        return Device.gpu(0);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        if (intraOpThreads > 0) {
            Devices.ensureIntraOpThreads(intraOpThreads);
        }
        TaskContext task = TaskContext.get();
        Device dev = resolveDevice(device, Engine.getInstance().getGpuCount(), task);
        TwoTowerEncoder encoder = TwoTowerEncoder.shared(Path.of(artifactDir), dev);
        List<FeatureSpec> specs = userTower
                ? encoder.artifact().features().user()
                : encoder.artifact().features().pin();
        int partition = task == null ? -1 : task.partitionId();
        return new Encoded(input, encoder, new FeatureBatchAssembler(specs, keyCount + 1, batchSize), partition);
    }

    /** Lazily encodes one batch at a time. */
    private final class Encoded implements Iterator<Row> {
        private final Iterator<Row> input;
        private final TwoTowerEncoder encoder;
        private final FeatureBatchAssembler assembler;
        private final int partition;
        private final int dim;
        private final Object[][] keys;
        private final long[] seq;
        private float[] out = new float[0];
        private int size;
        private int next;
        private long rows;
        private long batches;
        private final long start = System.nanoTime();
        private long lastLog = start;
        private boolean finished;

        Encoded(Iterator<Row> input, TwoTowerEncoder encoder, FeatureBatchAssembler assembler, int partition) {
            this.input = input;
            this.encoder = encoder;
            this.assembler = assembler;
            this.partition = partition;
            this.dim = encoder.dim();
            this.keys = new Object[batchSize][keyCount];
            this.seq = new long[batchSize];
        }

        @Override
        public boolean hasNext() {
            if (next < size) {
                return true;
            }
            fill();
            return next < size;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int i = next++;
            Object[] values = new Object[keyCount + 2];
            System.arraycopy(keys[i], 0, values, 0, keyCount);
            values[keyCount] = Arrays.copyOfRange(out, i * dim, (i + 1) * dim);
            values[keyCount + 1] = seq[i];
            return RowFactory.create(values);
        }

        private void fill() {
            size = 0;
            next = 0;
            while (input.hasNext() && !assembler.full()) {
                Row r = input.next();
                for (int k = 0; k < keyCount; k++) {
                    keys[size][k] = r.get(k);
                }
                seq[size] = r.getLong(keyCount);
                assembler.add(r);
                size++;
            }
            if (size > 0) {
                out = userTower
                        ? encoder.encodeUsersFlat(assembler.build())
                        : encoder.encodePinsFlat(assembler.build());
                rows += size;
                batches++;
                long now = System.nanoTime();
                if (now - lastLog >= LOG_EVERY_NANOS) {
                    lastLog = now;
                    log("progress", now);
                }
            } else if (!finished) {
                finished = true;
                log("done", System.nanoTime());
            }
        }

        private void log(String what, long now) {
            double sec = Math.max(1e-9, (now - start) / 1e9);
            double rate = rows / sec;
            long left = Math.max(0, expectedRowsPerPartition - rows);
            LOG.info(String.format(
                    Locale.ROOT,
                    "%s %s: partition %d, %d rows in %d batches, %.0f rows/s on %s%s",
                    label,
                    what,
                    partition,
                    rows,
                    batches,
                    rate,
                    encoder.device(),
                    what.equals("done")
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    ", ~%.0f s left of ~%d rows",
                                    left / Math.max(rate, 1e-9),
                                    expectedRowsPerPartition)));
        }
    }
}
