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
        int partitions) implements Serializable {

    public SimulationSettings {
        positive("days", days);
        positive("users", users);
        positive("pins", pins);
        positive("advertisers", advertisers);
        positive("categories", categories);
        positive("topic-dim", topicDim);
        positive("partitions", partitions);
        if (advertisers > pins) {
            throw new IllegalArgumentException("advertisers = " + advertisers + ": must be at most pins (" + pins + ")");
        }
        if (!(impressionsPerUserDay > 0)) {
            throw new IllegalArgumentException("impressions-per-user-day = " + impressionsPerUserDay + ": must be > 0");
        }
        unit("active-user-rate", activeUserRate);
        unit("intent-correlation", intentCorrelation);
        unit("duplicate-report-rate", duplicateReportRate);
        unit("malformed-rate", malformedRate);
    }

    /** A small world for unit tests. */
    public static SimulationSettings tiny(long seed) {
        return new SimulationSettings(seed, LocalDate.of(2026, 10, 1), 5, 300, 400, 20, 8, 8,
                12.0, 0.8, 0.6, 0.02, 0.01, 2);
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
