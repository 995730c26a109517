package dev.convcg.tools.bench;

import static org.apache.spark.sql.functions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.stages.TrainStage;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.bench.TrainingBenchmark;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.train.Devices;
import dev.convcg.modelspark.inference.EmbeddingInference;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Pins embedded per second by the infer-embeddings inference path (ModelInputs projection, mapPartitions,
 * FeatureBatchAssembler, shared DJL encoder) on synthetic {@code pin_features} rows in local mode, with the default
 * model (random weights: speed does not depend on them). Compares it with the encoder alone (no Spark) and with the
 * pin tower's matmul-bound rate: forward GEMM FLOPs per pin (cross layers, MLP, projection, heads; counted as in
 * {@link TrainingBenchmark}) against libtorch's dense matmul FLOP/s on the same shapes, measured in this JVM.
 *
 * <p>Usage: {@code InferenceBenchmark [pins=1000000] [batch=1024] [partitions=4]}; run with
 * {@code scripts/bench.sh inference}.
 */
public final class InferenceBenchmark {
    private InferenceBenchmark() {}

    public static void main(String[] args) throws Exception {
        long pins = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000L;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        int partitions = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int cores = Runtime.getRuntime().availableProcessors();
        Path root = Files.createTempDirectory("convcg-bench-infer");
        Map<String, String> sets = new LinkedHashMap<>();
        sets.put("storage.root", "\"" + root + "\"");
        sets.put("infer-embeddings.batch-size", String.valueOf(batch));
        sets.put("infer-embeddings.partitions", String.valueOf(partitions));
        PipelineConfig config = PipelineConfig.load(null, sets);
        int contentDim = config.contentEmbeddingDim();
        ModelConfig model = config.model();
        FeatureSchema schema = TrainStage.schema(config);
        Path artifact = root.resolve("model");
        Engine.getInstance().setRandomSeed(7);
        try (NDManager m = NDManager.newBaseManager()) {
            TwoTowerBlock block = new TwoTowerBlock(model, schema);
            block.initialize(m);
            ModelArtifact.save(artifact, block, "bench-random");
        }

        SparkSession spark = SparkSessions.create(config.spark());
        Dataset<Row> features = spark.range(0, pins, 1, partitions)
                .select(
                        col("id").as("pin_id"),
                        col("id").mod(4000).as("advertiser_id"),
                        concat(lit("cat_"), col("id").mod(100).cast("string")).as("pin_category"),
                        col("id").mod(20).cast("int").as("pin_price_bucket"),
                        rand(1).cast("float").as("pin_ctr"),
                        rand(2).multiply(0.1).cast("float").as("pin_cvr"),
                        when(rand(3).lt(0.8), transform(sequence(lit(1), lit(contentDim)), i -> rand(4).cast("float")))
                                .as("pin_content_embedding"))
                .cache();
        long t0 = System.nanoTime();
        long n = features.count();
        System.out.printf(
                Locale.ROOT,
                "generated and cached %,d synthetic pin_features rows in %.1f s%n",
                n,
                (System.nanoTime() - t0) / 1e9);

        double load0 = load();
        t0 = System.nanoTime();
        EmbeddingInference.embed(
                        features,
                        List.of("pin_id"),
                        false,
                        artifact,
                        config.inferEmbeddings().encoder(),
                        "bench pins",
                        n,
                        "2026-10-01")
                .write()
                .format("noop")
                .mode("overwrite")
                .save();
        double sparkSec = (System.nanoTime() - t0) / 1e9;
        double sparkRate = n / sparkSec;
        double load1 = load();

        // The encoder alone and the matmul reference run with the threads of one inference task (1 by default) and
        // are scaled by the tasks running at once (one per core): on a shared, loaded machine a single multi-threaded
        // libtorch op oversubscribes the cores and measures the contention, not the model.
        int threads = Math.max(1, config.inferEmbeddings().intraOpThreads());
        Devices.setIntraOpThreads(threads);
        TwoTowerEncoder enc = TwoTowerEncoder.shared(artifact);
        FeatureBatch b = syntheticPins(batch, contentDim);
        for (int i = 0; i < 5; i++) {
            enc.encodePinsFlat(b);
        }
        long rows = 0;
        t0 = System.nanoTime();
        double encSec;
        do {
            enc.encodePinsFlat(b);
            rows += batch;
            encSec = (System.nanoTime() - t0) / 1e9;
        } while (encSec < 10);
        double encoderRate = rows / encSec * cores / threads;

        List<TrainingBenchmark.Gemm> gemms = TrainingBenchmark.towerForwardGemms(model, schema.pin(), batch);
        double flopsPerPin =
                gemms.stream().mapToDouble(TrainingBenchmark.Gemm::flops).sum() / batch;
        double matmul = TrainingBenchmark.matmulFlops(gemms, 8) * cores / threads;
        double bound = matmul / flopsPerPin;

        System.out.printf(Locale.ROOT, "%ninference benchmark: %d cores, %s%n", cores, System.getProperty("os.arch"));
        System.out.printf(
                Locale.ROOT,
                "  pins                 %,d (batch %d, %d partitions, %d libtorch thread(s) per task," + " %s)%n",
                n,
                batch,
                partitions,
                config.inferEmbeddings().intraOpThreads(),
                config.spark().master());
        System.out.printf(
                Locale.ROOT,
                "  spark inference      %.1f s, %,.0f pins/s (load avg %.2f -> %.2f)%n",
                sparkSec,
                sparkRate,
                load0,
                load1);
        System.out.printf(
                Locale.ROOT,
                "  encoder alone        %,.0f pins/s (%d thread(s) x %d cores, no Spark, one reused" + " batch)%n",
                encoderRate,
                threads,
                cores / threads);
        System.out.printf(Locale.ROOT, "  pin tower            %.0f forward GEMM FLOPs per pin%n", flopsPerPin);
        System.out.printf(
                Locale.ROOT,
                "  libtorch matmul      %.2f GFLOP/s on those shapes (%d thread(s) x %d cores)%n",
                matmul / 1e9,
                threads,
                cores / threads);
        System.out.printf(Locale.ROOT, "  matmul-bound rate    %,.0f pins/s%n", bound);
        System.out.printf(
                Locale.ROOT,
                "  ratio spark/bound    %.3f; encoder/bound %.3f%n",
                sparkRate / bound,
                encoderRate / bound);
        spark.stop();
        ModelStore.deleteRecursively(root);
    }

    private static FeatureBatch syntheticPins(int rows, int contentDim) {
        Random r = new Random(1);
        long[] ids = new long[rows];
        long[] adv = new long[rows];
        long[] cat = new long[rows];
        long[] price = new long[rows];
        float[] ctr = new float[rows];
        float[] cvr = new float[rows];
        float[] content = new float[rows * contentDim];
        boolean[] present = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = r.nextLong();
            adv[i] = r.nextInt(4000);
            cat[i] = r.nextLong();
            price[i] = r.nextInt(20);
            ctr[i] = r.nextFloat();
            cvr[i] = r.nextFloat() * 0.1f;
            present[i] = r.nextFloat() < 0.8f;
            for (int k = 0; k < contentDim; k++) {
                content[i * contentDim + k] = r.nextFloat();
            }
        }
        return FeatureBatch.builder(rows)
                .id("pin_id", ids)
                .id("advertiser_id", adv)
                .id("pin_category", cat)
                .id("pin_price_bucket", price)
                .numeric("pin_ctr", ctr)
                .numeric("pin_cvr", cvr)
                .vector("pin_content_embedding", content, contentDim, present)
                .build();
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
