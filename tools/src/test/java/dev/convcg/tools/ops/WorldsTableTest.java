package dev.convcg.tools.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorldsTableTest {
    @Test
    void effectsAcrossWorldsWithATInterval(@TempDir Path out) throws Exception {
        double[][] byWorld = {{0.20, 0.10}, {0.30, 0.12}, {0.25, 0.15}};
        for (int w = 0; w < 3; w++) {
            Path dir = Files.createDirectories(
                    out.resolve("world-" + (42 + w)).resolve("reports").resolve("2026-10-14"));
            Files.writeString(
                    dir.resolve("ablation.json"),
                    String.format(
                            Locale.ROOT,
                            "[{\"variant\":\"default\",\"metric\":\"conversion recall@100\",\"mean\":%s,\"std\":0,\"seeds\":3},"
                                    + "{\"variant\":\"multi_head\",\"metric\":\"conversion recall@100\",\"mean\":%s,\"std\":0,\"seeds\":3}]",
                            byWorld[w][0],
                            byWorld[w][1]));
        }
        String table = WorldsTable.render(out, "2026-10-14", List.of("42", "43", "44"));
        // effects -0.5, -0.6, -0.4: mean -0.5, sd 0.1, t(2, 0.975) = 4.3027 -> half width 0.2484
        assertTrue(
                table.contains("| multi_head | conversion recall@100 | 0.1000 | 0.1200 | 0.1500 | 0.1233 ± 0.0252 "
                        + "| -50.0% [-74.8%, -25.2%] |"),
                table);
        assertTrue(
                table.contains("| default | conversion recall@100 | 0.2000 | 0.3000 | 0.2500 | 0.2500 ± 0.0500 |"),
                table);
        assertTrue(table.contains("| 42 | n/a | n/a | n/a | n/a |"), "no metrics.json: n/a\n" + table);
        double[] ci = WorldsTable.tInterval(new double[] {1, 2, 3});
        assertEquals(2 - 4.302653 / Math.sqrt(3), ci[0], 1e-5);
    }
}
