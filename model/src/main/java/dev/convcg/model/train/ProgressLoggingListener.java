package dev.convcg.model.train;

import ai.djl.metric.Metrics;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL training listener that logs progress through slf4j: every N steps the epoch, global step,
 * examples/s since the last line, the loss per task and the ETA; at each epoch end the epoch's
 * mean train (and validation) losses. It reads the values {@link TwoTowerTrainer} puts into the
 * DJL trainer's {@link Metrics} (names in {@link TrainingMetrics}), so other listeners can use them
 * too.
 */
public final class ProgressLoggingListener implements TrainingListener {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressLoggingListener.class);

    private final int everyNSteps;
    private long lastNanos = System.nanoTime();
    private double examplesSinceLog;

    public ProgressLoggingListener(int everyNSteps) {
        this.everyNSteps = everyNSteps;
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        Metrics m = trainer.getMetrics();
        if (m == null) {
            return;
        }
        examplesSinceLog += batchData.getBatch().getSize();
        long step = (long) latest(m, TrainingMetrics.M_STEP);
        if (step % everyNSteps != 0) {
            return;
        }
        long now = System.nanoTime();
        double rate = examplesSinceLog / Math.max(1e-9, (now - lastNanos) / 1e9);
        lastNanos = now;
        examplesSinceLog = 0;
        double eta = latest(m, TrainingMetrics.M_ETA_SECONDS);
        LOG.info(String.format(
                Locale.ROOT,
                "epoch %d step %d (%d/%s in epoch) | %.0f examples/s | loss %.4f conv %.4f eng"
                        + " %.4f adv %.4f | lr %.2e | ETA %s",
                (int) latest(m, TrainingMetrics.M_EPOCH),
                step,
                batchData.getBatch().getProgress(),
                batchData.getBatch().getProgressTotal() > 0
                        ? String.valueOf(batchData.getBatch().getProgressTotal())
                        : "?",
                rate,
                latest(m, TrainingMetrics.M_LOSS),
                latest(m, TrainingMetrics.M_LOSS_CONV),
                latest(m, TrainingMetrics.M_LOSS_ENG),
                latest(m, TrainingMetrics.M_LOSS_ADV),
                latest(m, TrainingMetrics.M_LR),
                eta >= 0 ? formatSeconds(eta) : "unknown"));
    }

    @Override
    public void onEpoch(Trainer trainer) {
        Metrics m = trainer.getMetrics();
        if (m == null) {
            return;
        }
        String val = m.hasMetric(TrainingMetrics.M_EPOCH_VAL_LOSS)
                ? String.format(
                        Locale.ROOT,
                        " | val loss %.4f conv %.4f eng %.4f adv %.4f",
                        latest(m, TrainingMetrics.M_EPOCH_VAL_LOSS),
                        latest(m, TrainingMetrics.M_EPOCH_VAL_CONV),
                        latest(m, TrainingMetrics.M_EPOCH_VAL_ENG),
                        latest(m, TrainingMetrics.M_EPOCH_VAL_ADV))
                : "";
        LOG.info(String.format(
                Locale.ROOT,
                "epoch %d done: %d steps | train loss %.4f conv %.4f eng %.4f adv %.4f%s",
                (int) latest(m, TrainingMetrics.M_EPOCH),
                (long) latest(m, TrainingMetrics.M_STEP),
                latest(m, TrainingMetrics.M_EPOCH_LOSS),
                latest(m, TrainingMetrics.M_EPOCH_CONV),
                latest(m, TrainingMetrics.M_EPOCH_ENG),
                latest(m, TrainingMetrics.M_EPOCH_ADV),
                val));
    }

    @Override
    public void onValidationBatch(Trainer trainer, BatchData batchData) {}

    @Override
    public void onTrainingBegin(Trainer trainer) {
        lastNanos = System.nanoTime();
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {}

    private static double latest(Metrics m, String name) {
        return TrainingMetrics.latest(m, name);
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return String.format(Locale.ROOT, "%dh%02dm%02ds", t / 3600, (t / 60) % 60, t % 60);
    }
}
