package dev.convcg.model.train;

import ai.djl.training.Trainer;
import ai.djl.training.listener.EarlyStoppingListener.EarlyStoppedException;
import ai.djl.training.listener.TrainingListenerAdapter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL training listener that stops training when the monitored epoch loss (validation when there is one, else train;
 * {@link TrainingMetrics#monitoredEpochLoss}) has not improved by {@code minDelta} for {@code patience} epochs (0:
 * never). Like DJL's own {@code EarlyStoppingListener} it ends the fit by throwing {@link EarlyStoppedException} from
 * {@code onEpoch}; {@link TwoTowerTrainer#fit} finishes that epoch (metrics, checkpoint, epoch callback) and returns.
 */
public final class EarlyStopping extends TrainingListenerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(EarlyStopping.class);

    private final int patience;
    private final double minDelta;
    private double best = Double.POSITIVE_INFINITY;
    private int bad;

    public EarlyStopping(int patience, double minDelta) {
        this.patience = patience;
        this.minDelta = minDelta;
    }

    @Override
    public void onEpoch(Trainer trainer) {
        double loss = TrainingMetrics.monitoredEpochLoss(trainer.getMetrics());
        if (!shouldContinue(loss)) {
            int epoch = (int) TrainingMetrics.latest(trainer.getMetrics(), TrainingMetrics.M_EPOCH);
            throw new EarlyStoppedException(
                    epoch,
                    String.format(
                            Locale.ROOT,
                            "the monitored loss has not improved by %s for %d epoch(s) (best %.4f)",
                            minDelta,
                            bad,
                            best));
        }
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
