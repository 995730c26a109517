package dev.convcg.model.train;

import ai.djl.metric.Metric;
import ai.djl.metric.Metrics;

/**
 * Names of the values {@link TwoTowerTrainer} records into the DJL trainer's {@link Metrics} after every step and
 * epoch (and {@link EtaListener} the ETA), which the listeners ({@link ProgressLoggingListener}, {@link EarlyStopping},
 * or any other) read.
 */
public final class TrainingMetrics {
    public static final String M_STEP = "global_step";
    public static final String M_EPOCH = "epoch";
    public static final String M_LR = "learning_rate";
    public static final String M_GRAD_NORM = "grad_norm";
    public static final String M_ETA_SECONDS = "eta_seconds";
    public static final String M_LOSS = "train_loss";
    public static final String M_LOSS_CONV = "train_loss_conversion";
    public static final String M_LOSS_ENG = "train_loss_engagement";
    public static final String M_LOSS_ADV = "train_loss_advertiser";
    public static final String M_EPOCH_LOSS = "epoch_train_loss";
    public static final String M_EPOCH_CONV = "epoch_train_loss_conversion";
    public static final String M_EPOCH_ENG = "epoch_train_loss_engagement";
    public static final String M_EPOCH_ADV = "epoch_train_loss_advertiser";
    public static final String M_EPOCH_VAL_LOSS = "epoch_val_loss";
    public static final String M_EPOCH_VAL_CONV = "epoch_val_loss_conversion";
    public static final String M_EPOCH_VAL_ENG = "epoch_val_loss_engagement";
    public static final String M_EPOCH_VAL_ADV = "epoch_val_loss_advertiser";

    private TrainingMetrics() {}

    /** The latest value recorded under {@code name}, NaN when none was. */
    public static double latest(Metrics m, String name) {
        if (m == null || !m.hasMetric(name)) {
            return Double.NaN;
        }
        Metric metric = m.latestMetric(name);
        return metric.getValue().doubleValue();
    }

    /** The loss early stopping and best-epoch selection watch: the epoch's validation loss, else its train loss. */
    public static double monitoredEpochLoss(Metrics m) {
        return m.hasMetric(M_EPOCH_VAL_LOSS) ? latest(m, M_EPOCH_VAL_LOSS) : latest(m, M_EPOCH_LOSS);
    }

    /** One step's values. */
    static void recordStep(Metrics m, long step, int epoch, double lr, double gradNorm, LossValues loss) {
        m.addMetric(M_STEP, step);
        m.addMetric(M_EPOCH, epoch);
        m.addMetric(M_LR, lr);
        m.addMetric(M_GRAD_NORM, gradNorm);
        record(m, M_LOSS, M_LOSS_CONV, M_LOSS_ENG, M_LOSS_ADV, loss);
    }

    /** An epoch's mean train and (when there is one) validation losses. */
    static void recordEpoch(Metrics m, LossValues train, LossValues validation) {
        record(m, M_EPOCH_LOSS, M_EPOCH_CONV, M_EPOCH_ENG, M_EPOCH_ADV, train);
        if (validation != null) {
            record(m, M_EPOCH_VAL_LOSS, M_EPOCH_VAL_CONV, M_EPOCH_VAL_ENG, M_EPOCH_VAL_ADV, validation);
        }
    }

    private static void record(Metrics m, String total, String conv, String eng, String adv, LossValues v) {
        m.addMetric(total, v.total());
        m.addMetric(conv, v.conversion());
        m.addMetric(eng, v.engagement());
        m.addMetric(adv, v.advertiser());
    }
}
