package dev.convcg.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a stage read and wrote (rows per table), and other counts worth a line (such as an import's duplicate rows),
 * printed as the stage's one-line summary.
 */
public final class StageReport {
    private final Map<String, Long> inputs = new LinkedHashMap<>();
    private final Map<String, Long> outputs = new LinkedHashMap<>();
    private final Map<String, Long> counts = new LinkedHashMap<>();

    public StageReport input(String table, long rows) {
        inputs.put(table, rows);
        return this;
    }

    public StageReport output(String table, long rows) {
        outputs.put(table, rows);
        return this;
    }

    public StageReport count(String name, long value) {
        counts.put(name, value);
        return this;
    }

    public Map<String, Long> outputs() {
        return Map.copyOf(outputs);
    }

    public Map<String, Long> counts() {
        return Map.copyOf(counts);
    }

    String summary() {
        return "in=" + render(inputs) + " out=" + render(outputs)
                + (counts.isEmpty() ? "" : " counts=" + render(counts));
    }

    private static String render(Map<String, Long> m) {
        return m.entrySet().stream()
                .map(e -> e.getKey() + ":" + e.getValue())
                .collect(Collectors.joining(",", "{", "}"));
    }
}
