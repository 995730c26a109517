package dev.convcg.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** What a stage read and wrote (rows per table), printed as the stage's one-line summary. */
public final class StageReport {
    private final Map<String, Long> inputs = new LinkedHashMap<>();
    private final Map<String, Long> outputs = new LinkedHashMap<>();

    public StageReport input(String table, long rows) {
        inputs.put(table, rows);
        return this;
    }

    public StageReport output(String table, long rows) {
        outputs.put(table, rows);
        return this;
    }

    public Map<String, Long> outputs() {
        return Map.copyOf(outputs);
    }

    String summary() {
        return "in=" + render(inputs) + " out=" + render(outputs);
    }

    private static String render(Map<String, Long> m) {
        return m.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }
}
