package dev.convcg.jobs.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.eval.RecallMetrics.Metric;
import dev.convcg.core.testing.SparkTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class ReportTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<Integer> KS = List.of(10, 100, 1000);

    /** Made-up figures for two models over every task, surface, K and metric. */
    static EvaluationReport report(boolean withExtras) throws Exception {
        List<EvaluationReport.ModelResult> models = new ArrayList<>();
        for (String model : List.of("popularity", "oracle")) {
            List<RecallMetrics.Recall> recalls = new ArrayList<>();
            List<RecallMetrics.Coverage> coverage = new ArrayList<>();
            for (String task : List.of("conversion", "engagement")) {
                for (String surface : List.of("all", "home_feed", "related_pins", "search")) {
                    coverage.add(new RecallMetrics.Coverage(task, surface, 40, 90, 2, 3));
                    for (Metric metric : Metric.HELD_OUT) {
                        for (int k : KS) {
                            double recall = Math.min(1, k / 1200.0 * (model.equals("oracle") ? 3 : 2));
                            recalls.add(new RecallMetrics.Recall(task, surface, k, metric, recall, 40, 90));
                        }
                    }
                }
            }
            models.add(new EvaluationReport.ModelResult(model, new RecallMetrics.Result(recalls, coverage)));
        }
        LocalDate t = LocalDate.of(2026, 10, 10);
        return new EvaluationReport(
                t,
                "none",
                EvaluationSettings.defaults().window(t),
                1200,
                List.of(100, 1000),
                models,
                withExtras
                        ? List.of(new EvaluationReport.AblationRow(
                                "no_advertiser_loss", "conversion recall@100", 0.41, 0.012, 3))
                        : List.of(),
                withExtras
                        ? Optional.of(JSON.readTree("{\"examples\": 1234, \"quarantined\": {\"INVALID_USER_ID\": 7}}"))
                        : Optional.empty());
    }

    @Test
    void metricsJsonFollowsTheContract() throws Exception {
        JsonNode root = JSON.readTree(MetricsJson.render(report(false)));
        assertEquals("2026-10-10", root.get("run_date").asText());
        assertEquals("none", root.get("model_version").asText());
        assertEquals("2026-09-27", root.get("data_window").get("train_from").asText());
        assertEquals("2026-10-17", root.get("data_window").get("eval_to").asText());
        JsonNode metrics = root.get("metrics");
        assertTrue(metrics.isArray());
        assertEquals(2 * 2 * 4 * 2 * KS.size(), metrics.size());
        Set<String> models = new HashSet<>(),
                tasks = new HashSet<>(),
                surfaces = new HashSet<>(),
                kinds = new HashSet<>();
        for (JsonNode m : metrics) {
            List<String> fields = new ArrayList<>();
            Iterator<String> names = m.fieldNames();
            names.forEachRemaining(fields::add);
            assertEquals(MetricsJson.RECORD_FIELDS, fields, "exactly the contract's fields, in order");
            for (String f : fields) {
                assertTrue(m.get(f).isValueNode(), "flat record: " + f);
            }
            assertTrue(m.get("k").isInt()
                    && m.get("users").isIntegralNumber()
                    && m.get("events").isIntegralNumber());
            assertTrue(m.get("recall").isDouble()
                    && m.get("recall").asDouble() >= 0
                    && m.get("recall").asDouble() <= 1);
            models.add(m.get("model").asText());
            tasks.add(m.get("task").asText());
            surfaces.add(m.get("surface").asText());
            kinds.add(m.get("metric").asText());
        }
        assertEquals(Set.of("popularity", "oracle"), models);
        assertEquals(Set.of("conversion", "engagement"), tasks);
        assertEquals(Set.of("all", "home_feed", "related_pins", "search"), surfaces);
        assertEquals(Set.of("event_hit_rate", "user_recall"), kinds);
        JsonNode c = root.get("coverage").get(0);
        assertEquals(3, c.get("events_without_query").asInt());
    }

    /**
     * two_tower at 1.2x engagement_only on every bootstrap replicate: metrics.json gives each figure its interval and
     * a +20% lift with a paired interval of exactly [+20%, +20%]; the headline table shows it in bold.
     */
    @Test
    void intervalsAndPairedLiftsReachMetricsJsonAndTheHeadlineTable() throws Exception {
        double[] base = new double[100];
        for (int b = 0; b < base.length; b++) {
            base[b] = 0.30 + 0.001 * (b % 20);
        }
        List<EvaluationReport.ModelResult> models = new ArrayList<>();
        for (String model : List.of("two_tower", "engagement_only")) {
            double scale = model.equals("two_tower") ? 1.2 : 1.0;
            List<RecallMetrics.Recall> recalls = new ArrayList<>();
            Map<String, double[]> replicates = new LinkedHashMap<>();
            for (Metric metric : Metric.HELD_OUT) {
                for (int k : List.of(100, 1000)) {
                    recalls.add(new RecallMetrics.Recall("conversion", "all", k, metric, 0.31 * scale, 40, 90));
                    replicates.put(
                            RecallMetrics.figure("conversion", "all", k, metric),
                            Arrays.stream(base).map(x -> x * scale).toArray());
                }
            }
            models.add(new EvaluationReport.ModelResult(
                    model,
                    new RecallMetrics.Result(
                            recalls,
                            List.of(new RecallMetrics.Coverage("conversion", "all", 40, 90, 0, 0)),
                            replicates,
                            0.95)));
        }
        LocalDate t = LocalDate.of(2026, 10, 10);
        EvaluationReport report = new EvaluationReport(
                t,
                "v1",
                EvaluationSettings.defaults().window(t),
                1200,
                List.of(100, 1000),
                models,
                List.of(),
                Optional.empty());

        JsonNode root = JSON.readTree(MetricsJson.render(report));
        assertEquals(8, root.get("metrics").size(), "the contract's list is unchanged");
        JsonNode interval = root.get("intervals").get(0);
        assertEquals("two_tower", interval.get("model").asText());
        assertEquals(0.3 * 1.2, interval.get("ci_low").asDouble(), 1e-3);
        assertTrue(interval.get("ci_high").asDouble() > interval.get("ci_low").asDouble());
        JsonNode lift = root.get("comparisons").get(0);
        assertEquals("two_tower", lift.get("model").asText());
        assertEquals("engagement_only", lift.get("reference").asText());
        assertEquals(0.2, lift.get("lift").asDouble(), 1e-9);
        assertEquals(0.2, lift.get("ci_low").asDouble(), 1e-9);
        assertEquals(0.2, lift.get("ci_high").asDouble(), 1e-9);
        assertEquals(4, root.get("comparisons").size(), "two_tower over engagement_only, 2 ks x 2 metrics");

        String page = ReportHtml.render(report);
        assertTrue(
                page.indexOf("Headline") < page.indexOf("Recall at the headline cut-offs"), "the headline comes first");
        assertTrue(page.contains("<b>+20.0% <small>[+20.0%, +20.0%]</small></b>"), "a lift whose interval excludes 0");
    }

    @Test
    void reportHtmlIsWrittenSelfContainedWithCharts(SparkSession spark, @TempDir Path root) throws Exception {
        EvaluationReport report = report(true);
        String dir = ReportFiles.write(spark, root.toString(), report);
        Path html = Path.of(dir, ReportFiles.REPORT_HTML);
        assertEquals(root.resolve("reports/2026-10-10"), html.getParent());
        assertTrue(Files.exists(Path.of(dir, ReportFiles.METRICS_JSON)));
        String page = Files.readString(html);
        assertFalse(
                Pattern.compile("(?i)(https?:)?//[a-z0-9]")
                        .matcher(page.replaceAll("data:image/png;base64,[A-Za-z0-9+/=]+", ""))
                        .find(),
                "no external references");
        Matcher charts = Pattern.compile("<img alt=\"[^\"]+\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")
                .matcher(page);
        int n = 0;
        while (charts.find()) {
            byte[] png = Base64.getDecoder().decode(charts.group(1));
            assertEquals((byte) 0x89, png[0]);
            assertEquals("PNG", new String(png, 1, 3, StandardCharsets.US_ASCII));
            n++;
        }
        assertEquals(2 * 4 + 2, n, "hit-rate curves per task x surface, user-recall curves per task");
        assertTrue(page.contains("no_advertiser_loss") && page.contains("0.4100 &plusmn; 0.0120"), "ablation table");
        assertTrue(page.contains("quarantined.INVALID_USER_ID"), "data-quality summary");
        assertFalse(ReportHtml.render(report(false)).contains("Ablation"), "no ablation section without rows");
    }
}
