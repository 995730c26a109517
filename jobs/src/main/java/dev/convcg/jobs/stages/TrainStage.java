package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import com.google.gson.Gson;
import dev.convcg.core.training.ExampleLabeler;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig.TrainSettings;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.modelspark.train.EpochStream;
import dev.convcg.modelspark.train.ModelInputs;
import dev.convcg.modelspark.train.TrainSpec;
import dev.convcg.modelspark.train.TrainTask;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
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
        Optional<ModelStore.TrainingRecord> parent = ts.warmStart() ? warmStartParent(store, runDate) : Optional.empty();
        if (parent.isPresent() && parent.get().trainedThroughDate().plusDays(1).isAfter(from)) {
            from = parent.get().trainedThroughDate().plusDays(1);
        }
        LocalDate trainThrough = runDate.minusDays(ts.validationDays());
        if (trainThrough.isBefore(from)) {
            throw new IllegalStateException("nothing to train on: the window " + from + ".." + runDate + " holds only the "
                    + ts.validationDays() + " validation day(s); lower train.validation-days or run a later day");
        }
        String parentVersion = parent.map(ModelStore.TrainingRecord::versionId).orElse(null);
        Dataset<Row> examples = ctx.tables().readDays(TRAINING_EXAMPLES, from.toString(), runDate.toString())
                .filter(col("event_type").isin(ts.eventTypes().toArray()));
        Row counts = examples.agg(
                sum(when(col("ds").leq(trainThrough.toString()).and(col("task").notEqual("NEGATIVE")), 1).otherwise(0)),
                sum(when(col("ds").gt(trainThrough.toString()).and(col("task").notEqual("NEGATIVE")), 1).otherwise(0)),
                sum(when(col("task").equalTo("NEGATIVE"), 1).otherwise(0))).first();
        long trainPositives = counts.isNullAt(0) ? 0 : counts.getLong(0);
        long validationPositives = counts.isNullAt(1) ? 0 : counts.getLong(1);
        if (trainPositives == 0) {
            throw new IllegalStateException("no training examples in " + from + ".." + trainThrough + " of "
                    + ctx.tables().path(TRAINING_EXAMPLES) + ": run build-training-data for those days first");
        }
        schema = sizeTablesToData(examples, schema, c.maxHashBuckets(), c.hashBucketsLimit(),
                parent.map(p -> ModelArtifact.read(store.artifactDir(p.versionId())).features()));
        String configHash = ConfigHash.of(c.model(), schema);
        String version = runDate + "-" + sha(configHash + TrainSpec.json(ts.trainer()) + from + parentVersion
                + ts.eventTypes() + ts.durationWeights()).substring(0, 10);
        LOG.info("training {} on {}..{} ({} positives), validating on {}..{} ({} positives), {} hard negatives{}",
                version, from, trainThrough, trainPositives, trainThrough.plusDays(1), runDate, validationPositives,
                counts.isNullAt(2) ? 0 : counts.getLong(2), parent.map(p -> ", warm start from " + p.versionId()).orElse(""));

        Path staging = store.newStagingDir(version);
        TrainerConfig trainer = withThreads(ctx, ts.trainer()).withCheckpoints(store.checkpointDir(version).toString(),
                ts.trainer().checkpointEveryNSteps());
        TrainSpec spec = new TrainSpec(TrainSpec.json(c.model()), TrainSpec.json(schema), TrainSpec.json(trainer), version,
                staging.toString(), parentVersion == null ? null : store.artifactDir(parentVersion).toString(),
                ts.earlyStoppingPatience(), ts.earlyStoppingMinDelta(), ts.restoreBest(), ts.sampledRecallK(), ts.sampledConversions(),
                ts.sampledCandidates(), trainPositives);
        Dataset<Row> sorted = stream(ctx, examples, schema, trainThrough, trainer.epochs(), trainer.seed(),
                ts.durationWeights()).persist(StorageLevel.MEMORY_AND_DISK_SER());
        long streamed = ctx.step("shuffle " + trainer.epochs() + " epoch(s) of examples", sorted::count);
        LOG.info("{} rows streamed to the training task ({} epoch(s) of training and validation rows)", streamed, trainer.epochs());
        String trained = ctx.step("train " + trainer.epochs() + " epoch(s)", () -> sorted.coalesce(1)
                .mapPartitions((MapPartitionsFunction<Row, String>) rows -> TrainTask.run(spec, rows), Encoders.STRING())
                .collectAsList().get(0));
        sorted.unpersist();
        Optional<ReengagementCalibration.Result> calibration = ts.reengagementCalibration().enabled()
                ? ctx.step("calibrate the re-engagement biases on the full catalog", () -> ReengagementCalibrator.run(
                        ctx, examples, trainThrough, staging, ts.durationWeights(), trainer.seed()))
                : Optional.empty();
        String result = calibration.map(r -> withCalibration(trained, r)).orElse(trained);

        String lineage = parent.map(ModelStore.TrainingRecord::lineageId).orElse(version);
        store.publish(staging, new ModelStore.TrainingRecord(version, runDate.toString(), from.toString(),
                trainThrough.toString(), runDate.toString(), parentVersion, lineage, configHash,
                new Gson().fromJson(result, Object.class)));
        store.deleteCheckpoints(version);
        LOG.info("published model {} at {}; LATEST -> {}; metrics {}", version, store.artifactDir(version), version, result);
        return new StageReport().input(TRAINING_EXAMPLES, trainPositives + validationPositives).output("model:" + version, 1);
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
        m.put("reengagement_calibration", c);
        return gson.toJson(m);
    }

    /**
     * The globally ordered stream the training task reads: for each epoch, the training rows in that epoch's shuffled
     * order, then the validation rows. The sort runs distributed and is materialised (persisted) before training, so
     * the training task only reads; {@code coalesce(1)} keeps the order and hands the sorted partitions to one task in
     * sequence.
     */
    static Dataset<Row> stream(StageContext ctx, Dataset<Row> examples, FeatureSchema schema, LocalDate trainThrough,
                               int epochs, int seed, boolean durationWeights) {
        Dataset<Row> labelled = examples
                .withColumn("_part", when(col("ds").gt(trainThrough.toString()), EpochStream.VALIDATION).otherwise(EpochStream.TRAIN))
                .withColumn("_label_pin_id", col("pin_id"))
                .withColumn("_label_advertiser_id", col("advertiser_id"))
                .withColumn("_weight", ModelInputs.exampleWeight(durationWeights))
                .withColumn("_sampling_prob", when(col("task").equalTo(ExampleLabeler.NEGATIVE),
                                when(col("event_type").equalTo(ExampleLabeler.SAMPLED), col("pin_sampling_prob").cast("double"))
                                        .otherwise(lit(0.0)))
                        .otherwise(coalesce(col("pin_sampling_prob").cast("double"), lit(1.0))));
        Dataset<Row> inputs = ModelInputs.select(labelled, schema,
                "example_id", "_part", "task", "_weight", "_sampling_prob", "_label_pin_id", "_label_advertiser_id");
        Dataset<Row> perEpoch = inputs.crossJoin(ctx.spark().range(epochs).select(col("id").cast("int").as("_epoch")))
                .withColumn("_key", xxhash64(col("example_id"), col("_epoch"), lit(seed)));
        List<Column> layout = new ArrayList<>(List.of(col("_epoch"), col("_part"), col("task"), col("_weight"),
                col("_sampling_prob"), col("_label_pin_id"), col("_label_advertiser_id")));
        schema.user().forEach(s -> layout.add(col(s.name())));
        schema.pin().forEach(s -> layout.add(col(s.name())));
        return perEpoch.orderBy("_epoch", "_part", "_key").select(layout.toArray(Column[]::new));
    }

    /**
     * The schema with its hashed-id tables (user_id, pin_id, advertiser_id) sized to the window's data. Logs each
     * table's rows, the window's distinct ids and the expected share of them that share a row with another id
     * ({@code 1 − e^(−n/m)} for n ids in m rows). A table whose configured size leaves more than
     * {@value #MAX_ID_COLLISION_SHARE} of its ids sharing a row (a model that cannot tell most pins apart) grows to the
     * power of two at which at most 10% share, with every feature that reads it; above {@code limit} rows the stage
     * refuses to run. A warm start keeps the parent's sizes, which its parameters have.
     */
    static FeatureSchema sizeTablesToData(Dataset<Row> examples, FeatureSchema schema, int maxHashBuckets, int limit,
                                          Optional<FeatureSchema> parent) {
        List<String> ids = List.of("user_id", "pin_id", "advertiser_id");
        Row n = examples.agg(approx_count_distinct(ids.get(0)), approx_count_distinct(ids.get(1)),
                approx_count_distinct(ids.get(2))).first();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String name = ids.get(i);
            FeatureSpec table = schema.tables().get(name);
            long distinct = n.getLong(i);
            if (table == null || distinct == 0 || !table.hashed()) {
                continue;
            }
            int rows = parent.map(p -> p.tables().get(name)).map(FeatureSpec::buckets).orElse(table.buckets());
            double shared = 1 - Math.exp(-(double) distinct / rows);
            if (shared > MAX_ID_COLLISION_SHARE && parent.isEmpty()) {
                long needed = Long.highestOneBit((long) Math.ceil(-distinct / Math.log(1 - 0.1))) * 2;
                if (needed > limit) {
                    throw new InvalidConfigException(String.format(Locale.ROOT, "convcg.model.hash-buckets-limit = %d "
                            + "is too small for the data: the %s table needs %d rows for about %d distinct ids (at most "
                            + "10%% of them sharing a row); raise model.hash-buckets-limit to at least %d", limit, name,
                            needed, distinct, needed));
                }
                LOG.warn("{} table: model.max-hash-buckets = {} gives {} rows for about {} distinct ids in the window, "
                        + "so about {}% of them would share a row; the table takes {} rows (the data's size, at most "
                        + "10% sharing)", name, maxHashBuckets, rows, distinct,
                        String.format(Locale.ROOT, "%.1f", 100 * shared), needed);
                rows = (int) needed;
                shared = 1 - Math.exp(-(double) distinct / rows);
            } else if (shared > MAX_ID_COLLISION_SHARE) {
                LOG.warn("{} table: the warm-start parent's {} rows leave about {}% of the window's {} distinct ids "
                        + "sharing a row; train cold (train.warm-start = false) to size it to the data", name, rows,
                        String.format(Locale.ROOT, "%.1f", 100 * shared), distinct);
            }
            LOG.info("{} table: {} rows for about {} distinct ids in the window; about {}% of them share a row", name,
                    rows, distinct, String.format(Locale.ROOT, "%.1f", 100 * shared));
            if (rows != table.buckets()) {
                sizes.put(name, rows);
            }
        }
        return sizes.isEmpty() ? schema : new FeatureSchema(resized(schema.user(), sizes), resized(schema.pin(), sizes));
    }

    /** The specs with the tables in {@code sizes} (owners and the features sharing them) at their new row counts. */
    private static List<FeatureSpec> resized(List<FeatureSpec> specs, Map<String, Integer> sizes) {
        return specs.stream().map(s -> {
            Integer rows = sizes.get(s.sharedTable() != null ? s.sharedTable() : s.name());
            return rows == null ? s : new FeatureSpec(s.name(), s.kind(), rows, s.dim(), s.seed(), s.hashed(),
                    s.maxLength(), s.pooling(), s.sharedTable(), s.log1p());
        }).toList();
    }

    /** Most share of a table's ids that may share a row with another id before the table grows to the data. */
    static final double MAX_ID_COLLISION_SHARE = 0.5;

    /**
     * The feature schema the configuration trains: content vectors of model.content-embedding-dim, hashed-id tables
     * of at most model.max-hash-buckets rows, and history sequences as long as training-data.history-length (the
     * sequences the training data holds are read whole).
     */
    public static FeatureSchema schema(PipelineConfig c) {
        return schema(c.contentEmbeddingDim(), c.maxHashBuckets(), c.trainingData().historyLength(), c.excludedFeatures());
    }

    /** As {@link #schema(PipelineConfig)}, without the features named in {@code excluded} (model.excluded-features). */
    public static FeatureSchema schema(int contentEmbeddingDim, int maxBuckets, int historyLength, List<String> excluded) {
        FeatureSchema d = FeatureSchema.defaults().without(excluded);
        return new FeatureSchema(adjust(d.user(), contentEmbeddingDim, maxBuckets, historyLength),
                adjust(d.pin(), contentEmbeddingDim, maxBuckets, historyLength));
    }

    private static List<FeatureSpec> adjust(List<FeatureSpec> specs, int contentDim, int maxBuckets, int historyLength) {
        return specs.stream().map(s -> switch (s.kind()) {
            case VECTOR -> FeatureSpec.vector(s.name(), contentDim);
            case ID, ID_SEQUENCE -> {
                int length = s.kind() == FeatureKind.ID_SEQUENCE && s.sharedTable() != null ? historyLength : s.maxLength();
                int buckets = s.hashed() && s.buckets() > maxBuckets ? maxBuckets : s.buckets();
                yield buckets == s.buckets() && length == s.maxLength() ? s
                        : new FeatureSpec(s.name(), s.kind(), buckets, s.dim(), s.seed(), s.hashed(), length,
                                s.pooling(), s.sharedTable(), s.log1p());
            }
            case NUMERIC -> s;
        }).toList();
    }

    private static Optional<ModelStore.TrainingRecord> warmStartParent(ModelStore store, LocalDate runDate) {
        Optional<String> latest = store.latestVersion();
        if (latest.isEmpty()) {
            LOG.info("train.warm-start is on but {} has no LATEST model: training from scratch", store.root());
            return Optional.empty();
        }
        ModelStore.TrainingRecord r = store.record(latest.get());
        if (LocalDate.parse(r.runDate()).isBefore(runDate)) {
            return Optional.of(r);
        }
        if (r.runDate().equals(runDate.toString()) && r.parentVersion() != null) {
            LOG.info("LATEST {} is this day's model: re-running from its parent {}", r.versionId(), r.parentVersion());
            return Optional.of(store.record(r.parentVersion()));
        }
        if (r.runDate().equals(runDate.toString())) {
            return Optional.empty();
        }
        throw new IllegalStateException("LATEST model " + r.versionId() + " ran for " + r.runDate()
                + ", after run-date " + runDate + ": warm start goes forward in time only");
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

    private static String sha(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
