package dev.convcg.jobs.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ablate} command: trains, embeds and evaluates every variant of {@code evaluate.ablation.variants} (each
 * a set of config overrides, e.g. STACKED towers or the logQ correction off) once per seed, on the same window and
 * held-out events as {@code evaluate}, served as {@code evaluate} serves the model (re-engagement rescoring included),
 * and reports each headline metric's mean and standard deviation over seeds.
 * Every run has its own scratch model store and embedding root, removed once evaluated. Writes
 * {@code reports/D/ablation.json}, then renders the run's report (the evaluate stage) with the ablation table.
 */
public final class AblateStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(AblateStage.class);
    public static final String ABLATION_JSON = "ablation.json";
    static final List<String> TASKS = List.of("conversion", "engagement");

    @Override
    public String name() {
        return "ablate";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        PipelineConfig base = ctx.config();
        EvaluationSettings s = base.evaluate();
        LocalDate d = ctx.runDate();
        LocalDate t = d.minusDays(s.evalDays());
        Config ablation = base.source().getConfig("convcg.evaluate.ablation");
        List<Integer> seeds = ablation.getIntList("seeds");
        Map<String, ConfigObject> variants = variants(ablation.getObject("variants"));
        List<String> only = ablation.getStringList("only");
        if (!only.isEmpty()) {
            for (String name : only) {
                if (!variants.containsKey(name)) {
                    throw new IllegalArgumentException("convcg.evaluate.ablation.only names \"" + name
                            + "\", which is not a variant; variants: " + variants.keySet());
                }
            }
            variants.keySet().retainAll(only);
        }
        EvaluateStage.Inputs in = EvaluateStage.inputs(ctx, s.window(t), false);
        Path scratch = Path.of(base.storageRoot(), "ablation", d.toString()).toAbsolutePath();
        Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
        int total = variants.size() * seeds.size(), done = 0;
        long t0 = System.nanoTime();
        for (Map.Entry<String, ConfigObject> v : variants.entrySet()) {
            for (int seed : seeds) {
                Path dir = scratch.resolve(v.getKey() + "-seed" + seed);
                PipelineConfig c = variantConfig(base, v.getValue(), seed, dir);
                StageContext sub = new StageContext(ctx.spark(), c, ctx.tables(), t);
                new TrainStage().run(sub);
                new InferEmbeddingsStage().run(sub);
                EmbeddingStore store = new EmbeddingStore(ctx.spark(), c.inferEmbeddings().outputRoot());
                String version = store.manifest(StorageLayout.PIN_EMBEDDINGS, t).orElseThrow().modelVersion();
                RecallMetrics.Result r = EvaluateStage.evaluateEmbeddings(sub, store, t, in, OfflineEvaluation.TWO_TOWER,
                        version);
                Map<String, List<Double>> byMetric = values.computeIfAbsent(v.getKey(), k -> new LinkedHashMap<>());
                StringBuilder line = new StringBuilder();
                for (String[] m : metrics(s)) {
                    double x = r.get(m[0], RecallMetrics.ALL_SURFACES, Integer.parseInt(m[1]),
                            RecallMetrics.Metric.EVENT_HIT_RATE).recall();
                    byMetric.computeIfAbsent(metricName(m), k -> new ArrayList<>()).add(x);
                    line.append(String.format(" %s=%.4f", metricName(m), x));
                }
                ModelStore.deleteRecursively(dir);
                done++;
                double perRun = (System.nanoTime() - t0) / 1e9 / done;
                LOG.info("ablation {}/{}: {} seed {}:{} (ETA {} s)", done, total, v.getKey(), seed, line,
                        Math.round(perRun * (total - done)));
            }
        }
        List<AblationRow> rows = rows(values);
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows);
        String path = ReportFiles.directory(base.storageRoot(), d) + "/" + ABLATION_JSON;
        TextFiles.write(ctx.spark(), path, json);
        LOG.info("ablation over {} seeds written to {} in {} s:\n{}", seeds.size(), path,
                Math.round((System.nanoTime() - t0) / 1e9), table(rows));
        in.release();
        new EvaluateStage().run(ctx);
        return new StageReport().output("ablation_runs", total);
    }

    /** Variants in a stable order: {@code default} first, then by name. */
    private static Map<String, ConfigObject> variants(ConfigObject o) {
        Map<String, ConfigObject> out = new LinkedHashMap<>();
        if (o.containsKey("default")) {
            out.put("default", (ConfigObject) o.get("default"));
        }
        o.keySet().stream().sorted().filter(k -> !k.equals("default")).forEach(k -> out.put(k, (ConfigObject) o.get(k)));
        return out;
    }

    /** The base configuration with one variant's overrides, a seed, and scratch storage for the run's outputs. */
    static PipelineConfig variantConfig(PipelineConfig base, ConfigObject overrides, int seed, Path dir) {
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, ConfigValue> e : overrides.entrySet()) {
            c = c.withValue("convcg." + e.getKey().replace("\"", ""), e.getValue());
        }
        Map<String, Object> run = Map.of(
                "convcg.train.seed", seed,
                "convcg.engagement-retriever.enabled", false,
                "convcg.train.warm-start", false,
                "convcg.train.model-store", StorageLayout.models(dir.toString()),
                "convcg.infer-embeddings.output-root", StorageLayout.embeddings(dir.toString()),
                "convcg.infer-embeddings.model-version", "",
                "convcg.infer-embeddings.reset", true);
        for (Map.Entry<String, Object> e : run.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return PipelineConfig.bind(c.withFallback(base.source()).resolve());
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
            double var = xs.size() < 2 ? 0 : xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / (xs.size() - 1);
            rows.add(new AblationRow(variant, metric, mean, Math.sqrt(var), xs.size()));
        }));
        return rows;
    }

    private static String table(List<AblationRow> rows) {
        StringBuilder b = new StringBuilder();
        for (AblationRow r : rows) {
            b.append(String.format("  %-22s %-24s %.4f ± %.4f (n=%d)%n", r.variant(), r.metric(), r.mean(), r.std(), r.seeds()));
        }
        return b.toString();
    }
}
