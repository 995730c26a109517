package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

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
    }
}
