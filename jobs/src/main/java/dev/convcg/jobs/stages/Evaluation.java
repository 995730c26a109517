package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.slice;

import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.BlockScorer;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.EvaluationSettings.DataWindow;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.PopularityPrior;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.eval.Reengagement;
import dev.convcg.core.eval.UserSample;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.OnlineReplay;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.modelspark.inference.LibtorchBlockScorer;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an offline evaluation reads and how a published model is scored, shared by {@code evaluate} and
 * {@code ablation-report} so that neither stage calls the other: the held-out events, training window and catalog
 * ({@link #inputs}), the recall of a model's published embeddings served with its re-engagement bias
 * ({@link #evaluateEmbeddings}), and the block product of every exact top-K ({@link #scorer}).
 */
public final class Evaluation {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);

    private Evaluation() {}

    /** Held-out events, training-window examples and the catalog of the evaluated day. */
    public static Inputs inputs(StageContext ctx, DataWindow w, boolean onlineAb) {
        Dataset<Row> examples = ctx.tables()
                .readDays(
                        TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
                        w.trainFrom().toString(),
                        w.evalTo().toString());
        Dataset<Row> allEvents = examples.filter(col(RawTables.DS)
                        .between(w.evalFrom().toString(), w.evalTo().toString())
                        .and(col("task").isin(RecallMetrics.POSITIVE_TASKS.toArray())))
                .select("user_id", "pin_id", "surface", "task");
        Dataset<Row> events =
                UserSample.of(allEvents, ctx.config().evaluate().maxUsers()).cache();
        Dataset<Row> training = examples.filter(col(RawTables.DS)
                        .between(w.trainFrom().toString(), w.trainTo().toString()))
                .select("user_id", "pin_id", "surface", "task", "event_ts")
                .cache();
        long eventCount = events.count();
        if (ctx.config().evaluate().maxUsers() > 0) {
            LOG.info(
                    "evaluated users: {} (evaluate.max-users = {}; a deterministic sample above it)",
                    events.select("user_id").distinct().count(),
                    ctx.config().evaluate().maxUsers());
        }
        if (eventCount == 0) {
            throw new IllegalStateException("no held-out positives in training_examples for " + w.evalFrom() + ".."
                    + w.evalTo() + ": run build-training-data --set run-date=" + w.evalTo() + " first");
        }
        Dataset<Row> catalog = ctx.tables()
                .readDays(RawTables.PINS, w.trainTo().toString(), w.trainTo().toString())
                .select("pin_id")
                .distinct()
                .cache();
        Dataset<Row> listUsers = events.select("user_id", "surface");
        Dataset<Row> truthLists = null, truth = null, replay = null;
        if (ctx.tables().exists(Simulator.TRUTH_USERS)) {
            if (onlineAb && ctx.config().evaluate().onlineAbK() > 0) {
                OnlineReplay.requireWorld(ctx.config().simulate(), ctx.tables().read(Simulator.TRUTH_PINS));
                replay = UserSample.of(
                                ctx.tables()
                                        .readDays(
                                                RawTables.IMPRESSIONS,
                                                w.evalFrom().toString(),
                                                w.evalTo().toString())
                                        .filter(col("user_id").isNotNull()),
                                ctx.config().evaluate().maxUsers())
                        .cache();
                listUsers = listUsers
                        .union(replay.select("user_id", "surface"))
                        .distinct()
                        .persist(StorageLevel.MEMORY_AND_DISK());
            }
            Baselines.Embeddings o = Baselines.oracle(
                    ctx.tables().read(Simulator.TRUTH_USERS), ctx.tables().read(Simulator.TRUTH_PINS));
            truthLists = OfflineEvaluation.embeddingLists(
                            o.users(),
                            o.pins(),
                            catalog,
                            listUsers,
                            ctx.config().evaluate(),
                            null,
                            scorer(ctx.config()))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            truth = truthLists.join(events.select("user_id").distinct(), new String[] {"user_id"}, "left_semi");
        }
        return new Inputs(
                events,
                training,
                catalog,
                eventCount,
                catalog.count(),
                truth,
                truthLists,
                listUsers,
                OfflineEvaluation.historyLists(training, listUsers, ctx.config().evaluate())
                        .persist(StorageLevel.MEMORY_AND_DISK()),
                replay,
                new LinkedHashMap<>(),
                ctx.config().evaluate().onlineAbK());
    }

    /** Recall of the embeddings {@code modelVersion} published for day t ({@link #publishedLists}). */
    public static RecallMetrics.Result evaluateEmbeddings(
            StageContext ctx, EmbeddingStore store, LocalDate t, Inputs in, String model, String modelVersion) {
        return in.score(
                model,
                publishedLists(ctx, store, t, in, modelVersion),
                ctx.config().evaluate());
    }

    /**
     * The lists of the embeddings {@code modelVersion} published for day t, for every (user, surface) the evaluation
     * ranks for, served as the model serves: the embedding top-K with each pin's popularity prior added when the
     * model's refit fitted one, and the user's history pins rescored by the model's re-engagement bias when it
     * learned one.
     */
    public static Dataset<Row> publishedLists(
            StageContext ctx, EmbeddingStore store, LocalDate t, Inputs in, String modelVersion) {
        Dataset<Row> users = store.readDay(StorageLayout.USER_EMBEDDINGS, t).select("user_id", "surface", "embedding");
        Dataset<Row> pins = store.readDay(StorageLayout.PIN_EMBEDDINGS, t).select("pin_id", "embedding");
        Optional<float[]> prior = popularityPrior(ctx, modelVersion);
        if (prior.isPresent()) {
            pins = PopularityPrior.withPrior(
                    pins, ReengagementCalibrator.popularityBins(ctx, in.catalog, t.plusDays(1)), prior.get());
        }
        Dataset<Row> history = reengagementBias(ctx, modelVersion)
                .map(b -> Reengagement.candidates(
                        ctx.tables().readDays(TrainingDataSchemas.USER_FEATURES_TABLE, t.toString(), t.toString()), b))
                .orElse(null);
        return OfflineEvaluation.embeddingLists(
                users, pins, in.catalog, in.listUsers, ctx.config().evaluate(), history, scorer(ctx.config()));
    }

    /**
     * The block product of every exact top-K ({@code evaluate.scorer}); libtorch runs with the executors' inference
     * thread count ({@code infer-embeddings.intra-op-threads}), the same JVM-wide setting.
     */
    public static BlockScorer scorer(PipelineConfig c) {
        return switch (c.scorer()) {
            case LIBTORCH -> new LibtorchBlockScorer(c.inferEmbeddings().intraOpThreads());
            case BLAS -> BlockScorer.BLAS_SGEMM;
        };
    }

    private static Path artifactDir(StageContext ctx, String modelVersion) {
        return new ModelStore(Path.of(ctx.config().train().modelStore())).artifactDir(modelVersion);
    }

    /** The popularity prior the model's refit fitted (score units per bin), when it fitted one. */
    static Optional<float[]> popularityPrior(StageContext ctx, String modelVersion) {
        Optional<float[]> prior = ReengagementCalibration.read(artifactDir(ctx, modelVersion))
                .map(ReengagementCalibration.Result::popularityPrior)
                .filter(p -> p != null && p.length > 0);
        prior.ifPresent(
                p -> LOG.info("model {}: popularity prior (score units) by bin {}", modelVersion, Arrays.toString(p)));
        return prior;
    }

    /** The served model's re-engagement biases, when it learned them (read from its artifact). */
    static Optional<Reengagement.Bias> reengagementBias(StageContext ctx, String modelVersion) {
        try (TwoTowerEncoder encoder = TwoTowerEncoder.load(artifactDir(ctx, modelVersion))) {
            ModelConfig.ReengagementConfig r = encoder.artifact().model().reengagement();
            if (!r.enabled()) {
                return Optional.empty();
            }
            Reengagement.Bias b = new Reengagement.Bias(
                    r.sequences(),
                    encoder.reengagementBias(),
                    ModelConfig.ReengagementConfig.SLOTS,
                    ModelConfig.ReengagementConfig.POSITION_EDGES);
            LOG.info(
                    "model {}: re-engagement bias (score units) {} for {}",
                    modelVersion,
                    Arrays.toString(b.bias()),
                    b.sequences());
            return Optional.of(b);
        }
    }

    /**
     * What every model of one evaluation is judged on. {@code truth} is, on simulated data (truth tables present),
     * each evaluated user's top pins by true conversion propensity (the oracle's lists), for the exposure-free recall;
     * null on real logs. {@code listUsers} are the (user, surface) pairs every model ranks for: the held-out events',
     * and, when the online A/B runs, those of the replayed requests ({@code replay}, the evaluation days'
     * impressions); {@code truthLists} are the oracle's lists for them, {@code histories} their history lists (one
     * computation for the history baseline and every blend with it), {@code armLists} each model's lists cut to the
     * A/B's k, filled as the models are scored.
     */
    public record Inputs(
            Dataset<Row> events,
            Dataset<Row> training,
            Dataset<Row> catalog,
            long eventCount,
            long catalogPins,
            Dataset<Row> truth,
            Dataset<Row> truthLists,
            Dataset<Row> listUsers,
            Dataset<Row> histories,
            Dataset<Row> replay,
            Map<String, Dataset<Row>> armLists,
            int onlineAbK) {

        /** Scores a model's lists ({@link OfflineEvaluation#score}) and keeps them, cut to k, as its A/B arm. */
        RecallMetrics.Result score(String model, Dataset<Row> lists, EvaluationSettings s) {
            if (replay == null) {
                return OfflineEvaluation.score(events, lists, s, truth);
            }
            boolean cachedByCaller = !lists.storageLevel().equals(StorageLevel.NONE());
            Dataset<Row> full = cachedByCaller ? lists : lists.persist(StorageLevel.MEMORY_AND_DISK());
            Column surface = Arrays.asList(full.columns()).contains("surface")
                    ? col("surface")
                    : lit(null).cast("string").as("surface");
            Dataset<Row> arm = full.select(
                            lit(model).as(OnlineReplay.ARM),
                            col("user_id"),
                            surface,
                            slice(col("pin_ids"), 1, onlineAbK).as("pin_ids"))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            arm.count();
            armLists.put(model, arm);
            try {
                return OfflineEvaluation.score(events, full, s, truth);
            } finally {
                if (!cachedByCaller) {
                    full.unpersist();
                }
            }
        }

        void release() {
            events.unpersist();
            training.unpersist();
            catalog.unpersist();
            listUsers.unpersist();
            histories.unpersist();
            if (truthLists != null) {
                truthLists.unpersist();
            }
            if (replay != null) {
                replay.unpersist();
            }
            armLists.values().forEach(Dataset::unpersist);
        }
    }
}
