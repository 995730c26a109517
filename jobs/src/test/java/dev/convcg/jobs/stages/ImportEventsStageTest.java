package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class ImportEventsStageTest {

    /** The real Taobao sample from ../shared; required in CI, skipped elsewhere when the folder is absent. */
    static File taobao(String slice) {
        File f = new File(System.getProperty("convcg.shared.dir", "../../shared"),
                "data/taobao-userbehavior-samples/" + slice + "/UserBehavior.csv.gz");
        if (!f.isFile()) {
            assertNotEquals("true", System.getenv("CI"), "CI must have the shared dataset at " + f.getAbsolutePath());
            assumeTrue(false, "shared dataset not found at " + f.getAbsolutePath());
        }
        return f;
    }

    @Test
    void importsTheRealTaobaoSampleWithThePreset(SparkSession spark, @TempDir Path root) {
        File input = taobao("user_tail");
        PipelineConfig config = TestConfigs.tiny(root, "import-events.input", "\"" + input.getAbsolutePath() + "\"",
                "run-date", "2017-12-03");
        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        long rows = spark.read().csv(input.getAbsolutePath()).count();
        assertEquals(10_000, rows);
        long pv = t.read(RawTables.IMPRESSIONS).count();
        long quarantined = t.exists(Quarantine.TABLE) ? t.read(Quarantine.TABLE).count() : 0;
        long fav = t.read(RawTables.ENGAGEMENTS).filter(col("type").equalTo("SAVE")).count();
        long clicks = t.read(RawTables.ENGAGEMENTS).filter(col("type").equalTo("CLICK")).count();
        long carts = t.read(RawTables.CONVERSIONS).filter(col("type").equalTo("ADD_TO_CART")).count();
        long buys = t.read(RawTables.CONVERSIONS).filter(col("type").equalTo("CHECKOUT")).count();
        assertEquals(rows, pv + fav + carts + buys + quarantined, "every row is mapped once or quarantined");
        assertEquals(pv, clicks, "each pv is an impression with its click");
        assertEquals(9_046 + 212 + 536 + 206, pv + fav + carts + buys + quarantined);
        assertEquals(0, t.read(RawTables.ENGAGEMENTS).filter(col("click_duration_ms").isNotNull()).count(), "no durations");
        assertEquals(114, t.read(RawTables.USERS).select("user_id").distinct().count());
        assertEquals(0, t.read(RawTables.CONVERSIONS).filter(col("reported_ts").lt(col("event_ts"))).count());
        Row pinsLastDay = t.read(RawTables.PINS).groupBy(RawTables.DS).count().orderBy(col(RawTables.DS).desc()).first();
        assertEquals(7_623, pinsLastDay.getLong(1), "the last day's catalog holds every pin seen");
    }

    @Test
    void rowsThatCannotBeMappedAreQuarantinedWithTheirReason(SparkSession spark, @TempDir Path root) {
        PipelineConfig config = TestConfigs.tiny(root,
                "import-events.input", "\"" + new File("../test-data/events-with-bad-rows.csv").getAbsolutePath() + "\"",
                "import-events.csv-header", "true", "run-date", "2017-11-26");
        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        List<String> reasons = t.read(Quarantine.TABLE).orderBy("reason").collectAsList().stream()
                .map(r -> r.getString(r.fieldIndex("reason"))).collect(Collectors.toList());
        assertEquals(List.of("INVALID_ADVERTISER_ID", "INVALID_PIN_ID", "INVALID_TIMESTAMP", "INVALID_USER_ID",
                "UNMAPPED_EVENT_TYPE"), reasons);
        assertTrue(t.read(Quarantine.TABLE).first().getString(2).contains("\"behavior\""), "the row is kept as JSON");
        assertEquals(2, t.read(RawTables.IMPRESSIONS).count());
        assertEquals(1, t.read(RawTables.ENGAGEMENTS).filter(col("type").equalTo("SAVE")).count());
        assertEquals(2, t.read(RawTables.CONVERSIONS).count());

        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        assertEquals(5, t.read(Quarantine.TABLE).count(), "a rerun replaces its own quarantine rows");
        assertEquals(2, t.read(RawTables.IMPRESSIONS).count(), "a rerun replaces the imported days");
    }
}
