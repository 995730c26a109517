package dev.convcg.model.data;

import dev.convcg.model.features.FeatureBatch;

/**
 * One training batch, column-wise: B softmax rows (CONVERSION or ENGAGEMENT examples) plus H
 * shared hard-negative pin columns (H may be 0). The in-batch softmax of row i has B + H columns:
 * the B positive pins, then the H hard negatives.
 *
 * @param user user/context features of the B rows
 * @param pin pin features of the B positive pins
 * @param pinIds raw pin id of each positive (accidental-hit masking)
 * @param advertiserIds advertiser id of each positive (advertiser-level loss)
 * @param tasks {@link Task#code()} per row; NEGATIVE is rejected (route those to hard negatives)
 * @param weights per-example weight
 * @param pinSamplingProb the positive pin's share of the positive stream, for logQ
 * @param hardNegativePins pin features of the H hard negatives, or null when H = 0
 * @param hardNegativePinIds raw pin ids of the hard negatives (masking), length H
 * @param hardNegativeAdvertiserIds advertiser ids of the hard negatives, length H
 * @param hardNegativeSamplingProb per hard negative: the probability with which it was sampled from
 *     the catalog (a sampled negative, logQ-corrected), or 0 for a served impression (no
 *     correction); null means all served
 */
public record TrainingBatch(
        FeatureBatch user,
        FeatureBatch pin,
        long[] pinIds,
        long[] advertiserIds,
        byte[] tasks,
        float[] weights,
        double[] pinSamplingProb,
        FeatureBatch hardNegativePins,
        long[] hardNegativePinIds,
        long[] hardNegativeAdvertiserIds,
        double[] hardNegativeSamplingProb) {

    public TrainingBatch {
        int b = user.rows();
        need("batch.user.rows", b > 0, b, "> 0");
        need("batch.pin.rows", pin.rows() == b, pin.rows(), "user rows (" + b + ")");
        need("batch.pinIds.length", pinIds.length == b, pinIds.length, String.valueOf(b));
        need("batch.advertiserIds.length", advertiserIds.length == b, advertiserIds.length, String.valueOf(b));
        need("batch.tasks.length", tasks.length == b, tasks.length, String.valueOf(b));
        need("batch.weights.length", weights.length == b, weights.length, String.valueOf(b));
        need("batch.pinSamplingProb.length", pinSamplingProb.length == b, pinSamplingProb.length, String.valueOf(b));
        for (byte t : tasks) {
            need(
                    "batch.tasks",
                    t == Task.CONVERSION.code() || t == Task.ENGAGEMENT.code(),
                    t,
                    "CONVERSION (0) or ENGAGEMENT (1); NEGATIVE rows belong in hard negatives");
        }
        for (double q : pinSamplingProb) {
            need("batch.pinSamplingProb", q > 0 && q <= 1, q, "a probability in (0, 1]");
        }
        int h = hardNegativePins == null ? 0 : hardNegativePins.rows();
        if (hardNegativePinIds == null) {
            hardNegativePinIds = new long[0];
        }
        if (hardNegativeAdvertiserIds == null) {
            hardNegativeAdvertiserIds = new long[0];
        }
        need(
                "batch.hardNegativePinIds.length",
                hardNegativePinIds.length == h,
                hardNegativePinIds.length,
                String.valueOf(h));
        need(
                "batch.hardNegativeAdvertiserIds.length",
                hardNegativeAdvertiserIds.length == h,
                hardNegativeAdvertiserIds.length,
                String.valueOf(h));
        if (hardNegativeSamplingProb == null) {
            hardNegativeSamplingProb = new double[h];
        }
        need(
                "batch.hardNegativeSamplingProb.length",
                hardNegativeSamplingProb.length == h,
                hardNegativeSamplingProb.length,
                String.valueOf(h));
        for (double q : hardNegativeSamplingProb) {
            need(
                    "batch.hardNegativeSamplingProb",
                    q >= 0 && q <= 1,
                    q,
                    "0 (served) or a probability in (0, 1] (sampled)");
        }
    }

    /** A batch without hard negatives. */
    public static TrainingBatch of(
            FeatureBatch user,
            FeatureBatch pin,
            long[] pinIds,
            long[] advertiserIds,
            byte[] tasks,
            float[] weights,
            double[] pinSamplingProb) {
        return new TrainingBatch(
                user, pin, pinIds, advertiserIds, tasks, weights, pinSamplingProb, null, null, null, null);
    }

    public int rows() {
        return user.rows();
    }

    /** The pin columns of the in-batch softmax: the B positives, then the first {@code h} hard negatives. */
    public FeatureBatch softmaxPins(int h) {
        if (h == 0) {
            return pin;
        }
        return FeatureBatch.concat(pin, h == hardNegatives() ? hardNegativePins : hardNegativePins.slice(0, h));
    }

    public int hardNegatives() {
        return hardNegativePins == null ? 0 : hardNegativePins.rows();
    }

    private static void need(String field, boolean ok, Object value, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(field + " = " + value + " is invalid; allowed: " + allowed);
        }
    }
}
