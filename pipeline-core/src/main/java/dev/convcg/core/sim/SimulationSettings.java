package dev.convcg.core.sim;

import java.io.Serializable;
import java.time.LocalDate;

/**
 * Size and behaviour of the simulated shopping-ads platform. Deterministic: the same settings give the same
 * tables, whatever the Spark partitioning.
 *
 * @param seed                   root of every random stream
 * @param startDate              first simulated day (UTC)
 * @param days                   number of simulated days
 * @param users                  number of users
 * @param pins                   number of pins (products) in the catalog, including pins created during the window
 * @param advertisers            number of advertisers; each owns pins mostly in one category
 * @param categories             number of product categories (topics)
 * @param topicDim               dimension of the latent topic space
 * @param impressionsPerUserDay  mean impressions of an active user on a day
 * @param activeUserRate         mean probability that a user is active on a day
 * @param intentCorrelation      correlation between a user's engagement interest and purchase intent, in [0, 1]
 * @param duplicateReportRate    share of conversions reported twice by the advertiser
 * @param malformedRate          share of emitted raw rows corrupted on purpose (null ids, bad enums, ...)
 * @param partitions             Spark partitions used to generate events
 * @param behaviour              the shoppers' behaviour knobs that calibration sets (docs/simulator.md)
 */
public record SimulationSettings(
        long seed,
        LocalDate startDate,
        int days,
        int users,
        int pins,
        int advertisers,
        int categories,
        int topicDim,
        double impressionsPerUserDay,
        double activeUserRate,
        double intentCorrelation,
        double duplicateReportRate,
        double malformedRate,
        int partitions,
        Behaviour behaviour)
        implements Serializable {

    /**
     * How shoppers convert and come back, the knobs a world is calibrated with (docs/simulator.md).
     *
     * @param conversionLogitShift added to every pin's conversion logit: below 0 makes conversions rarer
     * @param advertiserQualitySd  standard deviation of the advertisers' conversion quality (a logit offset)
     * @param returnRate           probability that a home-feed or related-pins slot shows a pin the user clicked on an
     *                             earlier day (the last {@value #RETURN_MEMORY} such pins), instead of the policy's pick
     * @param organicPerDay        mean organic purchases an active user attempts per day (no impression before)
     * @param viewThroughPenalty   logit penalty of a conversion after an impression that was not clicked
     */
    public record Behaviour(
            double conversionLogitShift,
            double advertiserQualitySd,
            double returnRate,
            double organicPerDay,
            double viewThroughPenalty)
            implements Serializable {
        /** Pins a user's return visits draw from. */
        public static final int RETURN_MEMORY = 20;
        /**
         * The world before calibration (conf/sim-dense.conf): 0.24 conversion reports per click, no return visits. The
         * tests' small worlds keep it (enough conversions to test mechanics on); reference.conf's defaults are the
         * calibrated world.
         */
        public static final Behaviour DENSE = new Behaviour(0.0, 0.9, 0.0, 0.04, 3.0);

        public Behaviour {
            if (!(advertiserQualitySd >= 0)) {
                throw new IllegalArgumentException("advertiser-quality-sd = " + advertiserQualitySd + ": must be >= 0");
            }
            unit("return-rate", returnRate);
            if (!(organicPerDay >= 0)) {
                throw new IllegalArgumentException("organic-per-day = " + organicPerDay + ": must be >= 0");
            }
            if (!Double.isFinite(conversionLogitShift) || !Double.isFinite(viewThroughPenalty)) {
                throw new IllegalArgumentException("conversion-logit-shift and view-through-penalty must be numbers");
            }
        }
    }

    /** The settings of a world with {@link Behaviour#DENSE} behaviour. */
    public SimulationSettings(
            long seed,
            LocalDate startDate,
            int days,
            int users,
            int pins,
            int advertisers,
            int categories,
            int topicDim,
            double impressionsPerUserDay,
            double activeUserRate,
            double intentCorrelation,
            double duplicateReportRate,
            double malformedRate,
            int partitions) {
        this(
                seed,
                startDate,
                days,
                users,
                pins,
                advertisers,
                categories,
                topicDim,
                impressionsPerUserDay,
                activeUserRate,
                intentCorrelation,
                duplicateReportRate,
                malformedRate,
                partitions,
                Behaviour.DENSE);
    }

    public SimulationSettings {
        positive("days", days);
        positive("users", users);
        positive("pins", pins);
        positive("advertisers", advertisers);
        positive("categories", categories);
        positive("topic-dim", topicDim);
        positive("partitions", partitions);
        if (advertisers > pins) {
            throw new IllegalArgumentException(
                    "advertisers = " + advertisers + ": must be at most pins (" + pins + ")");
        }
        if (!(impressionsPerUserDay > 0)) {
            throw new IllegalArgumentException("impressions-per-user-day = " + impressionsPerUserDay + ": must be > 0");
        }
        unit("active-user-rate", activeUserRate);
        unit("intent-correlation", intentCorrelation);
        unit("duplicate-report-rate", duplicateReportRate);
        unit("malformed-rate", malformedRate);
        if (behaviour == null) {
            throw new IllegalArgumentException("behaviour: missing");
        }
    }

    /** A small world for unit tests. */
    public static SimulationSettings tiny(long seed) {
        return new SimulationSettings(
                seed, LocalDate.of(2026, 10, 1), 5, 300, 400, 20, 8, 8, 12.0, 0.8, 0.6, 0.02, 0.01, 2);
    }

    /** Day index (0-based) to date. */
    public LocalDate day(int index) {
        return startDate.plusDays(index);
    }

    /** First instant after the simulated window, in epoch milliseconds. */
    public long horizonEndMillis() {
        return startDate.plusDays(days).toEpochDay() * Simulator.DAY_MS;
    }

    private static void positive(String key, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " = " + v + ": must be a positive integer");
        }
    }

    private static void unit(String key, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(key + " = " + v + ": must be in [0, 1]");
        }
    }
}
