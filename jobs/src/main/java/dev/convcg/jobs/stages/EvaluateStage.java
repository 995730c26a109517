package dev.convcg.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.EvaluationSettings.Baseline;
import dev.convcg.core.eval.EvaluationSettings.DataWindow;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.sim.OnlineReplay;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.AlsFactorStore;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.jobs.report.EvaluationReport;
import dev.convcg.jobs.report.ReportFiles;
import java.io.IOException;
import java.io.InputStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
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
        Evaluation.Inputs in = Evaluation.inputs(ctx, w, true);
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
                                    OfflineEvaluation.popularityLists(in.training(), in.catalog(), in.listUsers(), s),
                                    s))));
        }
        if (s.baselines().contains(Baseline.HISTORY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.HISTORY,
                    ctx.step("history", () -> in.score(OfflineEvaluation.HISTORY, in.histories(), s))));
        }
        if (s.baselines().contains(Baseline.HISTORY_POPULARITY)) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.HISTORY_POPULARITY,
                    ctx.step(
                            "history then popularity",
                            () -> in.score(
                                    OfflineEvaluation.HISTORY_POPULARITY,
                                    Baselines.historyThen(
                                            in.histories(),
                                            Baselines.popularityPerQuery(
                                                    in.training(), in.catalog(), in.listUsers(), s.maxK()),
                                            s.maxK()),
                                    s))));
        }
        if (s.baselines().contains(Baseline.ALS)) {
            models.add(new EvaluationReport.ModelResult(OfflineEvaluation.ALS, ctx.step("ALS", () -> {
                Baselines.Embeddings als = alsFactors(ctx, in.training(), w);
                return in.score(
                        OfflineEvaluation.ALS,
                        OfflineEvaluation.embeddingLists(
                                als.users(),
                                als.pins(),
                                in.catalog(),
                                in.listUsers(),
                                s,
                                null,
                                Evaluation.scorer(ctx.config())),
                        s);
            })));
        }
        if (s.baselines().contains(Baseline.ORACLE) && in.truth() != null) {
            models.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.ORACLE,
                    ctx.step("oracle", () -> in.score(OfflineEvaluation.ORACLE, in.truthLists(), s))));
        }
        Optional<EvaluationReport.OnlineAb> onlineAb = in.replay() == null
                ? Optional.empty()
                : Optional.of(ctx.step("online A/B", () -> onlineAb(ctx, in, models)));
        EvaluationReport report = new EvaluationReport(
                d, version, w, in.catalogPins(), s.ks(), models, ablation(ctx, d), dataQuality(ctx, d), onlineAb);
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
                in.eventCount(),
                in.catalogPins(),
                headline);
        onlineAb.ifPresent(ab -> LOG.info(
                "simulated online A/B, top {} candidates, {} users, conversions per 1,000 "
                        + "impressions (lift over {}):{}",
                ab.k(),
                ab.users(),
                ab.reference(),
                abHeadline(ab)));
        in.release();
        return new StageReport().input("held_out_events", in.eventCount()).output("models_evaluated", models.size());
    }

    private static String twoTower(
            StageContext ctx, Evaluation.Inputs in, LocalDate t, List<EvaluationReport.ModelResult> out)
            throws Exception {
        EmbeddingStore store =
                new EmbeddingStore(ctx.spark(), ctx.config().inferEmbeddings().outputRoot());
        Optional<EmbeddingStore.Manifest> manifest = store.manifest(StorageLayout.PIN_EMBEDDINGS, t);
        if (manifest.isEmpty()) {
            throw new IllegalStateException("no published embeddings for " + t + " under " + store.root()
                    + ": run train and infer-embeddings with --set run-date=" + t + " first");
        }
        String version = manifest.get().modelVersion();
        EvaluationSettings s = ctx.config().evaluate();
        Dataset<Row> lists = Evaluation.publishedLists(ctx, store, t, in, version);
        boolean blend = s.baselines().contains(Baseline.HISTORY_TWO_TOWER);
        if (blend) {
            lists = lists.persist(StorageLevel.MEMORY_AND_DISK());
        }
        try {
            Dataset<Row> served = lists;
            out.add(new EvaluationReport.ModelResult(
                    OfflineEvaluation.TWO_TOWER,
                    ctx.step("two-tower " + version, () -> in.score(OfflineEvaluation.TWO_TOWER, served, s))));
            if (blend) {
                out.add(new EvaluationReport.ModelResult(
                        OfflineEvaluation.HISTORY_TWO_TOWER,
                        ctx.step(
                                "history then two-tower",
                                () -> in.score(
                                        OfflineEvaluation.HISTORY_TWO_TOWER,
                                        Baselines.historyThen(in.histories(), served, s.maxK()),
                                        s))));
            }
        } finally {
            lists.unpersist();
        }
        return version;
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
    private static RecallMetrics.Result engagementOnly(StageContext ctx, Evaluation.Inputs in, LocalDate t) {
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
        return Evaluation.evaluateEmbeddings(sub, store, t, in, OfflineEvaluation.ENGAGEMENT_ONLY, version);
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
            StageContext ctx, Evaluation.Inputs in, List<EvaluationReport.ModelResult> models) {
        List<String> arms = models.stream()
                .map(EvaluationReport.ModelResult::model)
                .filter(in.armLists()::containsKey)
                .toList();
        Dataset<Row> candidates = null;
        for (String arm : arms) {
            Dataset<Row> l = in.armLists().get(arm);
            candidates = candidates == null ? l : candidates.unionByName(l);
        }
        List<Row> outcomes = OnlineReplay.replay(ctx.config().simulate(), in.replay(), candidates, arms)
                .collectAsList();
        String reference = arms.contains(OfflineEvaluation.ENGAGEMENT_ONLY) ? OfflineEvaluation.ENGAGEMENT_ONLY : null;
        List<OnlineReplay.ArmResult> table = OnlineReplay.summarize(
                outcomes, arms, reference, ctx.config().evaluate().intervals());
        return new EvaluationReport.OnlineAb(
                in.onlineAbK(), table.isEmpty() ? 0 : table.get(0).users(), reference, table);
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
}
