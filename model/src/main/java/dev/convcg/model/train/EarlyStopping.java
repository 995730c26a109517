package dev.convcg.model.train;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops training when the monitored loss has not improved by {@code minDelta} for {@code patience} epochs
 * (0: never). Used as the {@link TwoTowerTrainer#fit(EpochSource, EpochSource, java.util.function.Predicate)}
 * epoch callback's verdict.
 */
public final class EarlyStopping {
    private static final Logger LOG = LoggerFactory.getLogger(EarlyStopping.class);

    private final int patience;
    private final double minDelta;
    private double best = Double.POSITIVE_INFINITY;
    private int bad;

    public EarlyStopping(int patience, double minDelta) {
        this.patience = patience;
        this.minDelta = minDelta;
    }

    /** Whether to train another epoch after one whose monitored loss was {@code loss}. */
    public boolean shouldContinue(double loss) {
        if (loss < best - minDelta) {
            best = loss;
            bad = 0;
            return true;
        }
        bad++;
        if (patience > 0 && bad >= patience) {
            LOG.info(
                    "early stopping: validation loss has not improved by {} for {} epoch(s) (best {})",
                    minDelta,
                    bad,
                    String.format(Locale.ROOT, "%.4f", best));
            return false;
        }
        return true;
    }
}
