package dev.convcg.core.eval;

import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap over users, for recall figures that are ratios of per-user sums (event hit rate: hits over
 * events; user recall: per-user recall over users). Each replicate draws the users with replacement from a random
 * stream fixed by the seed, the figure's name and the replicate's index, and by nothing of the model, so two models
 * evaluated on the same users are resampled identically: their replicates pair up, and the interval of a relative
 * difference between them is a paired one. Plain Java, no Spark: the inputs are per-user sums collected from Spark.
 */
public final class Bootstrap {
    private Bootstrap() {}

    /**
     * How intervals are computed.
     *
     * @param replicates bootstrap replicates; 0 computes no interval
     * @param level      coverage of the interval, e.g. 0.95
     * @param seed       seed of the resampling
     */
    public record Settings(int replicates, double level, long seed) implements Serializable {
        public Settings {
            if (replicates < 0 || (replicates > 0 && replicates < 20)) {
                throw new IllegalArgumentException(
                        "intervals.replicates = " + replicates + ": must be 0 (no intervals) or at least 20");
            }
            if (!(level > 0 && level < 1)) {
                throw new IllegalArgumentException("intervals.level = " + level + ": must be in (0, 1)");
            }
        }

        public static final Settings NONE = new Settings(0, 0.95, 0);
    }

    /** A two-sided interval. */
    public record Interval(double low, double high) {
        public boolean contains(double x) {
            return x >= low && x <= high;
        }
    }

    /**
     * Replicates of {@code sum(numerators[s]) / sum(denominator)} over resampled users, for each series s at once
     * (one resampling serves them all). Users must come in a fixed order (e.g. by id) for pairing to hold.
     *
     * @return {@code [series][replicate]}
     */
    public static double[][] ratioReplicates(double[][] numerators, double[] denominator, String figure, Settings s) {
        int users = denominator.length;
        double[][] out = new double[numerators.length][s.replicates()];
        if (users == 0) {
            for (double[] row : out) {
                Arrays.fill(row, Double.NaN);
            }
            return out;
        }
        double[] sums = new double[numerators.length];
        for (int b = 0; b < s.replicates(); b++) {
            SplittableRandom rng = new SplittableRandom(s.seed() * 0x9E3779B97F4A7C15L + figure.hashCode() * 31L + b);
            Arrays.fill(sums, 0);
            double den = 0;
            for (int i = 0; i < users; i++) {
                int u = rng.nextInt(users);
                den += denominator[u];
                for (int series = 0; series < numerators.length; series++) {
                    sums[series] += numerators[series][u];
                }
            }
            for (int series = 0; series < numerators.length; series++) {
                out[series][b] = den == 0 ? Double.NaN : sums[series] / den;
            }
        }
        return out;
    }

    /** The percentile interval of replicates at the settings' level; NaN replicates are left out. */
    public static Interval percentile(double[] replicates, double level) {
        double[] v =
                Arrays.stream(replicates).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return new Interval(Double.NaN, Double.NaN);
        }
        double tail = (1 - level) / 2;
        return new Interval(quantile(v, tail), quantile(v, 1 - tail));
    }

    /** Replicates of {@code a / b - 1}, replicate by replicate (paired). */
    public static double[] relativeDifference(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = b[i] == 0 ? Double.NaN : a[i] / b[i] - 1;
        }
        return out;
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
