package dev.convcg.jobs.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.jobs.InputsMissingException;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.AblationPlan;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.jobs.io.TextFiles;
import dev.convcg.jobs.report.EvaluationReport.AblationRow;
import dev.convcg.jobs.report.ReportFiles;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ablation-report} stage, the measuring step of the {@code ablate} chain (Main): every run of the
 * {@link AblationPlan} (a variant of {@code evaluate.ablation.variants}, e.g. STACKED towers or the logQ correction
 * off, trained with one seed into its own scratch store) is evaluated on the same window and held-out events as
 * {@code evaluate}, served as {@code evaluate} serves the model (re-engagement bias included); each headline
 * metric's mean and standard deviation over seeds goes to {@code reports/D/ablation.json}, which the report renders.
 * Each run's scratch store is removed once measured.
 */
public final class AblationReportStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(AblationReportStage.class);
    public static final String ABLATION_JSON = "ablation.json";
    static final List<String> TASKS = List.of("conversion", "engagement");

    @Override
    public String name() {
        return "ablation-report";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        PipelineConfig base = ctx.config();
        EvaluationSettings s = base.evaluate();
        LocalDate d = ctx.runDate();
        LocalDate t = d.minusDays(s.evalDays());
        List<AblationPlan.Run> runs = AblationPlan.of(base, d);
        Evaluation.Inputs in = Evaluation.inputs(ctx, s.window(t), false);
        Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
        Set<Integer> seeds = new TreeSet<>();
        long t0 = System.nanoTime();
        for (AblationPlan.Run r : runs) {
            EmbeddingStore store =
                    new EmbeddingStore(ctx.spark(), r.config().inferEmbeddings().outputRoot());
            String version = store.manifest(StorageLayout.PIN_EMBEDDINGS, t)
                    .orElseThrow(() -> new InputsMissingException("ablation run " + r.variant() + " seed " + r.seed()
                            + " has no published embeddings for " + t + " in " + r.dir()
                            + ": run the whole ablate chain"))
                    .modelVersion();
            StageContext sub = new StageContext(ctx.spark(), r.config(), ctx.tables(), t);
            RecallMetrics.Result result =
                    Evaluation.evaluateEmbeddings(sub, store, t, in, OfflineEvaluation.TWO_TOWER, version);
            Map<String, List<Double>> byMetric = values.computeIfAbsent(r.variant(), k -> new LinkedHashMap<>());
            StringBuilder line = new StringBuilder();
            for (String[] m : metrics(s)) {
                double x = result.get(
                                m[0],
                                RecallMetrics.ALL_SURFACES,
                                Integer.parseInt(m[1]),
                                RecallMetrics.Metric.EVENT_HIT_RATE)
                        .recall();
                byMetric.computeIfAbsent(metricName(m), k -> new ArrayList<>()).add(x);
                line.append(String.format(" %s=%.4f", metricName(m), x));
            }
            seeds.add(r.seed());
            ModelStore.deleteRecursively(Path.of(r.dir()));
            LOG.info("ablation {} seed {}:{}", r.variant(), r.seed(), line);
        }
        List<AblationRow> rows = rows(values);
        String json =
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows);
        String path = ReportFiles.directory(base.storageRoot(), d) + "/" + ABLATION_JSON;
        TextFiles.write(ctx.spark(), path, json);
        LOG.info(
                "ablation over {} seeds written to {} in {} s:\n{}",
                seeds.size(),
                path,
                Math.round((System.nanoTime() - t0) / 1e9),
                table(rows));
        in.release();
        return new StageReport().output("ablation_runs", runs.size());
    }

    /** The headline metrics: event hit rate per task at each of evaluate.ks. */
    static List<String[]> metrics(EvaluationSettings s) {
        List<String[]> m = new ArrayList<>();
        for (String task : TASKS) {
            for (int k : s.ks()) {
                m.add(new String[] {task, String.valueOf(k)});
            }
        }
        return m;
    }

    static String metricName(String[] m) {
        return m[0] + " recall@" + m[1];
    }

    static List<AblationRow> rows(Map<String, Map<String, List<Double>>> values) {
        List<AblationRow> rows = new ArrayList<>();
        values.forEach((variant, byMetric) -> byMetric.forEach((metric, xs) -> {
            double mean = xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double var = xs.size() < 2
                    ? 0
                    : xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / (xs.size() - 1);
            rows.add(new AblationRow(variant, metric, mean, Math.sqrt(var), xs.size()));
        }));
        return rows;
    }

    private static String table(List<AblationRow> rows) {
        StringBuilder b = new StringBuilder();
        for (AblationRow r : rows) {
            b.append(String.format(
                    "  %-22s %-24s %.4f ± %.4f (n=%d)%n", r.variant(), r.metric(), r.mean(), r.std(), r.seeds()));
        }
        return b.toString();
    }
}
