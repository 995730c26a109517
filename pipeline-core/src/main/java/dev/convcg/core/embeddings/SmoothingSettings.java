package dev.convcg.core.embeddings;

import java.io.Serializable;
import java.util.Arrays;

/**
 * How a day's fresh embeddings are combined with the previously published ones (DERM-style smoothing), and how long
 * an entity that stops appearing keeps its last embedding.
 *
 * @param mode          ACCUMULATE: publish the newest fresh embedding; MOVING_AVERAGE: {@code α·previous + (1-α)·fresh};
 *                      AVERAGE_POOLING: mean of the entity's last two fresh (daily) embeddings. Averages are
 *                      re-normalised to unit length.
 * @param alpha         weight of the previous published embedding in MOVING_AVERAGE, in [0, 1); DERM found weighting
 *                      the past more heavily best, hence the default 0.7
 * @param retentionDays an entity is kept while it was last active within the last {@code retentionDays} days
 *                      (the run day included); older entities are dropped
 */
public record SmoothingSettings(Mode mode, double alpha, int retentionDays) implements Serializable {

    /** The smoothing heuristics of the DERM paper. */
    public enum Mode {
        ACCUMULATE,
        MOVING_AVERAGE,
        AVERAGE_POOLING
    }

    public static final double DEFAULT_ALPHA = 0.7;
    public static final int DEFAULT_RETENTION_DAYS = 90;

    public SmoothingSettings {
        if (mode == null) {
            throw new IllegalArgumentException(
                    "smoothing = null is invalid; allowed: one of " + Arrays.toString(Mode.values()));
        }
        if (!(alpha >= 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha = " + alpha + " is invalid; allowed: a number in [0, 1)"
                    + " (the weight of the previous embedding; 1 would never update)");
        }
        if (retentionDays < 1) {
            throw new IllegalArgumentException(
                    "retention-days = " + retentionDays + " is invalid; allowed: an integer >= 1");
        }
    }

    /** MOVING_AVERAGE with α = 0.7 and a 90-day retention window. */
    public static SmoothingSettings defaults() {
        return new SmoothingSettings(Mode.MOVING_AVERAGE, DEFAULT_ALPHA, DEFAULT_RETENTION_DAYS);
    }
}
