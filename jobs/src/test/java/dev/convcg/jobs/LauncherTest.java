package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** scripts/pipeline.sh as a scheduler calls it, through {@code --dry-run} (prints the command; builds nothing). */
class LauncherTest {
    private static String dryRun(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "scripts/pipeline.sh", "--dry-run"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .directory(new File("..").getCanonicalFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.lines()
                .filter(l -> l.contains("dev.convcg.jobs.Main"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out));
    }

    @Test
    void nightlySkipsCompleteStagesUnlessForcedOrTheUserSaysOtherwise() throws Exception {
        assertTrue(dryRun("nightly", "--ds", "2026-10-14").endsWith("--set skip-complete=true"));
        assertTrue(dryRun("nightly", "--force", "--ds", "2026-10-14").endsWith("--set skip-complete=false"));
        String userSet = dryRun("nightly", "--set", "skip-complete=false", "--ds", "2026-10-14");
        assertTrue(userSet.contains("--set skip-complete=false"), userSet);
        assertFalse(
                userSet.contains("skip-complete=true"),
                "the launcher never overrides a setting the user passed: " + userSet);
        assertFalse(dryRun("train", "--ds", "2026-10-14").contains("skip-complete"), "only nightly skips by default");
    }
}
