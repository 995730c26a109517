package dev.convcg.model.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wall time of a training step's phases, summed over steps. On CPU libtorch runs eagerly, so the phase boundaries
 * are accurate; on a GPU they would measure kernel launches only.
 */
final class StepPhases {
    /** The phases, in step order. */
    static final List<String> NAMES = List.of("tensorize", "forward", "loss+backward", "clip", "optimizer", "metrics");

    private final long[] nanos = new long[NAMES.size()];
    private long steps;
    private int phase;
    private long lastNanos;

    /** Starts timing a step's first phase. */
    void begin() {
        phase = 0;
        lastNanos = System.nanoTime();
    }

    /** Ends the current phase and starts the next. */
    void lap() {
        long now = System.nanoTime();
        nanos[Math.min(phase++, nanos.length - 1)] += now - lastNanos;
        lastNanos = now;
    }

    /** Ends the step's last phase. */
    void endStep() {
        lap();
        steps++;
    }

    /** Seconds per step of each phase. */
    Map<String, Double> secondsPerStep() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.size(); i++) {
            out.put(NAMES.get(i), steps == 0 ? 0 : nanos[i] / 1e9 / steps);
        }
        return out;
    }

    void reset() {
        Arrays.fill(nanos, 0);
        steps = 0;
    }
}
