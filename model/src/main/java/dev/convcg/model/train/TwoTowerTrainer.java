package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.LocalParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.features.TouchedRows;
import dev.convcg.model.loss.TwoTowerLoss;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a {@link TwoTowerBlock} from any per-epoch iterator of {@link TrainingBatch}es.
 *
 * <p>One step: tensorize the batch (ids hashed in Java), forward both towers (with several devices
 * the rows are split, each device encodes its shard, and all user and pin embeddings are gathered
 * on the first device so the in-batch softmax spans the whole batch), compute {@link
 * TwoTowerLoss}, backward, sum gradients across devices, clip to the global L2 norm, then apply
 * {@link StatefulAdam} with the schedule's learning rate on every device copy.
 *
 * <p><b>One gradient collector per JVM.</b> DJL's PyTorch {@code GradientCollector} is a
 * process-wide singleton (a static flag in {@code PtGradientCollector}); a second one opened
 * concurrently fails with "A PtGradientCollector is already collecting". Every training step
 * therefore runs inside {@code synchronized (TRAINING_LOCK)}, so several trainers in one JVM (e.g.
 * Spark executor task slots) interleave step by step instead of failing. Anything else in the same
 * JVM that opens a DJL gradient collector must take the same lock. Inference (the encoder,
 * {@link #evaluate}) needs no lock. A single trainer instance is not thread-safe.
 *
 * <p>Checkpoints (every N steps and at each epoch end, when a directory is configured) hold the
 * parameters, the Adam moments, the step counter, the epoch position and the epoch's running loss
 * sums; with {@code resume} on, {@link #fit} continues from the latest one and skips the batches
 * already trained. The learning rate is a function of the step and training has no other
 * randomness (no dropout, init is seeded), so a resumed run reproduces the uninterrupted one.
 * {@link #warmStartFrom} loads the parameters of a previous artifact (daily incremental training)
 * with fresh optimizer state; a checkpoint, when present, takes precedence.
 */
public final class TwoTowerTrainer implements AutoCloseable {
    /** JVM-wide lock around every step that uses a DJL gradient collector. */
    public static final Object TRAINING_LOCK = new Object();

    public static final String M_STEP = "global_step";
    public static final String M_EPOCH = "epoch";
    public static final String M_LR = "learning_rate";
    public static final String M_GRAD_NORM = "grad_norm";
    public static final String M_ETA_SECONDS = "eta_seconds";
    public static final String M_LOSS = "train_loss";
    public static final String M_LOSS_CONV = "train_loss_conversion";
    public static final String M_LOSS_ENG = "train_loss_engagement";
    public static final String M_LOSS_ADV = "train_loss_advertiser";
    public static final String M_EPOCH_LOSS = "epoch_train_loss";
    public static final String M_EPOCH_CONV = "epoch_train_loss_conversion";
    public static final String M_EPOCH_ENG = "epoch_train_loss_engagement";
    public static final String M_EPOCH_ADV = "epoch_train_loss_advertiser";
    public static final String M_EPOCH_VAL_LOSS = "epoch_val_loss";
    public static final String M_EPOCH_VAL_CONV = "epoch_val_loss_conversion";
    public static final String M_EPOCH_VAL_ENG = "epoch_val_loss_engagement";
    public static final String M_EPOCH_VAL_ADV = "epoch_val_loss_advertiser";

    /** Names of the step phases timed by {@link #phaseSeconds}, in order. */
    public static final List<String> PHASES = List.of("tensorize", "forward",
            "loss+backward", "clip", "optimizer", "metrics");

    private static final Logger LOG = LoggerFactory.getLogger(TwoTowerTrainer.class);

    private final ModelConfig modelConfig;
    private final FeatureSchema schema;
    private final TrainerConfig config;
    private final Device[] devices;
    private final Model model;
    private final TwoTowerBlock block;
    private final TwoTowerLoss loss;
    private final StatefulAdam optimizer;
    private final LrSchedule schedule;
    private final Trainer djl;
    private final Metrics metrics = new Metrics();
    private final List<StepObserver> observers = new CopyOnWriteArrayList<>();
    private final String configHash;
    private final boolean sparse;
    private final TouchedRows touched;
    private final long[] phaseNanos = new long[PHASES.size()];
    private long phaseSteps;
    private ParameterStore store;
    private long globalStep;
    private int currentEpoch;
    private long progressInEpoch;
    private long progressTotal = -1;
    private double etaSeconds = -1;

    public TwoTowerTrainer(ModelConfig modelConfig, FeatureSchema schema, TrainerConfig config) {
        this(modelConfig, schema, config, List.of());
    }

    /** @param extraListeners DJL listeners added after the progress logger */
    public TwoTowerTrainer(ModelConfig modelConfig, FeatureSchema schema, TrainerConfig config,
            List<TrainingListener> extraListeners) {
        this.modelConfig = modelConfig;
        this.schema = schema;
        this.config = config;
        this.devices = Devices.resolve(config);
        this.configHash = ConfigHash.of(modelConfig, schema);
        if (config.intraOpThreads() > 0) {
            Devices.setIntraOpThreads(config.intraOpThreads());
        }
        Engine.getInstance().setRandomSeed(config.seed());
        model = Model.newInstance("two-tower", devices[0]);
        block = new TwoTowerBlock(modelConfig, schema);
        model.setBlock(block);
        block.initialize(model.getNDManager());
        loss = new TwoTowerLoss(modelConfig);
        schedule = new LrSchedule(config.learningRate(), config.schedule());
        optimizer = StatefulAdam.builder()
                .setLearningRate(schedule)
                .optWeightDecays(config.weightDecay())
                .optDecoupled(config.optimizer() == TrainerConfig.Optimizer.ADAMW)
                .build();
        optimizer.bind(block.getParameters());
        sparse = config.sparseEmbeddingUpdates() && devices.length == 1;
        if (config.sparseEmbeddingUpdates() && !sparse) {
            LOG.warn("sparseEmbeddingUpdates is single-device only; {} devices train the"
                    + " embedding tables densely", devices.length);
        }
        touched = sparse ? TouchedRows.of(schema) : null;
        detachTablesIfSparse();
        DefaultTrainingConfig dtc = new DefaultTrainingConfig(loss)
                .optOptimizer(optimizer)
                .optDevices(devices)
                .addTrainingListeners(new ProgressLoggingListener(config.logEveryNSteps()));
        extraListeners.forEach(dtc::addTrainingListeners);
        djl = model.newTrainer(dtc);
        metrics.setLimit(256);
        djl.setMetrics(metrics);
        LOG.info("two-tower trainer on {} | config hash {} | {} parameters | {} embedding updates",
                List.of(devices), configHash, parameterCount(), sparse ? "row-sparse" : "dense");
    }

    public TwoTowerBlock block() {
        return block;
    }

    public Device[] devices() {
        return devices.clone();
    }

    public long globalStep() {
        return globalStep;
    }

    public String configHash() {
        return configHash;
    }

    public void addStepObserver(StepObserver observer) {
        observers.add(observer);
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : block.getParameters().values()) {
            n += p.getShape().size();
        }
        return n;
    }

    /**
     * Loads the parameters of a previous artifact as the starting point (daily incremental
     * training). The artifact's feature spec and architecture must equal this trainer's.
     */
    public void warmStartFrom(Path artifactDir) {
        ModelArtifact prev = ModelArtifact.read(artifactDir);
        if (!prev.features().equals(schema)) {
            throw new IllegalArgumentException("warm start from " + artifactDir
                    + ": its feature spec differs from this trainer's; allowed: identical specs");
        }
        ModelConfig p = prev.model();
        if (p.embeddingDim() != modelConfig.embeddingDim() || !p.tower().equals(modelConfig.tower())
                || p.heads().mode() != modelConfig.heads().mode()) {
            throw new IllegalArgumentException("warm start from " + artifactDir
                    + ": architecture (embeddingDim, tower, head mode) = " + p.embeddingDim() + ", "
                    + p.tower() + ", " + p.heads().mode() + " differs from this trainer's "
                    + modelConfig.embeddingDim() + ", " + modelConfig.tower() + ", "
                    + modelConfig.heads().mode());
        }
        loadParameters(artifactDir.resolve(ModelArtifact.PARAMS_FILE));
        LOG.info("warm start from artifact {} ({})", prev.versionId(), artifactDir);
    }

    /** Writes the current parameters as a model artifact. */
    public ModelArtifact saveArtifact(Path dir, String versionId) {
        return ModelArtifact.save(dir, block, versionId);
    }

    /**
     * Trains {@code config.epochs()} epochs, resuming from the latest checkpoint when configured.
     *
     * @param train batches per epoch
     * @param validation optional validation batches per epoch (null for none)
     * @return metrics of the epochs run by this call (a resumed epoch reports all its batches)
     */
    public List<EpochMetrics> fit(EpochSource train, EpochSource validation) {
        return fit(train, validation, m -> true);
    }

    /**
     * As {@link #fit(EpochSource, EpochSource)}, calling {@code onEpoch} after each epoch's validation and epoch-end
     * checkpoint; training stops early when it returns false (early stopping, per-epoch evaluation).
     */
    public List<EpochMetrics> fit(EpochSource train, EpochSource validation,
            Predicate<EpochMetrics> onEpoch) {
        Checkpoints ckpt = config.checkpointDir().isEmpty()
                ? null
                : new Checkpoints(Path.of(config.checkpointDir()), config.keepCheckpoints());
        int startEpoch = 0;
        long skip = 0;
        LossValues sums = LossValues.ZERO;
        long examples = 0;
        if (ckpt != null && config.resume()) {
            Optional<Path> latest = ckpt.latest();
            if (latest.isPresent()) {
                Checkpoints.State s = restore(latest.get());
                startEpoch = s.epoch();
                skip = s.batchesInEpoch();
                sums = s.lossSums();
                examples = s.examples();
            }
        }
        List<EpochMetrics> out = new ArrayList<>();
        long runStartStep = globalStep;
        long runStartNanos = System.nanoTime();
        long lastEpochSteps = train.stepsPerEpoch();
        for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
            long t0 = System.nanoTime();
            Iterator<TrainingBatch> it = train.open(epoch);
            long done = 0;
            while (done < skip && it.hasNext()) {
                it.next();
                done++;
            }
            if (done < skip) {
                throw new IllegalStateException("epoch " + epoch + " yields only " + done
                        + " batches but the checkpoint had trained " + skip
                        + "; the data source must replay the same batches on resume");
            }
            currentEpoch = epoch;
            progressTotal = lastEpochSteps;
            while (it.hasNext()) {
                TrainingBatch batch = it.next();
                progressInEpoch = done;
                etaSeconds = eta(runStartStep, runStartNanos, lastEpochSteps, epoch, done);
                LossValues lv = trainStep(batch);
                done++;
                sums = sums.plus(lv, batch.rows());
                examples += batch.rows();
                if (ckpt != null && config.checkpointEveryNSteps() > 0
                        && globalStep % config.checkpointEveryNSteps() == 0) {
                    checkpoint(ckpt, new Checkpoints.State(configHash, globalStep, epoch, done,
                            sums, examples));
                }
            }
            LossValues trainMean = sums.scaled(1.0 / Math.max(1, examples));
            LossValues val = validation == null ? null : evaluate(validation.open(epoch));
            record(M_EPOCH_LOSS, M_EPOCH_CONV, M_EPOCH_ENG, M_EPOCH_ADV, trainMean);
            if (val != null) {
                record(M_EPOCH_VAL_LOSS, M_EPOCH_VAL_CONV, M_EPOCH_VAL_ENG, M_EPOCH_VAL_ADV, val);
            }
            djl.notifyListeners(l -> l.onEpoch(djl));
            out.add(new EpochMetrics(epoch, done, examples, (System.nanoTime() - t0) / 1e9,
                    trainMean, val));
            if (ckpt != null) {
                checkpoint(ckpt, new Checkpoints.State(configHash, globalStep, epoch + 1, 0,
                        LossValues.ZERO, 0));
            }
            lastEpochSteps = done;
            skip = 0;
            sums = LossValues.ZERO;
            examples = 0;
            if (!onEpoch.test(out.get(out.size() - 1))) {
                break;
            }
        }
        return out;
    }

    private double eta(long runStartStep, long runStartNanos, long stepsPerEpoch, int epoch,
            long done) {
        long stepsThisRun = globalStep - runStartStep;
        if (stepsPerEpoch <= 0 || stepsThisRun == 0) {
            return -1;
        }
        double secPerStep = (System.nanoTime() - runStartNanos) / 1e9 / stepsThisRun;
        long remaining = (config.epochs() - epoch - 1) * stepsPerEpoch
                + Math.max(0, stepsPerEpoch - done);
        return remaining * secPerStep;
    }

    /** One optimizer step on one batch; returns the batch's loss terms before the update. */
    public LossValues trainStep(TrainingBatch batch) {
        synchronized (TRAINING_LOCK) {
            ParameterStore ps = store();
            try (NDManager sm = model.getNDManager().newSubManager(devices[0])) {
                long t0 = System.nanoTime();
                int h = usableHardNegatives(batch);
                NDList labels = TwoTowerLoss.labels(sm, modelConfig, batch, h);
                NDList terms;
                double gradNorm;
                long t1;
                long t2;
                long t3;
                long tc;
                if (sparse) {
                    SparseInputs si = sparseInputs(sm, batch, h);
                    block.tables().useCompact(si.compact);
                    try (GradientCollector gc = djl.newGradientCollector()) {
                        t1 = System.nanoTime();
                        NDList preds = block.forward(ps, si.inputs, true);
                        t2 = System.nanoTime();
                        terms = loss.terms(labels, preds);
                        gc.backward(terms.head());
                    } finally {
                        block.tables().useCompact(null);
                    }
                    t3 = System.nanoTime();
                    gradNorm = clipSparse(si);
                    tc = System.nanoTime();
                    optimizer.setStep((int) (globalStep + 1));
                    updateSparse(ps, si);
                } else {
                    try (GradientCollector gc = djl.newGradientCollector()) {
                        t1 = System.nanoTime();
                        NDList preds = forward(ps, sm, batch, h, true);
                        t2 = System.nanoTime();
                        terms = loss.terms(labels, preds);
                        gc.backward(terms.head());
                    }
                    t3 = System.nanoTime();
                    gradNorm = aggregateAndClip(ps);
                    tc = System.nanoTime();
                    optimizer.setStep((int) (globalStep + 1));
                    ps.updateAllParameters();
                }
                long t4 = System.nanoTime();
                phaseNanos[0] += t1 - t0;
                phaseNanos[1] += t2 - t1;
                phaseNanos[2] += t3 - t2;
                phaseNanos[3] += tc - t3;
                phaseNanos[4] += t4 - tc;
                globalStep++;
                float[] v = NDArrays.stack(terms).toFloatArray();
                LossValues lv = new LossValues(v[0], v[1], v[2], v[3]);
                metrics.addMetric(M_STEP, globalStep);
                metrics.addMetric(M_EPOCH, currentEpoch);
                metrics.addMetric(M_LR, schedule.getNewValue((int) globalStep - 1));
                metrics.addMetric(M_GRAD_NORM, gradNorm);
                metrics.addMetric(M_ETA_SECONDS, etaSeconds);
                record(M_LOSS, M_LOSS_CONV, M_LOSS_ENG, M_LOSS_ADV, lv);
                Batch info = new Batch(sm, new NDList(), new NDList(), batch.rows(), null, null,
                        progressInEpoch + 1, progressTotal);
                TrainingListener.BatchData data = new TrainingListener.BatchData(info,
                        Map.of(), Map.of());
                djl.notifyListeners(l -> l.onTrainingBatch(djl, data));
                for (StepObserver o : observers) {
                    o.onStep(globalStep, currentEpoch, lv);
                }
                phaseNanos[5] += System.nanoTime() - t4;
                phaseSteps++;
                return lv;
            }
        }
    }

    /**
     * Seconds spent per step phase ({@link #PHASES}) since construction or the last {@link
     * #resetPhaseTimes}, averaged per step. On CPU libtorch runs eagerly, so the phase boundaries
     * are accurate; on a GPU they would measure kernel launches only.
     */
    public Map<String, Double> phaseSeconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < PHASES.size(); i++) {
            out.put(PHASES.get(i), phaseSteps == 0 ? 0 : phaseNanos[i] / 1e9 / phaseSteps);
        }
        return out;
    }

    public void resetPhaseTimes() {
        Arrays.fill(phaseNanos, 0);
        phaseSteps = 0;
    }

    /** Whether this trainer updates the embedding tables row-sparsely (lazy Adam). */
    public boolean sparseEmbeddingUpdates() {
        return sparse;
    }

    /** Inputs holding compact slots, and per table the touched rows and their leaf copy. */
    private record SparseInputs(NDList inputs, Map<String, NDArray> compact,
            Map<String, NDArray> rows) {}

    private SparseInputs sparseInputs(NDManager sm, TrainingBatch batch, int h) {
        FeatureBatch pins = pinBatch(batch, h);
        touched.reset();
        NDList in = FeatureTensors.tensorize(sm, schema.user(), batch.user(), touched);
        in.addAll(FeatureTensors.tensorize(sm, schema.pin(), pins, touched));
        Map<String, NDArray> compact = new LinkedHashMap<>();
        Map<String, NDArray> rows = new LinkedHashMap<>();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, Parameter> e : block.tables().parameters().entrySet()) {
                NDArray r = sm.create(touched.rowsWithPadding(e.getKey()));
                NDArray c = Embedding.embedding(r, e.getValue().getArray(), SparseFormat.DENSE)
                        .singletonOrThrow();
                c.setRequiresGradient(true); // a fresh leaf: the backward stops here
                rows.put(e.getKey(), r);
                compact.put(e.getKey(), c);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return new SparseInputs(in, compact, rows);
    }

    /** Parameters updated densely: everything but the tables in sparse mode. */
    private List<Parameter> denseParameters() {
        List<Parameter> out = new ArrayList<>();
        Collection<Parameter> tables = block.tables().parameters().values();
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient() && !(sparse && tables.contains(p))) {
                out.add(p);
            }
        }
        return out;
    }

    /** Global-norm clip over the dense gradients and the compact table gradients. */
    private double clipSparse(SparseInputs si) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (Parameter p : denseParameters()) {
                grads.add(p.getArray().getGradient());
            }
            for (NDArray c : si.compact.values()) {
                grads.add(c.getGradient());
            }
            return clip(grads);
        } finally {
            grads.forEach(NDArray::close);
        }
    }

    private void updateSparse(ParameterStore ps, SparseInputs si) {
        for (Parameter p : denseParameters()) {
            NDArray w = ps.getValue(p, devices[0], true);
            try (NDArray g = w.getGradient()) {
                optimizer.update(p.getId(), w, g);
            }
        }
        for (Map.Entry<String, Parameter> e : block.tables().parameters().entrySet()) {
            NDArray c = si.compact.get(e.getKey());
            try (NDArray g = c.getGradient()) {
                optimizer.updateRows(e.getValue().getId(), e.getValue().getArray(),
                        si.rows.get(e.getKey()), c, g);
            }
        }
    }

    /** In sparse mode the full tables never enter the autograd graph. */
    private void detachTablesIfSparse() {
        if (sparse) {
            for (Parameter p : block.tables().parameters().values()) {
                p.getArray().setRequiresGradient(false);
            }
        }
    }

    /** Row-weighted mean loss terms over batches, without updating anything. */
    public LossValues evaluate(Iterator<TrainingBatch> batches) {
        ParameterStore ps = store();
        LossValues sums = LossValues.ZERO;
        long rows = 0;
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            while (batches.hasNext()) {
                TrainingBatch batch = batches.next();
                try (NDManager sm = model.getNDManager().newSubManager(devices[0])) {
                    int h = usableHardNegatives(batch);
                    NDList labels = TwoTowerLoss.labels(sm, modelConfig, batch, h);
                    NDList terms = loss.terms(labels, forward(ps, sm, batch, h, false));
                    float[] v = NDArrays.stack(terms).toFloatArray();
                    sums = sums.plus(new LossValues(v[0], v[1], v[2], v[3]), batch.rows());
                    rows += batch.rows();
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
        return rows == 0 ? null : sums.scaled(1.0 / rows);
    }

    private int usableHardNegatives(TrainingBatch batch) {
        if (!modelConfig.hardNegatives().enabled()) {
            return 0;
        }
        return Math.min(batch.hardNegatives(), modelConfig.hardNegatives().maxCount());
    }

    private static FeatureBatch pinBatch(TrainingBatch batch, int h) {
        return h == 0
                ? batch.pin()
                : FeatureBatch.concat(batch.pin(), h == batch.hardNegatives()
                        ? batch.hardNegativePins()
                        : batch.hardNegativePins().slice(0, h));
    }

    private NDList forward(ParameterStore ps, NDManager sm, TrainingBatch batch, int h,
            boolean training) {
        FeatureBatch pins = pinBatch(batch, h);
        if (devices.length == 1) {
            NDList in = FeatureTensors.tensorize(sm, schema.user(), batch.user());
            in.addAll(FeatureTensors.tensorize(sm, schema.pin(), pins));
            return block.forward(ps, in, training);
        }
        int n = devices.length;
        int b = batch.rows();
        int c = pins.rows();
        if (b < n) {
            throw new IllegalArgumentException("batch rows = " + b + " is invalid with " + n
                    + " devices; allowed: at least one row per device");
        }
        List<NDList> shards = new ArrayList<>(n);
        for (int d = 0; d < n; d++) {
            NDManager dm = sm.newSubManager(devices[d]);
            NDList in = FeatureTensors.tensorize(dm, schema.user(),
                    batch.user().slice(d * b / n, (d + 1) * b / n));
            in.addAll(FeatureTensors.tensorize(dm, schema.pin(),
                    pins.slice(d * c / n, (d + 1) * c / n)));
            shards.add(block.forward(ps, in, training));
        }
        int outputs = shards.get(0).size();
        NDList gathered = new NDList(outputs);
        for (int k = 0; k < outputs - 1; k++) {
            NDList parts = new NDList(n);
            for (NDList shard : shards) {
                parts.add(shard.get(k).toDevice(devices[0], false));
            }
            gathered.add(NDArrays.concat(parts, 0));
        }
        NDList taus = new NDList(n);
        for (NDList shard : shards) {
            taus.add(shard.get(outputs - 1).toDevice(devices[0], false));
        }
        gathered.add(NDArrays.stack(taus).mean(new int[] {0}));
        return gathered;
    }

    /** Sums device gradients into the first device, clips to the global norm, returns the norm. */
    private double aggregateAndClip(ParameterStore ps) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (Parameter p : block.getParameters().values()) {
                if (!p.requiresGradient()) {
                    continue;
                }
                NDArray g0 = ps.getValue(p, devices[0], true).getGradient();
                grads.add(g0);
                for (int d = 1; d < devices.length; d++) {
                    try (NDArray gd = ps.getValue(p, devices[d], true).getGradient();
                            NDArray moved = gd.toDevice(devices[0], true)) {
                        g0.addi(moved);
                        gd.subi(gd);
                    }
                }
            }
            return clip(grads);
        } finally {
            grads.forEach(NDArray::close);
        }
    }

    /** Scales the gradients in place to the configured global L2 norm; returns the norm. */
    private double clip(List<NDArray> grads) {
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray n = g.norm()) {
                double v = n.getFloat();
                sq += v * v;
            }
        }
        double norm = Math.sqrt(sq);
        if (config.gradClipNorm() > 0 && norm > config.gradClipNorm()) {
            float scale = (float) (config.gradClipNorm() / norm);
            for (NDArray g : grads) {
                g.muli(scale);
            }
        }
        return norm;
    }

    private ParameterStore store() {
        if (store == null) {
            store = new ParameterStore(model.getNDManager(), false);
            store.setParameterServer(new LocalParameterServer(optimizer), devices);
        }
        return store;
    }

    private void record(String total, String conv, String eng, String adv, LossValues v) {
        metrics.addMetric(total, v.total());
        metrics.addMetric(conv, v.conversion());
        metrics.addMetric(eng, v.engagement());
        metrics.addMetric(adv, v.advertiser());
    }

    private void checkpoint(Checkpoints ckpt, Checkpoints.State state) {
        synchronized (TRAINING_LOCK) {
            Path dir = ckpt.save(state, tmp -> {
                ModelArtifact.writeParams(tmp.resolve(Checkpoints.PARAMS), block);
                try (OutputStream os = new BufferedOutputStream(
                        Files.newOutputStream(tmp.resolve(Checkpoints.OPTIMIZER)), 1 << 20);
                        NDList state0 = optimizer.exportState()) {
                    state0.encode(os);
                }
            });
            LOG.info("checkpoint {} (epoch {}, {} batches into it)", dir, state.epoch(),
                    state.batchesInEpoch());
        }
    }

    private Checkpoints.State restore(Path dir) {
        Checkpoints.State s = Checkpoints.readState(dir);
        if (!configHash.equals(s.configHash())) {
            throw new IllegalStateException("checkpoint " + dir + " has config hash "
                    + s.configHash() + " but this trainer's model config + feature spec hash to "
                    + configHash + "; use another checkpointDir or set resume = false");
        }
        loadParameters(dir.resolve(Checkpoints.PARAMS));
        try (InputStream is = new BufferedInputStream(
                Files.newInputStream(dir.resolve(Checkpoints.OPTIMIZER)), 1 << 20)) {
            optimizer.importState(NDList.decode(model.getNDManager(), is), model.getNDManager());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read optimizer state in " + dir, e);
        }
        globalStep = s.globalStep();
        LOG.info("resumed from {} at step {} (epoch {}, {} batches into it)", dir, globalStep,
                s.epoch(), s.batchesInEpoch());
        return s;
    }

    private void loadParameters(Path paramsFile) {
        synchronized (TRAINING_LOCK) {
            block.getParameters().values().forEach(Parameter::close);
            ModelArtifact.loadParams(paramsFile, block, model.getNDManager());
            for (Parameter p : block.getParameters().values()) {
                if (p.requiresGradient()) {
                    p.getArray().setRequiresGradient(true);
                }
            }
            optimizer.bind(block.getParameters());
            detachTablesIfSparse();
            store = null;
        }
    }

    @Override
    public void close() {
        djl.close();
        model.close();
    }
}
