package dev.convcg.model.train;

import ai.djl.metric.Metrics;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;

/**
 * DJL training listener that estimates the seconds left in a fit at the pace of its steps so far and records them as
 * {@link TrainingMetrics#M_ETA_SECONDS} (-1 while unknown) for the listeners after it, such as the
 * {@link ProgressLoggingListener}. An epoch's length is the batch's progress total (the previous epoch's step count,
 * or the source's estimate for the first).
 */
final class EtaListener extends TrainingListenerAdapter {
    private final int epochs;
    private long startNanos = System.nanoTime();
    private long startStep = -1;

    EtaListener(int epochs) {
        this.epochs = epochs;
    }

    @Override
    public void onTrainingBegin(Trainer trainer) {
        startNanos = System.nanoTime();
        startStep = -1;
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        Metrics m = trainer.getMetrics();
        long step = (long) TrainingMetrics.latest(m, TrainingMetrics.M_STEP);
        if (startStep < 0) {
            startStep = step - 1;
        }
        int epoch = (int) TrainingMetrics.latest(m, TrainingMetrics.M_EPOCH);
        long perEpoch = batchData.getBatch().getProgressTotal();
        long steps = step - startStep;
        double eta = -1;
        if (perEpoch > 0 && steps > 0) {
            double secondsPerStep = (System.nanoTime() - startNanos) / 1e9 / steps;
            long left = (long) Math.max(0, epochs - epoch - 1) * perEpoch
                    + Math.max(0, perEpoch - batchData.getBatch().getProgress());
            eta = left * secondsPerStep;
        }
        m.addMetric(TrainingMetrics.M_ETA_SECONDS, eta);
    }
}
