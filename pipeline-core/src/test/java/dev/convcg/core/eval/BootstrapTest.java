package dev.convcg.core.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapTest {
    private static final Bootstrap.Settings SETTINGS = new Bootstrap.Settings(400, 0.95, 7);

    /**
     * Users with 1-6 events, each a hit with probability 0.3: the event hit rate's 95% interval covers 0.3 in about
     * 95% of 300 independent synthetic evaluations (the binomial spread of 300 draws at 0.95 is +-0.013).
     */
    @Test
    void theIntervalCoversTheTrueHitRateAtAboutItsNominalRate() {
        Random world = new Random(2026);
        int covered = 0, trials = 300;
        for (int t = 0; t < trials; t++) {
            int users = 300;
            double[] events = new double[users];
            double[][] hits = new double[1][users];
            for (int u = 0; u < users; u++) {
                events[u] = 1 + world.nextInt(6);
                for (int e = 0; e < events[u]; e++) {
                    hits[0][u] += world.nextDouble() < 0.3 ? 1 : 0;
                }
            }
            double[] r = Bootstrap.ratioReplicates(hits, events, "trial", SETTINGS)[0];
            covered += Bootstrap.percentile(r, 0.95).contains(0.3) ? 1 : 0;
        }
        double rate = covered / (double) trials;
        assertTrue(rate >= 0.91 && rate <= 0.985, "coverage " + rate);
    }

    @Test
    void twoModelsOnTheSameUsersAreResampledIdenticallySoTheirDifferenceIsPaired() {
        Random world = new Random(3);
        int users = 500;
        double[] events = new double[users];
        double[][] a = new double[1][users];
        double[][] b = new double[1][users];
        for (int u = 0; u < users; u++) {
            events[u] = 1 + world.nextInt(4);
            a[0][u] = Math.floor(events[u] * world.nextDouble());
            b[0][u] = a[0][u] * 0.9;
        }
        double[] ra = Bootstrap.ratioReplicates(a, events, "conversion/all/events", SETTINGS)[0];
        double[] rb = Bootstrap.ratioReplicates(b, events, "conversion/all/events", SETTINGS)[0];
        Bootstrap.Interval lift = Bootstrap.percentile(Bootstrap.relativeDifference(ra, rb), 0.95);
        assertEquals(1 / 0.9 - 1, lift.low(), 1e-9, "b is a fixed share of a on every user: no spread in the lift");
        assertEquals(1 / 0.9 - 1, lift.high(), 1e-9);
        assertTrue(
                Bootstrap.percentile(ra, 0.95).high()
                                - Bootstrap.percentile(ra, 0.95).low()
                        > 0.01,
                "while each model's own interval has a width");
        assertArrayEquals(
                ra,
                Bootstrap.ratioReplicates(a, events, "conversion/all/events", SETTINGS)[0],
                "fixed seed: the same replicates every time");
    }

    @Test
    void settingsAreValidatedNamingTheKey() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> new Bootstrap.Settings(5, 0.95, 1));
        assertEquals("intervals.replicates = 5: must be 0 (no intervals) or at least 20", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Bootstrap.Settings(100, 1.5, 1));
        assertEquals("intervals.level = 1.5: must be in (0, 1)", e.getMessage());
    }
}
