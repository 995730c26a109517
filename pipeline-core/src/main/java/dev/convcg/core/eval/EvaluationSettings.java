package dev.convcg.core.eval;

import java.io.Serializable;
import java.time.LocalDate;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How offline evaluation runs: the time split around the training end day T, the cut-offs K, the block sizes of
 * the exact top-K retrieval, and which baselines run. Validated here, so a bad value fails before Spark starts.
 *
 * @param evalDays       days after T whose held-out events are evaluated (T+1 .. T+evalDays)
 * @param trainingDays   days up to and including T whose examples feed the popularity and ALS baselines
 * @param ks             headline cut-offs (the report's tables), e.g. 100 and 1000
 * @param curveKs        cut-offs of the recall@K curves
 * @param queryBlockSize queries per block of the blocked matrix product
 * @param itemBlockSize  pins per block of the blocked matrix product
 * @param baselines      the baselines to run next to the model
 * @param als            the ALS baseline's hyper-parameters
 * @param maxUsers       most users evaluated: above it, a deterministic sample of about this many users (all their
 *                       held-out events) bounds the cost of the exact top-K; 0 evaluates every user
 * @param intervals      the bootstrap over users that gives every figure its interval
 * @param onlineAbK      candidates per (user, surface) each arm of the simulated online A/B serves from (on simulated
 *                       data only, {@code dev.convcg.core.sim.OnlineReplay}); 0: no online A/B
 */
public record EvaluationSettings(
        int evalDays,
        int trainingDays,
        List<Integer> ks,
        List<Integer> curveKs,
        int queryBlockSize,
        int itemBlockSize,
        Set<Baseline> baselines,
        AlsSettings als,
        int maxUsers,
        Bootstrap.Settings intervals,
        int onlineAbK)
        implements Serializable {

    /**
     * Models evaluated beside the project's own two-tower; names as in metrics.json. {@code HISTORY_TWO_TOWER} is the
     * two-tower blended with the history source (the user's own recent pins, then the two-tower's candidates).
     */
    public enum Baseline {
        POPULARITY,
        HISTORY,
        HISTORY_POPULARITY,
        HISTORY_TWO_TOWER,
        ALS,
        ORACLE,
        ENGAGEMENT_ONLY
    }

    /**
     * Implicit-feedback ALS: the preference of (user, pin) is its engagement count plus {@code conversionWeight} per
     * conversion in the training window.
     *
     * @param rank             latent dimension
     * @param regParam         L2 regularisation
     * @param alpha            confidence scale of implicit feedback
     * @param iterations       alternating least-squares sweeps
     * @param seed             initialisation seed
     * @param conversionWeight preference added per conversion (an engagement adds 1)
     * @param refitEveryDays   a stored fit whose training window ends fewer than this many days before the evaluated
     *                         day's is reused (1: refit every day)
     */
    public record AlsSettings(
            int rank,
            double regParam,
            double alpha,
            int iterations,
            long seed,
            double conversionWeight,
            int refitEveryDays)
            implements Serializable {
        public AlsSettings {
            positive("als.rank", rank);
            positive("als.refit-every-days", refitEveryDays);
            positive("als.iterations", iterations);
            if (!(regParam >= 0)) {
                throw new IllegalArgumentException("als.reg-param = " + regParam + ": must be a number >= 0");
            }
            if (!(alpha > 0)) {
                throw new IllegalArgumentException("als.alpha = " + alpha + ": must be a number > 0");
            }
            if (!(conversionWeight >= 0)) {
                throw new IllegalArgumentException(
                        "als.conversion-weight = " + conversionWeight + ": must be a number >= 0");
            }
        }
    }

    public EvaluationSettings {
        positive("eval-days", evalDays);
        positive("training-days", trainingDays);
        positive("query-block-size", queryBlockSize);
        positive("item-block-size", itemBlockSize);
        ks = cutoffs("ks", ks);
        curveKs = cutoffs("curve-ks", curveKs);
        baselines = Set.copyOf(baselines);
        if (als == null) {
            throw new IllegalArgumentException(
                    "als: missing; give rank, reg-param, alpha, iterations, seed, conversion-weight");
        }
        if (intervals == null) {
            throw new IllegalArgumentException("intervals: missing; give replicates, level, seed");
        }
        if (onlineAbK < 0) {
            throw new IllegalArgumentException(
                    "online-ab.k = " + onlineAbK + ": must be 0 (no online A/B) or a positive number");
        }
        if (maxUsers < 0) {
            throw new IllegalArgumentException(
                    "max-users = " + maxUsers + ": must be 0 (every user) or a positive number");
        }
    }

    /** Defaults of reference.conf, for tests and tools. */
    public static EvaluationSettings defaults() {
        return new EvaluationSettings(
                7,
                14,
                List.of(100, 1000),
                List.of(10, 20, 50, 100, 200, 500, 1000),
                256,
                4096,
                Set.of(Baseline.values()),
                new AlsSettings(32, 0.05, 10.0, 10, 42, 5.0, 7),
                100_000,
                new Bootstrap.Settings(500, 0.95, 7),
                100);
    }

    /** Every cut-off that is reported, ascending: the headline ks and the curve. */
    public List<Integer> allKs() {
        TreeSet<Integer> all = new TreeSet<>(ks);
        all.addAll(curveKs);
        return List.copyOf(all);
    }

    /** The largest cut-off: how many pins retrieval keeps per query. */
    public int maxK() {
        return allKs().get(allKs().size() - 1);
    }

    /** The day ranges around training end day {@code t}. */
    public DataWindow window(LocalDate t) {
        return new DataWindow(t.minusDays(trainingDays - 1L), t, t.plusDays(1), t.plusDays(evalDays));
    }

    /** Training days [trainFrom, trainTo = T] and evaluation days [evalFrom = T+1, evalTo], inclusive. */
    public record DataWindow(LocalDate trainFrom, LocalDate trainTo, LocalDate evalFrom, LocalDate evalTo)
            implements Serializable {}

    private static List<Integer> cutoffs(String key, List<Integer> values) {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException(key + " = []: must list at least one positive integer cut-off");
        }
        for (Integer k : values) {
            if (k == null || k <= 0) {
                throw new IllegalArgumentException(key + " = " + values + ": every cut-off must be a positive integer");
            }
        }
        return List.copyOf(new TreeSet<>(values));
    }

    private static void positive(String key, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " = " + v + ": must be a positive integer");
        }
    }
}
