package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void badCommandLinesExitWithUsageCode() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"no-such-stage"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--set"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--set", "novalue"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--set", "simulate.users=-1"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--bogus"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--then"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"--then", "simulate"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--then", "--then", "train"}));
        // a bad option of a later stage stops the chain before the first stage runs
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"simulate", "--then", "train", "--set", "novalue"}));
        assertEquals(
                Main.EXIT_USAGE,
                Main.run(new String[] {"simulate", "--then", "train", "--set", "spark.shuffle-partitions=3"}),
                "stages of one chain share one Spark session, so their spark settings must agree");
    }

    @Test
    void aCommandLineSplitsIntoStagesAtThen() {
        List<String[]> steps = Main.steps(new String[] {
            "simulate", "--config", "c.conf", "--then", "train", "--set", "run-date=2026-10-11", "--then", "evaluate"
        });
        assertEquals(3, steps.size());
        assertArrayEquals(new String[] {"simulate", "--config", "c.conf"}, steps.get(0));
        assertArrayEquals(new String[] {"train", "--set", "run-date=2026-10-11"}, steps.get(1));
        assertArrayEquals(new String[] {"evaluate"}, steps.get(2));
        assertEquals(1, Main.steps(new String[] {"simulate"}).size());
    }
}
