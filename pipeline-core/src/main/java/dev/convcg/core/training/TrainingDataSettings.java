package dev.convcg.core.training;

import dev.convcg.core.schema.ConversionType;
import java.io.Serializable;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything the {@code build-training-data} stage can be tuned with. Defaults are in {@link #defaults()}; the
 * click weight function is documented in docs/training-data.md.
 *
 * @param clickThroughWindowDays    a conversion goes to the latest click on the same (user, pin) at most this many
 *                                  days before it
 * @param viewThroughWindowDays     otherwise to the latest impression at most this many days before it
 * @param lookbackDays              days of examples (ending on the run date) rebuilt by each run
 * @param conversionWeights         weight of a conversion positive, per conversion type (all types required)
 * @param clickWeightShape          LOG: duration-weighted clicks; NONE: every click weighs 1 (ablation)
 * @param clickWeightIntercept      a in {@code w = clamp(a + b·ln(1 + d/t_max), min, max)}
 * @param clickWeightSlope          b in the same formula
 * @param clickDurationTMaxMs       t_max, the dwell duration (ms) at which the log term reaches ln 2
 * @param clickWeightMin            lower clamp of a click weight
 * @param clickWeightMax            upper clamp of a click weight
 * @param saveWeight                weight of a save positive
 * @param hardNegativeRate          share of eligible (unengaged, unconverted) impressions kept as hard negatives
 * @param hardNegativeCapPerUserDay most hard negatives kept per user and day
 * @param historyLength             N, the length of the user's engaged and converted pin sequences
 * @param featureWindowDays         trailing window of user activity counts, sequences and pin CTR/CVR
 * @param ctrPriorMean              mean of the Beta prior of the pin click-through rate
 * @param cvrPriorMean              mean of the Beta prior of the pin conversion rate (per impression)
 * @param priorStrength             pseudo-impressions of both Beta priors (α + β)
 * @param priceSplits               ascending price bucket boundaries for {@code pin_price_bucket}
 * @param quarantineThreshold       the stage fails when a table's quarantined share exceeds this
 * @param seed                      seed of the hard-negative and sampled-negative hashes
 * @param sampledNegatives          negatives drawn from the day's catalog, for logs without served impressions
 * @param sameDayRepeats            KEEP: every repeat of a positive is an example; COLLAPSE: one per (user, pin, event
 *                                  type, day), see {@link SameDayRepeats}
 */
public record TrainingDataSettings(
        int clickThroughWindowDays,
        int viewThroughWindowDays,
        int lookbackDays,
        Map<ConversionType, Double> conversionWeights,
        ClickWeightShape clickWeightShape,
        double clickWeightIntercept,
        double clickWeightSlope,
        long clickDurationTMaxMs,
        double clickWeightMin,
        double clickWeightMax,
        double saveWeight,
        double hardNegativeRate,
        int hardNegativeCapPerUserDay,
        int historyLength,
        int featureWindowDays,
        double ctrPriorMean,
        double cvrPriorMean,
        double priorStrength,
        double[] priceSplits,
        double quarantineThreshold,
        long seed,
        SampledNegativeSettings sampledNegatives,
        SameDayRepeats sameDayRepeats)
        implements Serializable {

    /**
     * What the positives of one (user, pin, task, event type, day) become when a log repeats them (real logs with
     * day-level timestamps record several clicks of a user on one item in a day as identical rows).
     */
    public enum SameDayRepeats {
        /** Each repeat is its own example. */
        KEEP,
        /** One example, the earliest, its weight multiplied by {@code 1 + ln(n)} for n repeats. */
        COLLAPSE
    }

    /** Which pins sampled negatives are drawn from: none, every catalog pin alike, or by popularity. */
    public enum NegativeSampling {
        /** No sampled negatives (served impressions are the hard negatives). */
        NONE,
        /** Every pin of the day's catalog with the same probability. */
        UNIFORM,
        /** A pin of the day's catalog with probability proportional to 1 + its positives in the run's examples. */
        POPULARITY
    }

    /**
     * Negatives sampled from the catalog of the example's day (docs/training-data.md): {@code perPositive} NEGATIVE
     * rows (event_type SAMPLED) per positive example, never the example's own pin, each carrying its sampling
     * probability for the logQ correction.
     */
    public record SampledNegativeSettings(NegativeSampling distribution, int perPositive) implements Serializable {
        public SampledNegativeSettings {
            if (distribution == null) {
                throw new IllegalArgumentException("sampled-negatives.distribution is missing: one of "
                        + Arrays.toString(NegativeSampling.values()));
            }
            if (perPositive < 0) {
                throw new IllegalArgumentException(
                        "sampled-negatives.per-positive = " + perPositive + ": must be >= 0");
            }
        }

        public static SampledNegativeSettings none() {
            return new SampledNegativeSettings(NegativeSampling.NONE, 0);
        }

        /** Whether a run draws any. */
        public boolean enabled() {
            return distribution != NegativeSampling.NONE && perPositive > 0;
        }
    }

    /** How a click's dwell duration turns into its weight. */
    public enum ClickWeightShape {
        /** {@code w = clamp(a + b·ln(1 + d/t_max), min, max)}; a click of unknown duration weighs 1. */
        LOG,
        /** Every click weighs 1: duration reweighting off. */
        NONE
    }

    public TrainingDataSettings {
        if (sampledNegatives == null) {
            sampledNegatives = SampledNegativeSettings.none();
        }
        if (sameDayRepeats == null) {
            sameDayRepeats = SameDayRepeats.COLLAPSE;
        }
        positive("click-through-window-days", clickThroughWindowDays);
        positive("view-through-window-days", viewThroughWindowDays);
        positive("lookback-days", lookbackDays);
        positive("click-weight.t-max-ms", clickDurationTMaxMs);
        positive("history-length", historyLength);
        positive("feature-window-days", featureWindowDays);
        if (hardNegativeCapPerUserDay < 0) {
            throw new IllegalArgumentException(
                    "hard-negatives.cap-per-user-day = " + hardNegativeCapPerUserDay + ": must be >= 0");
        }
        if (conversionWeights == null) {
            throw new IllegalArgumentException("conversion-weights is missing: give a weight for each of "
                    + Arrays.toString(ConversionType.values()));
        }
        for (ConversionType t : ConversionType.values()) {
            Double w = conversionWeights.get(t);
            if (w == null) {
                throw new IllegalArgumentException("conversion-weights." + t
                        + " is missing: give a weight > 0 for each of " + Arrays.toString(ConversionType.values()));
            }
            positiveWeight("conversion-weights." + t, w);
        }
        conversionWeights = Map.copyOf(new EnumMap<>(conversionWeights));
        if (clickWeightShape == null) {
            throw new IllegalArgumentException(
                    "click-weight.shape is missing: one of " + Arrays.toString(ClickWeightShape.values()));
        }
        finite("click-weight.intercept", clickWeightIntercept);
        finite("click-weight.slope", clickWeightSlope);
        positiveWeight("click-weight.min", clickWeightMin);
        positiveWeight("click-weight.max", clickWeightMax);
        if (clickWeightMax < clickWeightMin) {
            throw new IllegalArgumentException(
                    "click-weight.max = " + clickWeightMax + ": must be >= click-weight.min (" + clickWeightMin + ")");
        }
        positiveWeight("save-weight", saveWeight);
        unit("hard-negatives.rate", hardNegativeRate);
        openUnit("ctr-prior-mean", ctrPriorMean);
        openUnit("cvr-prior-mean", cvrPriorMean);
        positiveWeight("prior-strength", priorStrength);
        unit("quarantine-threshold", quarantineThreshold);
        if (priceSplits == null || priceSplits.length < 1) {
            throw new IllegalArgumentException("price-splits is empty: give at least one ascending price boundary");
        }
        priceSplits = priceSplits.clone();
        for (int i = 0; i < priceSplits.length; i++) {
            if (!Double.isFinite(priceSplits[i]) || (i > 0 && priceSplits[i] <= priceSplits[i - 1])) {
                throw new IllegalArgumentException(
                        "price-splits = " + Arrays.toString(priceSplits) + ": must be finite and strictly ascending");
            }
        }
    }

    /** The defaults agreed for the pipeline (see docs/training-data.md). */
    public static TrainingDataSettings defaults() {
        return new TrainingDataSettings(
                7,
                1,
                7,
                Map.of(ConversionType.ADD_TO_CART, 1.0, ConversionType.CHECKOUT, 2.0),
                ClickWeightShape.LOG,
                0.5,
                1.0,
                30_000L,
                0.25,
                3.0,
                1.0,
                0.1,
                50,
                20,
                28,
                0.02,
                0.001,
                100.0,
                new double[] {5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000},
                0.01,
                17L,
                SampledNegativeSettings.none(),
                SameDayRepeats.COLLAPSE);
    }

    /** These settings with another hard-negative rate and cap. */
    public TrainingDataSettings withHardNegatives(double rate, int capPerUserDay) {
        return new TrainingDataSettings(
                clickThroughWindowDays,
                viewThroughWindowDays,
                lookbackDays,
                conversionWeights,
                clickWeightShape,
                clickWeightIntercept,
                clickWeightSlope,
                clickDurationTMaxMs,
                clickWeightMin,
                clickWeightMax,
                saveWeight,
                rate,
                capPerUserDay,
                historyLength,
                featureWindowDays,
                ctrPriorMean,
                cvrPriorMean,
                priorStrength,
                priceSplits,
                quarantineThreshold,
                seed,
                sampledNegatives,
                sameDayRepeats);
    }

    /** These settings with another click weight shape. */
    public TrainingDataSettings withClickWeightShape(ClickWeightShape shape) {
        return new TrainingDataSettings(
                clickThroughWindowDays,
                viewThroughWindowDays,
                lookbackDays,
                conversionWeights,
                shape,
                clickWeightIntercept,
                clickWeightSlope,
                clickDurationTMaxMs,
                clickWeightMin,
                clickWeightMax,
                saveWeight,
                hardNegativeRate,
                hardNegativeCapPerUserDay,
                historyLength,
                featureWindowDays,
                ctrPriorMean,
                cvrPriorMean,
                priorStrength,
                priceSplits,
                quarantineThreshold,
                seed,
                sampledNegatives,
                sameDayRepeats);
    }

    /** These settings with other sampled negatives. */
    public TrainingDataSettings withSampledNegatives(SampledNegativeSettings negatives) {
        return new TrainingDataSettings(
                clickThroughWindowDays,
                viewThroughWindowDays,
                lookbackDays,
                conversionWeights,
                clickWeightShape,
                clickWeightIntercept,
                clickWeightSlope,
                clickDurationTMaxMs,
                clickWeightMin,
                clickWeightMax,
                saveWeight,
                hardNegativeRate,
                hardNegativeCapPerUserDay,
                historyLength,
                featureWindowDays,
                ctrPriorMean,
                cvrPriorMean,
                priorStrength,
                priceSplits,
                quarantineThreshold,
                seed,
                negatives,
                sameDayRepeats);
    }

    /** These settings with another lookback. */
    public TrainingDataSettings withLookbackDays(int days) {
        return new TrainingDataSettings(
                clickThroughWindowDays,
                viewThroughWindowDays,
                days,
                conversionWeights,
                clickWeightShape,
                clickWeightIntercept,
                clickWeightSlope,
                clickDurationTMaxMs,
                clickWeightMin,
                clickWeightMax,
                saveWeight,
                hardNegativeRate,
                hardNegativeCapPerUserDay,
                historyLength,
                featureWindowDays,
                ctrPriorMean,
                cvrPriorMean,
                priorStrength,
                priceSplits,
                quarantineThreshold,
                seed,
                sampledNegatives,
                sameDayRepeats);
    }

    /** These settings with another treatment of same-day repeats. */
    public TrainingDataSettings withSameDayRepeats(SameDayRepeats repeats) {
        return new TrainingDataSettings(
                clickThroughWindowDays,
                viewThroughWindowDays,
                lookbackDays,
                conversionWeights,
                clickWeightShape,
                clickWeightIntercept,
                clickWeightSlope,
                clickDurationTMaxMs,
                clickWeightMin,
                clickWeightMax,
                saveWeight,
                hardNegativeRate,
                hardNegativeCapPerUserDay,
                historyLength,
                featureWindowDays,
                ctrPriorMean,
                cvrPriorMean,
                priorStrength,
                priceSplits,
                quarantineThreshold,
                seed,
                sampledNegatives,
                repeats);
    }

    /** The weight of a click of {@code durationMs} (null: unknown), as the stage computes it. */
    public double clickWeight(Long durationMs) {
        if (clickWeightShape == ClickWeightShape.NONE || durationMs == null) {
            return 1.0;
        }
        double w = clickWeightIntercept + clickWeightSlope * Math.log1p((double) durationMs / clickDurationTMaxMs);
        return Math.max(clickWeightMin, Math.min(clickWeightMax, w));
    }

    @Override
    public double[] priceSplits() {
        return priceSplits.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingDataSettings t && toString().equals(t.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "TrainingDataSettings[click-through-window-days=" + clickThroughWindowDays
                + ", view-through-window-days=" + viewThroughWindowDays + ", lookback-days=" + lookbackDays
                + ", conversion-weights=" + new TreeMap<>(conversionWeights)
                + ", click-weight-shape=" + clickWeightShape + ", click-weight-intercept=" + clickWeightIntercept
                + ", click-weight-slope=" + clickWeightSlope + ", click-duration-t-max-ms=" + clickDurationTMaxMs
                + ", click-weight-min=" + clickWeightMin + ", click-weight-max=" + clickWeightMax
                + ", save-weight=" + saveWeight + ", hard-negative-rate=" + hardNegativeRate
                + ", hard-negative-cap-per-user-day=" + hardNegativeCapPerUserDay + ", history-length=" + historyLength
                + ", feature-window-days=" + featureWindowDays + ", ctr-prior-mean=" + ctrPriorMean
                + ", cvr-prior-mean=" + cvrPriorMean + ", prior-strength=" + priorStrength
                + ", price-splits=" + Arrays.toString(priceSplits) + ", quarantine-threshold=" + quarantineThreshold
                + ", seed=" + seed + "]";
    }

    private static void positive(String key, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " = " + v + ": must be a positive integer");
        }
    }

    private static void positiveWeight(String key, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(key + " = " + v + ": must be a finite number > 0");
        }
    }

    private static void finite(String key, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(key + " = " + v + ": must be a finite number");
        }
    }

    private static void unit(String key, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(key + " = " + v + ": must be in [0, 1]");
        }
    }

    private static void openUnit(String key, double v) {
        if (!(v > 0 && v < 1)) {
            throw new IllegalArgumentException(key + " = " + v + ": must be in (0, 1)");
        }
    }
}
