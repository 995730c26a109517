package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.slice;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.BlockScorer;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.EvaluationSettings.Baseline;
import dev.convcg.core.eval.EvaluationSettings.DataWindow;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.eval.Reengagement;
import dev.convcg.core.eval.UserSample;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.OnlineReplay;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.AlsFactorStore;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.jobs.report.EvaluationReport;
import dev.convcg.jobs.report.ReportFiles;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.modelspark.inference.LibtorchBlockScorer;
import java.io.IOException;
import java.io.InputStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offline evaluation for run date D (docs/evaluation.md): the model published for T = D − {@code evaluate.eval-days}
 * (its embeddings of day T) is scored on the held-out positives of days T+1..D, next to the baselines, all through
 * the same exact top-K evaluator over the catalog of day T. Writes {@code reports/D/metrics.json} and
 * {@code report.html}, and logs the headline conversion recall@100 of each model.
 */
public final class EvaluateStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateStage.class);

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        EvaluationSettings s = ctx.config().evaluate();
        LocalDate d = ctx.runDate();
        LocalDate t = d.minusDays(s.evalDays());
        DataWindow w = s.window(t);
        Inputs in = inputs(ctx, w, true);
        List<EvaluationReport.ModelResult> models = new ArrayList<>();
        String version = twoTower(ctx, in, t, models);
        if (s.baselines().contains(Baseline.ENGAGEMENT_ONLY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.ENGAGEMENT_ONLY,
                    ctx.step("engagement retriever", () -> engagementOnly(ctx, in, t))));
        }
        if (s.baselines().contains(Baseline.POPULARITY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.POPULARITY,
                    ctx.step(
                            "popularity",
                            () -> in.score(
                                    OfflineEvaluation.POPULARITY,
                                    OfflineEvaluation.popularityLists(in.training, in.catalog, in.listUsers, s),
                                    s))));
        }
        if (s.baselines().contains(Baseline.HISTORY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.HISTORY,
                    ctx.step(
                            "history",
                            () -> in.score(
                                    OfflineEvaluation.HISTORY,
                                    OfflineEvaluation.historyLists(in.training, in.listUsers, s),
                                    s))));
        }
        if (s.baselines().contains(Baseline.HISTORY_POPULARITY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.HISTORY_POPULARITY,
                    ctx.step(
                            "history then popularity",
                            () -> in.score(
                                    OfflineEvaluation.HISTORY_POPULARITY,
                                    OfflineEvaluation.historyThenPopularityLists(
                                            in.training, in.catalog, in.listUsers, s),
                                    s))));
        }
        if (s.baselines().contains(Baseline.ALS)) {
            models.add(new EvaluationReport.ModelResult(OfflineEvaluation.ALS, ctx.step("ALS", () -> {
                Baselines.Embeddings als = alsFactors(ctx, in.training, w);
                return in.score(
                        OfflineEvaluation.ALS,
                        OfflineEvaluation.embeddingLists(
                                als.users(), als.pins(), in.catalog, in.listUsers, s, null, scorer(ctx.config())),
                        s);
            })));
        }
        if (s.baselines().contains(Baseline.ORACLE) && in.truth != null) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.ORACLE,
                    ctx.step("oracle", () -> in.score(OfflineEvaluation.ORACLE, in.truthLists, s))));
        }
        Optional<EvaluationReport.OnlineAb> onlineAb = in.replay == null
                ? Optional.empty()
                : Optional.of(ctx.step("online A/B", () -> onlineAb(ctx, in, models)));
        EvaluationReport report = new EvaluationReport(
                d, version, w, in.catalogPins, s.ks(), models, ablation(ctx, d), dataQuality(ctx, d), onlineAb);
        String dir = ReportFiles.write(ctx.spark(), ctx.config().storageRoot(), report);
        StringBuilder headline = new StringBuilder(String.format("%n  %-18s", "model"));
        for (int k : s.ks()) {
            headline.append(String.format(" %-26s", "@" + k + " [95% interval]"));
        }
        for (EvaluationReport.ModelResult m : models) {
            headline.append(String.format("%n  %-18s", m.model()));
            for (int k : s.ks()) {
                RecallMetrics.Metric hitRate = RecallMetrics.Metric.EVENT_HIT_RATE;
                headline.append(String.format(
                        " %-26s",
                        String.format(
                                        "%.4f",
                                        m.result()
                                                .get("conversion", RecallMetrics.ALL_SURFACES, k, hitRate)
                                                .recall())
                                + m.result()
                                        .interval("conversion", RecallMetrics.ALL_SURFACES, k, hitRate)
                                        .map(i -> String.format(" [%.4f, %.4f]", i.low(), i.high()))
                                        .orElse("")));
            }
        }
        LOG.info(
                "report: {}/{}; conversion recall (event hit rate, all surfaces), {} held-out events over {} pins:{}",
                dir,
                ReportFiles.REPORT_HTML,
                in.eventCount,
                in.catalogPins,
                headline);
        onlineAb.ifPresent(ab -> LOG.info(
                "simulated online A/B, top {} candidates, {} users, conversions per 1,000 "
                        + "impressions (lift over {}):{}",
                ab.k(),
                ab.users(),
                ab.reference(),
                abHeadline(ab)));
        in.release();
        return new StageReport().input("held_out_events", in.eventCount).output("models_evaluated", models.size());
    }

    /** Held-out events, training-window examples and the catalog of the evaluated day. */
    static Inputs inputs(StageContext ctx, DataWindow w, boolean onlineAb) {
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
                replay,
                new LinkedHashMap<>(),
                ctx.config().evaluate().onlineAbK());
    }

    private static String twoTower(StageContext ctx, Inputs in, LocalDate t, List<EvaluationReport.ModelResult> out)
            throws Exception {
        EmbeddingStore store =
                new EmbeddingStore(ctx.spark(), ctx.config().inferEmbeddings().outputRoot());
        Optional<EmbeddingStore.Manifest> manifest = store.manifest(StorageLayout.PIN_EMBEDDINGS, t);
        if (manifest.isEmpty()) {
            throw new IllegalStateException("no published embeddings for " + t + " under " + store.root()
                    + ": run train and infer-embeddings with --set run-date=" + t + " first");
        }
        out.add(new EvaluationReport.ModelResult(
                OfflineEvaluation.TWO_TOWER,
                ctx.step(
                        "two-tower " + manifest.get().modelVersion(),
                        () -> evaluateEmbeddings(
                                ctx,
                                store,
                                t,
                                in,
                                OfflineEvaluation.TWO_TOWER,
                                manifest.get().modelVersion()))));
        return manifest.get().modelVersion();
    }

    /**
     * Recall of the embeddings {@code modelVersion} published for day t, served as the model serves: the embedding
     * top-K with the user's history pins rescored by the model's re-engagement bias when it learned one.
     */
    static RecallMetrics.Result evaluateEmbeddings(
            StageContext ctx, EmbeddingStore store, LocalDate t, Inputs in, String model, String modelVersion) {
        Dataset<Row> users = store.readDay(StorageLayout.USER_EMBEDDINGS, t).select("user_id", "surface", "embedding");
        Dataset<Row> pins = store.readDay(StorageLayout.PIN_EMBEDDINGS, t).select("pin_id", "embedding");
        Dataset<Row> history = reengagementBias(ctx, modelVersion)
                .map(b -> Reengagement.candidates(
                        ctx.tables().readDays(TrainingDataSchemas.USER_FEATURES_TABLE, t.toString(), t.toString()), b))
                .orElse(null);
        EvaluationSettings s = ctx.config().evaluate();
        return in.score(
                model,
                OfflineEvaluation.embeddingLists(
                        users, pins, in.catalog, in.listUsers, s, history, scorer(ctx.config())),
                s);
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

    /** The served model's re-engagement biases, when it learned them (read from its artifact). */
    static Optional<Reengagement.Bias> reengagementBias(StageContext ctx, String modelVersion) {
        java.nio.file.Path dir =
                new ModelStore(java.nio.file.Path.of(ctx.config().train().modelStore())).artifactDir(modelVersion);
        try (TwoTowerEncoder encoder = TwoTowerEncoder.load(dir)) {
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
                    java.util.Arrays.toString(b.bias()),
                    b.sequences());
            return Optional.of(b);
        }
    }

    /**
     * The ALS factors for the window: a stored fit of the same settings whose window ends fewer than
     * {@code evaluate.als.refit-every-days} before this one's, else a fresh fit on the window, stored.
     */
    static Baselines.Embeddings alsFactors(StageContext ctx, Dataset<Row> training, DataWindow w) {
        EvaluationSettings.AlsSettings a = ctx.config().evaluate().als();
        AlsFactorStore store = new AlsFactorStore(ctx.spark(), ctx.config().storageRoot());
        Optional<AlsFactorStore.Stored> stored = store.reusable(a, w.trainTo());
        if (stored.isPresent()) {
            AlsFactorStore.Fit f = stored.get().fit();
            LOG.info(
                    "ALS: reusing the fit of {}..{} ({} users, {} pins; evaluate.als.refit-every-days = {})",
                    f.trainFrom(),
                    f.trainTo(),
                    f.users(),
                    f.pins(),
                    a.refitEveryDays());
            return stored.get().read(ctx.spark());
        }
        AlsFactorStore.Stored fresh = store.store(a, w.trainFrom(), w.trainTo(), Baselines.als(training, a));
        LOG.info(
                "ALS: fitted on {}..{} ({} users, {} pins), stored at {}",
                w.trainFrom(),
                w.trainTo(),
                fresh.fit().users(),
                fresh.fit().pins(),
                fresh.path());
        return fresh.read(ctx.spark());
    }

    /**
     * Recall of the engagement retriever's embeddings that {@code train} and {@code infer-embeddings} published for
     * day T (engagement-retriever.enabled); evaluate never trains.
     */
    private static RecallMetrics.Result engagementOnly(StageContext ctx, Inputs in, LocalDate t) {
        PipelineConfig c = ctx.config().engagementRetrieverConfig();
        EmbeddingStore store =
                new EmbeddingStore(ctx.spark(), c.inferEmbeddings().outputRoot());
        String version = store.manifest(StorageLayout.PIN_EMBEDDINGS, t)
                .orElseThrow(() -> new IllegalStateException("no published engagement-retriever embeddings for " + t
                        + " under " + store.root() + ": run train and "
                        + "infer-embeddings with engagement-retriever.enabled = true and --set run-date=" + t
                        + " first, or drop engagement_only from evaluate.baselines"))
                .modelVersion();
        StageContext sub = new StageContext(ctx.spark(), c, ctx.tables(), t);
        return evaluateEmbeddings(sub, store, t, in, OfflineEvaluation.ENGAGEMENT_ONLY, version);
    }

    /** The ablation table the {@code ablate} command wrote for this run date, if any. */
    private static List<EvaluationReport.AblationRow> ablation(StageContext ctx, LocalDate d) throws IOException {
        Path p = new Path(
                ReportFiles.directory(ctx.config().storageRoot(), d) + "/" + AblationReportStage.ABLATION_JSON);
        FileSystem fs = p.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
        if (!fs.exists(p)) {
            return List.of();
        }
        try (var in = fs.open(p)) {
            return List.of(new ObjectMapper().readValue((InputStream) in, EvaluationReport.AblationRow[].class));
        }
    }

    private static Optional<JsonNode> dataQuality(StageContext ctx, LocalDate d) throws IOException {
        Path p = new Path(BuildTrainingDataStage.summaryPath(ctx, d));
        FileSystem fs = p.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
        if (!fs.exists(p)) {
            LOG.warn("no data-quality summary at {}: the report goes without it", p);
            return Optional.empty();
        }
        try (var in = fs.open(p)) {
            return Optional.of(new ObjectMapper().readTree(in));
        }
    }

    /**
     * The simulated online A/B over every evaluated model's candidates ({@link OnlineReplay}), compared with
     * engagement_only when it ran.
     */
    private static EvaluationReport.OnlineAb onlineAb(
            StageContext ctx, Inputs in, List<EvaluationReport.ModelResult> models) {
        List<String> arms = models.stream()
                .map(EvaluationReport.ModelResult::model)
                .filter(in.armLists::containsKey)
                .toList();
        Dataset<Row> candidates = null;
        for (String arm : arms) {
            Dataset<Row> l = in.armLists.get(arm);
            candidates = candidates == null ? l : candidates.unionByName(l);
        }
        List<Row> outcomes = OnlineReplay.replay(ctx.config().simulate(), in.replay, candidates, arms)
                .collectAsList();
        String reference = arms.contains(OfflineEvaluation.ENGAGEMENT_ONLY) ? OfflineEvaluation.ENGAGEMENT_ONLY : null;
        List<OnlineReplay.ArmResult> table = OnlineReplay.summarize(
                outcomes, arms, reference, ctx.config().evaluate().intervals());
        return new EvaluationReport.OnlineAb(
                in.onlineAbK, table.isEmpty() ? 0 : table.get(0).users(), reference, table);
    }

    private static String abHeadline(EvaluationReport.OnlineAb ab) {
        StringBuilder h = new StringBuilder();
        for (OnlineReplay.ArmResult a : ab.arms()) {
            OnlineReplay.Figure f = a.rates().get("conversions_per_1000");
            h.append(String.format(
                    "%n  %-18s %8.3f%s  %d impressions%s",
                    a.arm(),
                    f.value(),
                    f.interval() == null
                            ? ""
                            : String.format(
                                    " [%.3f, %.3f]",
                                    f.interval().low(), f.interval().high()),
                    a.impressions(),
                    f.liftInterval() == null
                            ? ""
                            : String.format(
                                    "  %+.1f%% [%+.1f%%, %+.1f%%]",
                                    100 * f.lift(),
                                    100 * f.liftInterval().low(),
                                    100 * f.liftInterval().high())));
        }
        return h.toString();
    }

    /**
     * What every model of one evaluation is judged on. {@code truth} is, on simulated data (truth tables present),
     * each evaluated user's top pins by true conversion propensity (the oracle's lists), for the exposure-free recall;
     * null on real logs. {@code listUsers} are the (user, surface) pairs every model ranks for: the held-out events',
     * and, when the online A/B runs, those of the replayed requests ({@code replay}, the evaluation days'
     * impressions); {@code truthLists} are the oracle's lists for them, {@code armLists} each model's lists cut to
     * the A/B's k, filled as the models are scored.
     */
    record Inputs(
            Dataset<Row> events,
            Dataset<Row> training,
            Dataset<Row> catalog,
            long eventCount,
            long catalogPins,
            Dataset<Row> truth,
            Dataset<Row> truthLists,
            Dataset<Row> listUsers,
            Dataset<Row> replay,
            Map<String, Dataset<Row>> armLists,
            int onlineAbK) {

        /** Scores a model's lists ({@link OfflineEvaluation#score}) and keeps them, cut to k, as its A/B arm. */
        RecallMetrics.Result score(String model, Dataset<Row> lists, EvaluationSettings s) {
            if (replay == null) {
                return OfflineEvaluation.score(events, lists, s, truth);
            }
            Dataset<Row> full = lists.persist(StorageLevel.MEMORY_AND_DISK());
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
                full.unpersist();
            }
        }

        void release() {
            events.unpersist();
            training.unpersist();
            catalog.unpersist();
            listUsers.unpersist();
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
