package dev.convcg.model.train;

import ai.djl.training.tracker.Tracker;
import dev.convcg.model.config.TrainerConfig.ScheduleConfig;

/**
 * Learning rate as a pure function of the number of completed optimizer steps n, so a resumed run
 * continues on exactly the same curve:
 *
 * <pre>
 *   warm-up (n &lt; W):  lr · (n + 1) / W
 *   CONSTANT:          lr
 *   WARMUP_COSINE:     lr · (f + (1 − f) · ½ (1 + cos(π · min(1, (n − W) / D))))
 *   STEP:              lr · γ^⌊(n − W) / S⌋
 * </pre>
 */
public final class LrSchedule implements Tracker {
    private final float peak;
    private final ScheduleConfig s;

    public LrSchedule(float peak, ScheduleConfig schedule) {
        this.peak = peak;
        this.s = schedule;
    }

    @Override
    public float getNewValue(int completedSteps) {
        int n = Math.max(0, completedSteps);
        if (n < s.warmupSteps()) {
            return peak * (n + 1) / s.warmupSteps();
        }
        int after = n - s.warmupSteps();
        return switch (s.kind()) {
            case CONSTANT -> peak;
            case WARMUP_COSINE -> {
                double progress = Math.min(1.0, after / (double) s.decaySteps());
                double cos = 0.5 * (1 + Math.cos(Math.PI * progress));
                yield (float) (peak * (s.minLrFraction() + (1 - s.minLrFraction()) * cos));
            }
            case STEP -> (float) (peak * Math.pow(s.stepFactor(), after / s.stepEvery()));
        };
    }
}
