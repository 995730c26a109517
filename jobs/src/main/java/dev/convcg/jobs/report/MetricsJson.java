package dev.convcg.jobs.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.sim.OnlineReplay;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code metrics.json}, the contract other tools read: run metadata, then {@code metrics}, a flat list of
 * records with exactly the fields {@code model, task, surface, k, recall, metric, users, events}, then
 * {@code coverage}, how many held-out users and events had no query embedding (counted as misses), then, where the
 * bootstrap ran, {@code intervals} (each figure of {@code metrics} with {@code ci_low, ci_high}) and
 * {@code comparisons} (a model's relative difference to a reference model with its paired interval), then, on
 * simulated data, {@code online_ab} (the simulated online A/B: per arm its totals and rates, each rate with its
 * interval and its paired lift over the reference arm).
 */
public final class MetricsJson {
    public static final List<String> RECORD_FIELDS =
            List.of("model", "task", "surface", "k", "recall", "metric", "users", "events");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MetricsJson() {}

    public static String render(EvaluationReport report) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("run_date", report.runDate().toString());
        root.put("model_version", report.modelVersion());
        Map<String, Object> window = new LinkedHashMap<>();
        window.put("train_from", report.window().trainFrom().toString());
        window.put("train_to", report.window().trainTo().toString());
        window.put("eval_from", report.window().evalFrom().toString());
        window.put("eval_to", report.window().evalTo().toString());
        root.put("data_window", window);
        root.put("catalog_pins", report.catalogPins());
        root.put("metrics", records(report));
        List<Map<String, Object>> coverage = new ArrayList<>();
        for (EvaluationReport.ModelResult m : report.models()) {
            for (RecallMetrics.Coverage c : m.result().coverage()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("model", m.model());
                row.put("task", c.task());
                row.put("surface", c.surface());
                row.put("users", c.users());
                row.put("events", c.events());
                row.put("users_without_query", c.usersWithoutQuery());
                row.put("events_without_query", c.eventsWithoutQuery());
                coverage.add(row);
            }
        }
        root.put("coverage", coverage);
        List<Map<String, Object>> intervals = new ArrayList<>();
        for (EvaluationReport.ModelResult m : report.models()) {
            for (RecallMetrics.Recall r : m.result().recalls()) {
                m.result().interval(r.task(), r.surface(), r.k(), r.metric()).ifPresent(i -> {
                    Map<String, Object> row = key(m.model(), r.task(), r.surface(), r.k(), r.metric());
                    row.put("recall", r.recall());
                    row.put("ci_low", finite(i.low()));
                    row.put("ci_high", finite(i.high()));
                    row.put("level", m.result().level());
                    intervals.add(row);
                });
            }
        }
        if (!intervals.isEmpty()) {
            root.put("intervals", intervals);
        }
        List<Map<String, Object>> comparisons = new ArrayList<>();
        for (EvaluationReport.Comparison c : report.comparisons()) {
            Map<String, Object> row = key(c.model(), c.task(), c.surface(), c.k(), c.metric());
            row.put("reference", c.reference());
            row.put("lift", finite(c.lift().lift()));
            row.put("ci_low", finite(c.lift().interval().low()));
            row.put("ci_high", finite(c.lift().interval().high()));
            comparisons.add(row);
        }
        if (!comparisons.isEmpty()) {
            root.put("comparisons", comparisons);
        }
        report.onlineAb().ifPresent(ab -> root.put("online_ab", onlineAb(ab)));
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render metrics.json", e);
        }
    }

    private static Map<String, Object> onlineAb(EvaluationReport.OnlineAb ab) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("k", ab.k());
        out.put("users", ab.users());
        out.put("reference", ab.reference());
        List<Map<String, Object>> arms = new ArrayList<>();
        for (OnlineReplay.ArmResult a : ab.arms()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("arm", a.arm());
            row.put("requests", a.requests());
            row.put("impressions", a.impressions());
            row.put("clicks", a.clicks());
            row.put("long_clicks", a.longClicks());
            row.put("add_to_carts", a.addToCarts());
            row.put("checkouts", a.checkouts());
            row.put("conversions", a.conversions());
            row.put("conversion_value", a.conversionValue());
            row.put("advertisers_converted", a.advertisersConverted());
            Map<String, Object> rates = new LinkedHashMap<>();
            a.rates().forEach((name, f) -> {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("value", finite(f.value()));
                if (f.interval() != null) {
                    r.put("ci_low", finite(f.interval().low()));
                    r.put("ci_high", finite(f.interval().high()));
                }
                if (!Double.isNaN(f.lift())) {
                    r.put("lift", finite(f.lift()));
                    if (f.liftInterval() != null) {
                        r.put("lift_ci_low", finite(f.liftInterval().low()));
                        r.put("lift_ci_high", finite(f.liftInterval().high()));
                    }
                }
                rates.put(name, r);
            });
            row.put("rates", rates);
            arms.add(row);
        }
        out.put("arms", arms);
        return out;
    }

    private static Map<String, Object> key(
            String model, String task, String surface, int k, RecallMetrics.Metric metric) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("model", model);
        row.put("task", task);
        row.put("surface", surface);
        row.put("k", k);
        row.put("metric", metric.label());
        return row;
    }

    /** JSON has no NaN: a lift over a reference that found nothing is null. */
    private static Double finite(double x) {
        return Double.isFinite(x) ? x : null;
    }

    /** The flat metric records, fields in contract order. */
    static List<Map<String, Object>> records(EvaluationReport report) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (EvaluationReport.ModelResult m : report.models()) {
            for (RecallMetrics.Recall r : m.result().recalls()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("model", m.model());
                row.put("task", r.task());
                row.put("surface", r.surface());
                row.put("k", r.k());
                row.put("recall", r.recall());
                row.put("metric", r.metric().label());
                row.put("users", r.users());
                row.put("events", r.events());
                out.add(row);
            }
        }
        return out;
    }
}
