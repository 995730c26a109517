package dev.convcg.jobs.stages;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class SimulateStageTest {
    @Test
    void writesEveryRawTableWithItsSchemaAndRerunsIdentically(SparkSession spark, @TempDir Path root) {
        PipelineConfig config = TestConfigs.tiny(root);
        assertEquals(Main.EXIT_OK, Main.run("simulate", config, spark));
        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        Map<String, Long> first = new HashMap<>();
        for (String t : RawTables.ALL) {
            assertTrue(tables.exists(t), t);
            assertEquals(
                    RawTables.schemaOf(t).fieldNames().length,
                    tables.read(t).schema().fieldNames().length,
                    t);
            long n = tables.read(t).count();
            assertTrue(n > 0, t);
            first.put(t, n);
        }
        assertEquals(400, tables.read(Simulator.TRUTH_PINS).count());
        assertEquals(Main.EXIT_OK, Main.run("simulate", config, spark));
        for (String t : RawTables.ALL) {
            assertEquals(first.get(t), tables.read(t).count(), "rerun replaces, never appends: " + t);
        }
        assertEquals(
                0,
                tables.read(RawTables.CONVERSIONS)
                        .exceptAll(new Simulator(spark, config.simulate()).table(RawTables.CONVERSIONS))
                        .count());
    }
}
