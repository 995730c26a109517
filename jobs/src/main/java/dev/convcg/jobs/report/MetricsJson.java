package dev.convcg.jobs.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.convcg.core.eval.RecallMetrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code metrics.json}, the contract other tools read: run metadata, then {@code metrics}, a flat list of
 * records with exactly the fields {@code model, task, surface, k, recall, metric, users, events}, then
 * {@code coverage}, how many held-out users and events had no query embedding (counted as misses).
 */
public final class MetricsJson {
    public static final List<String> RECORD_FIELDS = List.of("model", "task", "surface", "k", "recall", "metric", "users", "events");

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
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render metrics.json", e);
        }
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
