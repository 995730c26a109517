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
import ai.djl.training.listener.EarlyStoppingListener.EarlyStoppedException;
import ai.djl.training.listener.TrainingListener;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.loss.TwoTowerLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
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
 * <p>Side concerns are DJL {@link TrainingListener}s, notified after every step and epoch: the {@link EtaListener},
 * the {@link ProgressLoggingListener}, the {@link CheckpointListener} and any the caller adds (such as
 * {@link EarlyStopping}); they read the values recorded under {@link TrainingMetrics}' names.
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
    private final CheckpointListener checkpoints;
    private ParameterStore store;
    private long globalStep;
    /** The position within the current epoch, advanced by every step and checkpointed. */
    private int currentEpoch;

    private long batchesInEpoch;
    private long epochExamples;
    private LossValues epochSums = LossValues.ZERO;
    private long epochLength = -1;

    public TwoTowerTrainer(ModelConfig modelConfig, FeatureSchema schema, TrainerConfig config) {
        this(modelConfig, schema, config, List.of());
    }

    /** @param extraListeners DJL listeners notified after the trainer's own (ETA, progress log, checkpoints) */
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
        sparse = RowSparseUpdate.when(config, block, devices, schema, optimizer);
        checkpoints = new CheckpointListener(config, configHash, block, optimizer, this::position);
        DefaultTrainingConfig dtc = new DefaultTrainingConfig(loss)
                .optOptimizer(optimizer)
                .optDevices(devices)
                .addTrainingListeners(
                        new EtaListener(config.epochs()),
                        new ProgressLoggingListener(config.logEveryNSteps()),
                        checkpoints);
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
        return fit(train, validation, m -> {});
    }

    /**
     * As {@link #fit(EpochSource, EpochSource)}, calling {@code onEpoch} after each epoch's validation, listeners and
     * epoch-end checkpoint (per-epoch evaluation, keeping the best epoch). A listener that throws DJL's
     * {@link EarlyStoppedException} from {@code onEpoch} ends the fit after that epoch.
     */
    public List<EpochMetrics> fit(EpochSource train, EpochSource validation, Consumer<EpochMetrics> onEpoch) {
        Checkpoints.State start = checkpoints
                .resumable()
                .map(this::restore)
                .orElse(new Checkpoints.State(configHash, globalStep, 0, 0, LossValues.ZERO, 0));
        List<EpochMetrics> out = new ArrayList<>();
        epochLength = train.stepsPerEpoch();
        djl.notifyListeners(l -> l.onTrainingBegin(djl));
        try {
            for (int epoch = start.epoch(); epoch < config.epochs(); epoch++) {
                long t0 = System.nanoTime();
                boolean resumed = epoch == start.epoch();
                long skip = resumed ? start.batchesInEpoch() : 0;
                Iterator<TrainingBatch> it = train.open(epoch);
                for (long skipped = 0; skipped < skip; skipped++) {
                    if (!it.hasNext()) {
                        throw new IllegalStateException("epoch " + epoch + " yields only " + skipped
                                + " batches but the checkpoint had trained " + skip
                                + "; the data source must replay the same batches on resume");
                    }
                    it.next();
                }
                currentEpoch = epoch;
                batchesInEpoch = skip;
                epochSums = resumed ? start.lossSums() : LossValues.ZERO;
                epochExamples = resumed ? start.examples() : 0;
                while (it.hasNext()) {
                    trainStep(it.next());
                }
                LossValues trainMean = epochSums.scaled(1.0 / Math.max(1, epochExamples));
                LossValues val = validation == null ? null : evaluate(validation.open(epoch));
                TrainingMetrics.recordEpoch(metrics, trainMean, val);
                boolean stop = false;
                try {
                    djl.notifyListeners(l -> l.onEpoch(djl));
                } catch (EarlyStoppedException e) {
                    stop = true;
                }
                EpochMetrics m = new EpochMetrics(
                        epoch, batchesInEpoch, epochExamples, (System.nanoTime() - t0) / 1e9, trainMean, val);
                out.add(m);
                epochLength = batchesInEpoch;
                onEpoch.accept(m);
                if (stop) {
                    break;
                }
            }
        } finally {
            djl.notifyListeners(l -> l.onTrainingEnd(djl));
        }
        return out;
    }

    /** Where training stands: the state a checkpoint saves. */
    private Checkpoints.State position() {
        return new Checkpoints.State(configHash, globalStep, currentEpoch, batchesInEpoch, epochSums, epochExamples);
    }

    /** One optimizer step on one batch; returns the batch's loss terms before the update. */
    public LossValues trainStep(TrainingBatch batch) {
        synchronized (TRAINING_LOCK) {
            ParameterStore ps = store();
            try (NDManager sm = model.getNDManager().newSubManager(devices[0])) {
                phases.begin();
                int h = TwoTowerLoss.hardNegativesUsed(modelConfig, batch);
                NDList labels = TwoTowerLoss.labels(sm, modelConfig, batch, h);
                RowSparseUpdate.Inputs si = sparse == null ? null : sparse.inputs(sm, batch, batch.softmaxPins(h));
                block.tables().useCompact(si == null ? null : si.compact());
                NDList terms;
                try (GradientCollector gc = djl.newGradientCollector()) {
                    phases.lap();
                    NDList preds = si != null
                            ? block.forward(ps, si.inputs(), true)
                            : DataParallelForward.forward(
                                    block, schema, devices, ps, sm, batch.user(), batch.softmaxPins(h), true);
                    phases.lap();
                    terms = loss.terms(labels, preds);
                    gc.backward(terms.head());
                } finally {
                    block.tables().useCompact(null);
                }
                phases.lap();
                double gradNorm = si != null
                        ? sparse.clip(si, config.gradClipNorm())
                        : Gradients.sumOnFirstDeviceAndClip(ps, block, devices, config.gradClipNorm());
                phases.lap();
                optimizer.setStep((int) (globalStep + 1));
                if (si != null) {
                    sparse.update(ps, si);
                } else {
                    ps.updateAllParameters();
                }
                phases.lap();
                globalStep++;
                float[] v = NDArrays.stack(terms).toFloatArray();
                LossValues lv = new LossValues(v[0], v[1], v[2], v[3]);
                batchesInEpoch++;
                epochSums = epochSums.plus(lv, batch.rows());
                epochExamples += batch.rows();
                TrainingMetrics.recordStep(
                        metrics, globalStep, currentEpoch, schedule.getNewValue((int) globalStep - 1), gradNorm, lv);
                Batch info = new Batch(
                        sm, new NDList(), new NDList(), batch.rows(), null, null, batchesInEpoch, epochLength);
                TrainingListener.BatchData data = new TrainingListener.BatchData(info, Map.of(), Map.of());
                djl.notifyListeners(l -> l.onTrainingBatch(djl, data));
                for (StepObserver o : observers) {
                    o.onStep(globalStep, currentEpoch, lv);
                }
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
                    int h = TwoTowerLoss.hardNegativesUsed(modelConfig, batch);
                    NDList labels = TwoTowerLoss.labels(sm, modelConfig, batch, h);
                    NDList terms = loss.terms(
                            labels,
                            DataParallelForward.forward(
                                    block, schema, devices, ps, sm, batch.user(), batch.softmaxPins(h), false));
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

    private ParameterStore store() {
        if (store == null) {
            store = new ParameterStore(model.getNDManager(), false);
            store.setParameterServer(new LocalParameterServer(optimizer), devices);
        }
        return store;
    }

    private Checkpoints.State restore(CheckpointListener.Resume r) {
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
