package dev.convcg.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A benchmark's command line: positional figures, and {@code key=value} configuration overrides (any argument with
 * an {@code =}), in the order given.
 */
record BenchArgs(List<String> positional, Map<String, String> overrides) {
    static BenchArgs parse(String[] args) {
        List<String> positional = new ArrayList<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq > 0) {
                overrides.put(a.substring(0, eq), a.substring(eq + 1));
            } else {
                positional.add(a);
            }
        }
        return new BenchArgs(positional, overrides);
    }

    /** The {@code i}-th positional argument, or {@code fallback} when absent. */
    String at(int i, String fallback) {
        return i < positional.size() ? positional.get(i) : fallback;
    }
}
