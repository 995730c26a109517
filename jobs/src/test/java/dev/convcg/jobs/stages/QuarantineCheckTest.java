package dev.convcg.jobs.stages;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import io.delta.tables.DeltaTable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault drill: a run whose quarantined share is over the threshold fails before it writes any example or feature
 * snapshot, so the previous good output stays; its quarantine and its data-quality summary (without example
 * counts) are written for the operator.
 */
@ExtendWith(SparkTest.class)
class QuarantineCheckTest {
    @Test
    void aRunOverTheQuarantineThresholdFailsBeforeWritingExamples(SparkSession spark, @TempDir Path root)
            throws Exception {
        String day = "2026-10-06";
        PipelineConfig lenient = TestConfigs.tiny(root, "run-date", day, "training-data.quarantine-threshold", "0.05");
        assertEquals(Main.EXIT_OK, Main.run("simulate", lenient, spark));
        assertEquals(Main.EXIT_OK, Main.run("build-training-data", lenient, spark));
        DeltaTables tables = new DeltaTables(spark, root.toAbsolutePath().toString());
        long examplesVersion = version(spark, tables, TrainingDataSchemas.TRAINING_EXAMPLES_TABLE);
        long snapshotsVersion = version(spark, tables, TrainingDataSchemas.PIN_FEATURES_TABLE);
        long examples = tables.read(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE).count();
        Files.deleteIfExists(
                Path.of(tables.path(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE + "_quality"), day + ".json"));

        PipelineConfig strict = TestConfigs.tiny(root, "run-date", day, "training-data.quarantine-threshold", "0.0");
        assertEquals(Main.EXIT_FAILED, Main.run("build-training-data", strict, spark));

        assertEquals(
                examplesVersion,
                version(spark, tables, TrainingDataSchemas.TRAINING_EXAMPLES_TABLE),
                "no example written by the failed run");
        assertEquals(
                snapshotsVersion,
                version(spark, tables, TrainingDataSchemas.PIN_FEATURES_TABLE),
                "no feature snapshot written by the failed run");
        assertEquals(
                examples,
                tables.read(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE).count());
        assertTrue(
                tables.read(Quarantine.TABLE).filter("run_ds = '" + day + "'").count() > 0,
                "the quarantine is written");
        String json = Files.readString(
                Path.of(tables.path(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE + "_quality"), day + ".json"));
        assertTrue(json.contains("\"examples\":{}"), "the summary is written without example counts: " + json);
        assertTrue(json.contains("\"rejects\":{\""), json);
    }

    private static long version(SparkSession spark, DeltaTables tables, String table) {
        return DeltaTable.forPath(spark, tables.path(table)).history(1).head().getLong(0);
    }
}
