package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
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
import dev.convcg.model.loss.TwoTowerLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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

    /** Names of the step phases timed by {@link #phaseSeconds}, in order. */
    public static final List<String> PHASES = StepPhases.NAMES;

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
    /** Row-sparse table updates, or null for dense ones. */
    private final RowSparseUpdate sparse;

    private final StepPhases phases = new StepPhases();
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
    public TwoTowerTrainer(
            ModelConfig modelConfig,
            FeatureSchema schema,
            TrainerConfig config,
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
        sparse = config.sparseEmbeddingUpdates() && devices.length == 1
                ? new RowSparseUpdate(block, devices[0], schema, optimizer)
                : null;
        if (config.sparseEmbeddingUpdates() && sparse == null) {
            LOG.warn(
                    "sparseEmbeddingUpdates is single-device only; {} devices train the" + " embedding tables densely",
                    devices.length);
        }
        if (sparse != null) {
            sparse.detachTables();
        }
        DefaultTrainingConfig dtc = new DefaultTrainingConfig(loss)
                .optOptimizer(optimizer)
                .optDevices(devices)
                .addTrainingListeners(new ProgressLoggingListener(config.logEveryNSteps()));
        extraListeners.forEach(dtc::addTrainingListeners);
        djl = model.newTrainer(dtc);
        metrics.setLimit(256);
        djl.setMetrics(metrics);
        LOG.info(
                "two-tower trainer on {} | config hash {} | {} parameters | {} embedding updates",
                List.of(devices),
                configHash,
                parameterCount(),
                sparse != null ? "row-sparse" : "dense");
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
        prev.requireWarmStartable(modelConfig, schema, artifactDir);
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
    public List<EpochMetrics> fit(EpochSource train, EpochSource validation, Predicate<EpochMetrics> onEpoch) {
        CheckpointPolicy ckpt = new CheckpointPolicy(config, configHash);
        Checkpoints.State resumed = ckpt.resumable()
                .map(this::restore)
                .orElse(new Checkpoints.State(configHash, globalStep, 0, 0, LossValues.ZERO, 0));
        int startEpoch = resumed.epoch();
        long skip = resumed.batchesInEpoch();
        LossValues sums = resumed.lossSums();
        long examples = resumed.examples();
        List<EpochMetrics> out = new ArrayList<>();
        Eta eta = new Eta(globalStep, config.epochs());
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
                etaSeconds = eta.seconds(globalStep, lastEpochSteps, epoch, done);
                LossValues lv = trainStep(batch);
                done++;
                sums = sums.plus(lv, batch.rows());
                examples += batch.rows();
                ckpt.afterStep(block, optimizer, globalStep, epoch, done, sums, examples);
            }
            LossValues trainMean = sums.scaled(1.0 / Math.max(1, examples));
            LossValues val = validation == null ? null : evaluate(validation.open(epoch));
            TrainingMetrics.recordEpoch(metrics, trainMean, val);
            djl.notifyListeners(l -> l.onEpoch(djl));
            out.add(new EpochMetrics(epoch, done, examples, (System.nanoTime() - t0) / 1e9, trainMean, val));
            ckpt.afterEpoch(block, optimizer, globalStep, epoch);
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

    /** Seconds left in the run at the pace of its steps so far. */
    private record Eta(long startStep, long startNanos, int epochs) {
        Eta(long startStep, int epochs) {
            this(startStep, System.nanoTime(), epochs);
        }

        double seconds(long step, long stepsPerEpoch, int epoch, long doneInEpoch) {
            long steps = step - startStep;
            if (stepsPerEpoch <= 0 || steps == 0) {
                return -1;
            }
            double secPerStep = (System.nanoTime() - startNanos) / 1e9 / steps;
            return ((epochs - epoch - 1) * stepsPerEpoch + Math.max(0, stepsPerEpoch - doneInEpoch)) * secPerStep;
        }
    }

    /** One optimizer step on one batch; returns the batch's loss terms before the update. */
    public LossValues trainStep(TrainingBatch batch) {
        synchronized (TRAINING_LOCK) {
            ParameterStore ps = store();
            try (NDManager sm = model.getNDManager().newSubManager(devices[0])) {
                long t0 = System.nanoTime();
                int h = usableHardNegatives(batch);
                NDList labels = TwoTowerLoss.labels(sm, modelConfig, batch, h);
                RowSparseUpdate.Inputs si = sparse == null ? null : sparse.inputs(sm, batch, pinBatch(batch, h));
                block.tables().useCompact(si == null ? null : si.compact());
                NDList terms;
                long t1;
                long t2;
                try (GradientCollector gc = djl.newGradientCollector()) {
                    t1 = System.nanoTime();
                    NDList preds = si != null
                            ? block.forward(ps, si.inputs(), true)
                            : DataParallelForward.forward(
                                    block, schema, devices, ps, sm, batch.user(), pinBatch(batch, h), true);
                    t2 = System.nanoTime();
                    terms = loss.terms(labels, preds);
                    gc.backward(terms.head());
                } finally {
                    block.tables().useCompact(null);
                }
                long t3 = System.nanoTime();
                double gradNorm = si != null
                        ? sparse.clip(si, config.gradClipNorm())
                        : Gradients.sumOnFirstDeviceAndClip(ps, block, devices, config.gradClipNorm());
                long tc = System.nanoTime();
                optimizer.setStep((int) (globalStep + 1));
                if (si != null) {
                    sparse.update(ps, si);
                } else {
                    ps.updateAllParameters();
                }
                long t4 = System.nanoTime();
                phases.add(0, t1 - t0);
                phases.add(1, t2 - t1);
                phases.add(2, t3 - t2);
                phases.add(3, tc - t3);
                phases.add(4, t4 - tc);
                globalStep++;
                float[] v = NDArrays.stack(terms).toFloatArray();
                LossValues lv = new LossValues(v[0], v[1], v[2], v[3]);
                TrainingMetrics.recordStep(
                        metrics,
                        globalStep,
                        currentEpoch,
                        schedule.getNewValue((int) globalStep - 1),
                        gradNorm,
                        etaSeconds,
                        lv);
                Batch info = new Batch(
                        sm, new NDList(), new NDList(), batch.rows(), null, null, progressInEpoch + 1, progressTotal);
                TrainingListener.BatchData data = new TrainingListener.BatchData(info, Map.of(), Map.of());
                djl.notifyListeners(l -> l.onTrainingBatch(djl, data));
                for (StepObserver o : observers) {
                    o.onStep(globalStep, currentEpoch, lv);
                }
                phases.add(5, System.nanoTime() - t4);
                phases.endStep();
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
        return phases.secondsPerStep();
    }

    public void resetPhaseTimes() {
        phases.reset();
    }

    /** Whether this trainer updates the embedding tables row-sparsely (lazy Adam). */
    public boolean sparseEmbeddingUpdates() {
        return sparse != null;
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
                    NDList terms = loss.terms(
                            labels,
                            DataParallelForward.forward(
                                    block, schema, devices, ps, sm, batch.user(), pinBatch(batch, h), false));
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
                : FeatureBatch.concat(
                        batch.pin(),
                        h == batch.hardNegatives()
                                ? batch.hardNegativePins()
                                : batch.hardNegativePins().slice(0, h));
    }

    private ParameterStore store() {
        if (store == null) {
            store = new ParameterStore(model.getNDManager(), false);
            store.setParameterServer(new LocalParameterServer(optimizer), devices);
        }
        return store;
    }

    private Checkpoints.State restore(CheckpointPolicy.Resume r) {
        Path dir = r.dir();
        Checkpoints.State s = r.state();
        loadParameters(dir.resolve(Checkpoints.PARAMS));
        Checkpoints.readOptimizer(dir, optimizer, model.getNDManager());
        globalStep = s.globalStep();
        LOG.info(
                "resumed from {} at step {} (epoch {}, {} batches into it)",
                dir,
                globalStep,
                s.epoch(),
                s.batchesInEpoch());
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
            if (sparse != null) {
                sparse.detachTables();
            }
            store = null;
        }
    }

    @Override
    public void close() {
        djl.close();
        model.close();
    }
}
