package dev.convcg.jobs.stages;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.StageMarkers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class CheckInputsAndMarkersTest {
    @TempDir
    static Path simulated;

    @BeforeAll
    static void simulate() {
        assertEquals(Main.EXIT_OK, Main.run("simulate", TestConfigs.tiny(simulated), SparkTest.session()));
    }

    @Test
    void missingInputsExitWithThreeAndTheNightlyStopsThere(SparkSession spark, @TempDir Path empty) {
        PipelineConfig nothing = TestConfigs.tiny(empty, "run-date", "2026-10-03");
        assertEquals(Main.EXIT_INPUTS_MISSING, Main.run("check-inputs", nothing, spark));
        assertEquals(Main.EXIT_INPUTS_MISSING, Main.run("nightly", nothing, spark));
        assertFalse(Files.exists(empty.resolve("models")), "nothing was trained on missing inputs");

        assertEquals(
                Main.EXIT_OK, Main.run("check-inputs", TestConfigs.tiny(simulated, "run-date", "2026-10-03"), spark));
        assertEquals(
                Main.EXIT_INPUTS_MISSING,
                Main.run("check-inputs", TestConfigs.tiny(simulated, "run-date", "2026-10-20"), spark),
                "a day after the simulated window has no logs yet");
    }

    @Test
    void aCompleteStageIsSkippedUnlessForced(SparkSession spark) throws Exception {
        PipelineConfig skip = TestConfigs.tiny(simulated, "run-date", "2026-10-04", "skip-complete", "true");
        assertEquals(Main.EXIT_OK, Main.run("check-inputs", skip, spark));
        Path marker = new StageMarkers(skip.storageRoot()).marker("check-inputs", LocalDate.of(2026, 10, 4));
        assertTrue(Files.readString(marker).contains("status=OK"));
        long written = Files.getLastModifiedTime(marker).toMillis();
        Thread.sleep(20);
        assertEquals(Main.EXIT_OK, Main.run("check-inputs", skip, spark));
        assertEquals(written, Files.getLastModifiedTime(marker).toMillis(), "skipped: the marker is untouched");
        assertEquals(
                Main.EXIT_OK, Main.run("check-inputs", TestConfigs.tiny(simulated, "run-date", "2026-10-04"), spark));
        assertTrue(Files.getLastModifiedTime(marker).toMillis() > written, "forced: the stage ran again");
    }

    /**
     * Each nightly stage failing for real (its input was never written, while the stages before it are marked
     * complete) ends the chain with 10 + its position, and nothing after it runs.
     */
    @Test
    void theNightlyExitsWithTheFailedStagesCode(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = TestConfigs.tiny(root, "run-date", "2026-10-04", "skip-complete", "true");
        StageMarkers markers = new StageMarkers(c.storageRoot());
        LocalDate day = LocalDate.of(2026, 10, 4);
        for (int failing = 1; failing < Main.NIGHTLY.size(); failing++) {
            markers.markComplete(Main.NIGHTLY.get(failing - 1), day, "marked by the test");
            assertEquals(
                    Main.EXIT_NIGHTLY_STAGE_BASE + failing, Main.run("nightly", c, spark), Main.NIGHTLY.get(failing));
            for (int later = failing; later < Main.NIGHTLY.size(); later++) {
                assertFalse(
                        markers.complete(Main.NIGHTLY.get(later), day), Main.NIGHTLY.get(later) + " did not complete");
            }
        }
    }

    /** Rerunning build-training-data for a day rewrites its outputs through Delta with exactly the same rows. */
    @Test
    void rerunningBuildTrainingDataForADayGivesTheSameTables(SparkSession spark) {
        PipelineConfig day = TestConfigs.tiny(simulated, "run-date", "2026-10-05");
        DeltaTables t = new DeltaTables(spark, day.storageRoot());
        assertEquals(Main.EXIT_OK, Main.run("build-training-data", day, spark));
        List<String> tables = List.of(
                TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
                TrainingDataSchemas.USER_FEATURES_TABLE,
                TrainingDataSchemas.PIN_FEATURES_TABLE,
                Quarantine.TABLE);
        Map<String, Long> first = new LinkedHashMap<>();
        for (String table : tables) {
            first.put(table, t.version(table).orElseThrow());
        }
        assertEquals(Main.EXIT_OK, Main.run("build-training-data", day, spark));
        for (String table : tables) {
            long v = first.get(table);
            assertTrue(t.version(table).orElseThrow() > v, table + " was rewritten");
            Dataset<Row> before =
                    spark.read().format("delta").option("versionAsOf", v).load(t.path(table));
            Dataset<Row> after = t.read(table);
            assertTrue(before.count() > 0 || table.equals(Quarantine.TABLE), table);
            assertEquals(before.count(), after.count(), table);
            assertEquals(0, before.exceptAll(after).count(), table + ": rows the rerun lost");
            assertEquals(0, after.exceptAll(before).count(), table + ": rows the rerun added");
        }
    }
}
