package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import com.google.gson.Gson;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.config.PipelineConfig.TrainSettings;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.modelspark.train.EpochOrder;
import dev.convcg.modelspark.train.TrainSpec;
import dev.convcg.modelspark.train.TrainTask;
import dev.convcg.modelspark.train.TrainingSchema;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the two-tower model on {@code training_examples} inside one Spark task (see {@link TrainTask}) and publishes
 * the artifact to the model store. Cold runs read {@code train.window-days} up to the run date; with
 * {@code train.warm-start} the run starts from the LATEST model and reads only the days after the last day that
 * model trained on. The last {@code train.validation-days} are held out for validation. Each epoch is a fresh
 * global shuffle by a hash of (example id, epoch, seed), so a resumed run replays the same batches.
 */
public final class TrainStage implements Stage {
    public static final String TRAINING_EXAMPLES = TrainingDataSchemas.TRAINING_EXAMPLES_TABLE;
    private static final Logger LOG = LoggerFactory.getLogger(TrainStage.class);

    @Override
    public String name() {
        return "train";
    }

    /**
     * Trains and publishes the conversion model and, when {@code engagement-retriever.enabled}, the click-trained
     * engagement retriever after it (its own model store and lineage, {@link PipelineConfig#engagementRetrieverConfig}).
     */
    @Override
    public StageReport run(StageContext ctx) throws Exception {
        return Retrievers.both(ctx, "train the engagement retriever", TrainStage::trainModel);
    }

    private static StageReport trainModel(StageContext ctx) throws Exception {
        PipelineConfig c = ctx.config();
        TrainSettings ts = c.train();
        LocalDate runDate = ctx.runDate();
        FeatureSchema schema = schema(c);
        ModelStore store = new ModelStore(Path.of(ts.modelStore()));

        LocalDate from = runDate.minusDays(ts.windowDays() - 1L);
        Optional<ModelStore.TrainingRecord> parent = ts.warmStart() ? store.warmStartParent(runDate) : Optional.empty();
        if (parent.isPresent() && parent.get().trainedThroughDate().plusDays(1).isAfter(from)) {
            from = parent.get().trainedThroughDate().plusDays(1);
        }
        LocalDate trainThrough = runDate.minusDays(ts.validationDays());
        if (trainThrough.isBefore(from)) {
            throw new IllegalStateException("nothing to train on: the window " + from + ".." + runDate
                    + " holds only the " + ts.validationDays()
                    + " validation day(s); lower train.validation-days or run a later day");
        }
        String parentVersion = parent.map(ModelStore.TrainingRecord::versionId).orElse(null);
        Dataset<Row> examples = ctx.tables()
                .readDays(TRAINING_EXAMPLES, from.toString(), runDate.toString())
                .filter(col("event_type").isin(ts.eventTypes().toArray()));
        Row counts = examples.agg(
                        sum(when(
                                        col("ds")
                                                .leq(trainThrough.toString())
                                                .and(col("task").notEqual("NEGATIVE")),
                                        1)
                                .otherwise(0)),
                        sum(when(
                                        col("ds")
                                                .gt(trainThrough.toString())
                                                .and(col("task").notEqual("NEGATIVE")),
                                        1)
                                .otherwise(0)),
                        sum(when(col("task").equalTo("NEGATIVE"), 1).otherwise(0)))
                .first();
        long trainPositives = counts.isNullAt(0) ? 0 : counts.getLong(0);
        long validationPositives = counts.isNullAt(1) ? 0 : counts.getLong(1);
        if (trainPositives == 0) {
            throw new IllegalStateException("no training examples in " + from + ".." + trainThrough + " of "
                    + ctx.tables().path(TRAINING_EXAMPLES) + ": run build-training-data for those days first");
        }
        try {
            schema = TrainingSchema.sizedToData(
                    examples,
                    schema,
                    c.maxHashBuckets(),
                    c.hashBucketsLimit(),
                    parent.map(p ->
                            ModelArtifact.read(store.artifactDir(p.versionId())).features()));
        } catch (TrainingSchema.TableLimitException e) {
            throw new InvalidConfigException(e.getMessage(), e);
        }
        String configHash = ConfigHash.of(c.model(), schema);
        String version = ModelStore.versionId(
                runDate,
                configHash
                        + TrainSpec.json(ts.trainer())
                        + from
                        + parentVersion
                        + ts.eventTypes()
                        + ts.durationWeights());
        LOG.info(
                "training {} on {}..{} ({} positives), validating on {}..{} ({} positives), {} hard negatives{}",
                version,
                from,
                trainThrough,
                trainPositives,
                trainThrough.plusDays(1),
                runDate,
                validationPositives,
                counts.isNullAt(2) ? 0 : counts.getLong(2),
                parent.map(p -> ", warm start from " + p.versionId()).orElse(""));

        Path staging = store.newStagingDir(version);
        TrainerConfig trainer = withThreads(ctx, ts.trainer())
                .withCheckpoints(
                        store.checkpointDir(version).toString(), ts.trainer().checkpointEveryNSteps());
        TrainSpec spec = new TrainSpec(
                TrainSpec.json(c.model()),
                TrainSpec.json(schema),
                TrainSpec.json(trainer),
                version,
                staging.toString(),
                parentVersion == null ? null : store.artifactDir(parentVersion).toString(),
                ts.earlyStoppingPatience(),
                ts.earlyStoppingMinDelta(),
                ts.restoreBest(),
                ts.sampledRecallK(),
                ts.sampledConversions(),
                ts.sampledCandidates(),
                trainPositives);
        Dataset<Row> sorted = EpochOrder.of(
                        examples, schema, trainThrough, trainer.epochs(), trainer.seed(), ts.durationWeights())
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        long streamed = ctx.step("shuffle " + trainer.epochs() + " epoch(s) of examples", sorted::count);
        LOG.info(
                "{} rows streamed to the training task ({} epoch(s) of training and validation rows)",
                streamed,
                trainer.epochs());
        String trained = ctx.step(
                "train " + trainer.epochs() + " epoch(s)",
                () -> sorted.coalesce(1)
                        .mapPartitions(
                                (MapPartitionsFunction<Row, String>) rows -> TrainTask.run(spec, rows),
                                Encoders.STRING())
                        .collectAsList()
                        .get(0));
        sorted.unpersist();
        Optional<ReengagementCalibration.Result> calibration =
                ts.reengagementCalibration().enabled()
                        ? ctx.step(
                                "calibrate the re-engagement biases on the full catalog",
                                () -> ReengagementCalibrator.run(
                                        ctx, examples, trainThrough, staging, ts.durationWeights(), trainer.seed()))
                        : Optional.empty();
        String result = calibration.map(r -> withCalibration(trained, r)).orElse(trained);

        String lineage = parent.map(ModelStore.TrainingRecord::lineageId).orElse(version);
        store.publish(
                staging,
                new ModelStore.TrainingRecord(
                        version,
                        runDate.toString(),
                        from.toString(),
                        trainThrough.toString(),
                        runDate.toString(),
                        parentVersion,
                        lineage,
                        configHash,
                        new Gson().fromJson(result, Object.class)));
        store.deleteCheckpoints(version);
        LOG.info(
                "published model {} at {}; LATEST -> {}; metrics {}",
                version,
                store.artifactDir(version),
                version,
                result);
        return new StageReport()
                .input(TRAINING_EXAMPLES, trainPositives + validationPositives)
                .output("model:" + version, 1);
    }

    /** The trainer's metrics JSON with the calibration's summary added as {@code reengagement_calibration}. */
    static String withCalibration(String metrics, ReengagementCalibration.Result r) {
        Gson gson = new Gson();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = gson.fromJson(metrics, Map.class);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rows", r.rows());
        c.put("catalog", r.catalog());
        c.put("history_share", r.historyShare());
        c.put("cross_entropy_learned", r.lossLearned());
        c.put("cross_entropy_calibrated", r.lossCalibrated());
        c.put("recall_k", r.recallK());
        c.put("recall_learned", r.recallLearned());
        c.put("recall_calibrated", r.recallCalibrated());
        c.put("bias_learned", r.learnedBias());
        c.put("bias_calibrated", r.bias());
        c.put("popularity_prior", r.popularityPrior());
        m.put("reengagement_calibration", c);
        return gson.toJson(m);
    }

    /**
     * The feature schema the configuration trains: content vectors of model.content-embedding-dim, hashed-id tables
     * of at most model.max-hash-buckets rows, and history sequences as long as training-data.history-length (the
     * sequences the training data holds are read whole).
     */
    public static FeatureSchema schema(PipelineConfig c) {
        return TrainingSchema.of(
                c.contentEmbeddingDim(), c.maxHashBuckets(), c.trainingData().historyLength(), c.excludedFeatures());
    }

    private static TrainerConfig withThreads(StageContext ctx, TrainerConfig t) {
        if (t.intraOpThreads() > 0) {
            return t;
        }
        String master = ctx.spark().sparkContext().master();
        int cores = master.startsWith("local")
                ? Runtime.getRuntime().availableProcessors()
                : Integer.parseInt(ctx.spark().conf().get("spark.task.cpus", "1"));
        return t.withIntraOpThreads(cores);
    }
}
