package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.convcg.core.ingest.EventImporter;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.EventFile;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class ImportEventsStageTest {

    /** A dataset from ../shared; required in CI, skipped elsewhere when the folder is absent. */
    static File shared(String path) {
        File f = new File(System.getProperty("convcg.shared.dir", "../../shared"), "data/" + path);
        if (!f.isFile()) {
            assertNotEquals("true", System.getenv("CI"), "CI must have the shared dataset at " + f.getAbsolutePath());
            assumeTrue(false, "shared dataset not found at " + f.getAbsolutePath());
        }
        return f;
    }

    static File taobao(String slice) {
        return shared("taobao-userbehavior-samples/" + slice + "/UserBehavior.csv.gz");
    }

    static String quoted(Object path) {
        return "\"" + (path instanceof File f ? f.getAbsolutePath() : ((Path) path).toAbsolutePath()) + "\"";
    }

    static Path csv(Path dir, String name, String... lines) throws IOException {
        Path f = dir.resolve(name);
        byte[] bytes = (String.join("\n", lines) + (lines.length > 0 ? "\n" : "")).getBytes(StandardCharsets.UTF_8);
        if (name.endsWith(".gz")) {
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
                out.write(bytes);
            }
        } else {
            Files.write(f, bytes);
        }
        return f;
    }

    static StageReport runStage(SparkSession spark, PipelineConfig config) throws Exception {
        return new ImportEventsStage()
                .run(new StageContext(
                        spark,
                        config,
                        new DeltaTables(spark, config.storageRoot()),
                        config.runDate().orElseThrow()));
    }

    static List<String> reasons(DeltaTables t) {
        return t.read(Quarantine.TABLE).collectAsList().stream()
                .map(r -> r.<String>getAs("reason"))
                .sorted()
                .toList();
    }

    @Test
    void importsTheRealTaobaoSampleWithThePreset(SparkSession spark, @TempDir Path root) {
        File input = taobao("user_tail");
        PipelineConfig config = PipelineConfig.load(
                new File("../conf/import-taobao.conf"),
                Map.of("storage.root", quoted(root), "import-events.input", quoted(input), "run-date", "2017-12-03"));
        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        long rows = spark.read().csv(input.getAbsolutePath()).count();
        assertEquals(10_000, rows);
        long pv = t.read(RawTables.IMPRESSIONS).count();
        long quarantined = t.exists(Quarantine.TABLE) ? t.read(Quarantine.TABLE).count() : 0;
        long fav = t.read(RawTables.ENGAGEMENTS)
                .filter(col("type").equalTo("SAVE"))
                .count();
        long clicks = t.read(RawTables.ENGAGEMENTS)
                .filter(col("type").equalTo("CLICK"))
                .count();
        long carts = t.read(RawTables.CONVERSIONS)
                .filter(col("type").equalTo("ADD_TO_CART"))
                .count();
        long buys = t.read(RawTables.CONVERSIONS)
                .filter(col("type").equalTo("CHECKOUT"))
                .count();
        assertEquals(rows, pv + fav + carts + buys + quarantined, "every row is mapped once or quarantined");
        assertEquals(pv, clicks, "each pv is an impression with its click");
        assertEquals(9_046 + 212 + 536 + 206, pv + fav + carts + buys + quarantined);
        assertEquals(
                0,
                t.read(RawTables.ENGAGEMENTS)
                        .filter(col("click_duration_ms").isNotNull())
                        .count(),
                "no durations");
        assertEquals(114, t.read(RawTables.USERS).select("user_id").distinct().count());
        assertEquals(
                0,
                t.read(RawTables.CONVERSIONS)
                        .filter(col("reported_ts").lt(col("event_ts")))
                        .count());
        Row pinsLastDay = t.read(RawTables.PINS)
                .groupBy(RawTables.DS)
                .count()
                .orderBy(col(RawTables.DS).desc())
                .first();
        assertEquals(7_623, pinsLastDay.getLong(1), "the last day's catalog holds every pin seen");
    }

    /** The real Tmall log through the preset, the file reader and the mapping of the stage; the writes are tested above. */
    @Test
    void mapsTheRealTmallBrandLogWithItsPreset(SparkSession spark) {
        File input = shared("tmall-brand-2013/t_alibaba_data.csv.gz");
        PipelineConfig config = PipelineConfig.load(
                new File("../conf/import-tmall.conf"),
                Map.of("import-events.input", quoted(input), "run-date", "2013-08-15"));
        EventFile file = EventFile.open(spark, config.importSource());
        EventImporter.Result r = EventImporter.map(
                file.read(), config.importSettings(), config.runDate().orElseThrow(), file.path(), file.hash());
        try {
            EventImporter.Summary s = EventImporter.summarize(r);
            assertEquals(182_880, s.rows());
            assertEquals(0, s.quarantinedRows());
            assertEquals(s.rows(), s.accepted() + s.quarantinedRows(), "rows in = accepted + quarantined");
            assertEquals(97_850, s.duplicateRows(), "exact repeats are kept and counted");
            assertEquals(123, s.days().size());
            assertEquals("2013-04-15", s.days().get(0));
            assertEquals("2013-08-15", s.days().get(122));
            Dataset<Row> engagements = r.rawTables().get(RawTables.ENGAGEMENTS);
            Dataset<Row> conversions = r.rawTables().get(RawTables.CONVERSIONS);
            assertEquals(
                    174_539, engagements.filter(col("type").equalTo("CLICK")).count());
            assertEquals(1_204, engagements.filter(col("type").equalTo("SAVE")).count());
            assertEquals(
                    153, conversions.filter(col("type").equalTo("ADD_TO_CART")).count());
            assertEquals(
                    6_984, conversions.filter(col("type").equalTo("CHECKOUT")).count());
            Dataset<Row> sameDay = conversions
                    .filter(col("type").equalTo("CHECKOUT"))
                    .as("c")
                    .join(
                            engagements.filter(col("type").equalTo("CLICK")).as("e"),
                            col("c.user_id")
                                    .equalTo(col("e.user_id"))
                                    .and(col("c.pin_id").equalTo(col("e.pin_id")))
                                    .and(col("c.ds").equalTo(col("e.ds"))));
            assertTrue(sameDay.count() > 0);
            assertEquals(
                    0,
                    sameDay.filter(col("c.event_ts").leq(col("e.ts"))).count(),
                    "FUNNEL puts every same-day buy after its clicks");
        } finally {
            r.release();
        }
    }

    @Test
    void rowsThatCannotBeMappedAreQuarantinedWithTheirReason(SparkSession spark, @TempDir Path root) {
        File input = new File("../test-data/events-with-bad-rows.csv");
        PipelineConfig config = TestConfigs.tiny(
                root,
                "import-events.input",
                quoted(input),
                "import-events.csv-header",
                "true",
                "run-date",
                "2017-11-28");
        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        assertEquals(
                List.of(
                        "INVALID_NUMBER",
                        "INVALID_NUMBER",
                        "MISSING_PIN_ID",
                        "UNKNOWN_EVENT_TYPE",
                        "UNPARSEABLE_TIMESTAMP"),
                reasons(t));
        Row q = t.read(Quarantine.TABLE).first();
        assertTrue(q.<String>getAs("row_json").contains("\"behavior\""), "the row is kept as JSON");
        assertEquals(input.getAbsolutePath(), q.getAs("input_path"));
        assertEquals(64, q.<String>getAs("input_hash").length());
        assertEquals(2, t.read(RawTables.IMPRESSIONS).count());
        assertEquals(
                1,
                t.read(RawTables.ENGAGEMENTS)
                        .filter(col("type").equalTo("SAVE"))
                        .count());
        assertEquals(2, t.read(RawTables.CONVERSIONS).count());

        assertEquals(Main.EXIT_OK, Main.run("import-events", config, spark));
        assertEquals(5, t.read(Quarantine.TABLE).count(), "a rerun replaces its own quarantine rows");
        assertEquals(2, t.read(RawTables.IMPRESSIONS).count(), "a rerun replaces the imported days");

        t.replaceWhere(
                Quarantine.TABLE,
                Quarantine.of(
                        t.read(RawTables.PINS).limit(1).withColumn("_r", lit("UNKNOWN_PIN")),
                        RawTables.PINS,
                        "_r",
                        "build-training-data",
                        "2017-11-28"),
                "stage = 'build-training-data' AND run_ds = '2017-11-28'",
                "stage",
                "run_ds");
        assertEquals(6, t.read(Quarantine.TABLE).count(), "other stages still write their quarantine rows");
    }

    @Test
    void linesWithTooManyOrTooFewFieldsAreQuarantined(SparkSession spark, @TempDir Path root) throws Exception {
        Path headerless = csv(
                root,
                "headerless.csv",
                "1,100,7,pv,1511658000",
                "1,100,7,pv",
                "1,100,7,pv,1511658000,9",
                "2,101,7,buy,1511658100");
        PipelineConfig config =
                TestConfigs.tiny(root, "import-events.input", quoted(headerless), "run-date", "2017-11-26");
        StageReport report = runStage(spark, config);
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        assertEquals(List.of("WRONG_FIELD_COUNT", "WRONG_FIELD_COUNT"), reasons(t), "too few and too many fields");
        assertEquals(
                1,
                t.read(Quarantine.TABLE)
                        .filter(col("row_json").contains("1,100,7,pv,1511658000,9"))
                        .count(),
                "the line itself is kept");
        assertEquals(1, report.outputs().get(RawTables.IMPRESSIONS));
        assertEquals(1, report.outputs().get(RawTables.CONVERSIONS));
        assertEquals(2, report.outputs().get(Quarantine.TABLE));
        assertEquals(Map.of("duplicate_rows", 0L), report.counts(), "the summary counts exact repeats");

        Path header = csv(
                root, "header.csv.gz", "u,i,c,b,t", "1,100,7,pv,1511658000", "1,100,7", "1,100,7,pv,1511658000,9,9");
        PipelineConfig withHeader = TestConfigs.tiny(
                root,
                "import-events.input",
                quoted(header),
                "run-date",
                "2017-11-26",
                "import-events.csv-header",
                "true",
                "import-events.user-id",
                "u",
                "import-events.pin-id",
                "i",
                "import-events.advertiser-id",
                "c",
                "import-events.category",
                "c",
                "import-events.event-type",
                "b",
                "import-events.timestamp",
                "t");
        runStage(spark, withHeader);
        assertEquals(
                List.of("WRONG_FIELD_COUNT", "WRONG_FIELD_COUNT", "WRONG_FIELD_COUNT", "WRONG_FIELD_COUNT"),
                reasons(t),
                "a second file under the same run date keeps the first file's rejects");
        assertEquals(2, t.read(Quarantine.TABLE).select("input_hash").distinct().count());
        assertEquals(1, t.read(RawTables.IMPRESSIONS).count(), "the header file replaced the day");
    }

    @Test
    void anImportReplacesOnlyTheDaysItBringsAndQuarantinesImplausibleDays(SparkSession spark, @TempDir Path root)
            throws Exception {
        Path twoDays =
                csv(root, "two-days.csv", "1,100,7,pv,1511658000", "2,101,7,pv,1511744400", "3,102,7,like,1511744400");
        PipelineConfig first = TestConfigs.tiny(root, "import-events.input", quoted(twoDays), "run-date", "2017-11-27");
        assertEquals(Main.EXIT_OK, Main.run("import-events", first, spark));
        DeltaTables t = new DeltaTables(spark, first.storageRoot());
        assertEquals(
                1,
                t.read(RawTables.IMPRESSIONS)
                        .filter(col(RawTables.DS).equalTo("2017-11-26"))
                        .count());

        Path secondDayAgain = csv(
                root,
                "second-day.csv",
                "4,103,7,pv,1511744500",
                "4,104,7,pv,1511744600",
                "5,105,7,pv,4102444800",
                "6,106,7,pv,-86400");
        PipelineConfig second =
                TestConfigs.tiny(root, "import-events.input", quoted(secondDayAgain), "run-date", "2017-11-27");
        StageReport report = runStage(spark, second);
        assertEquals(
                1,
                t.read(RawTables.IMPRESSIONS)
                        .filter(col(RawTables.DS).equalTo("2017-11-26"))
                        .count(),
                "a day the file does not bring is untouched");
        assertEquals(
                List.of(103L, 104L),
                pinIds(t.read(RawTables.IMPRESSIONS).filter(col(RawTables.DS).equalTo("2017-11-27"))),
                "its day is replaced");
        assertEquals(
                List.of("2017-11-26", "2017-11-27"),
                t
                        .read(RawTables.IMPRESSIONS)
                        .select(RawTables.DS)
                        .distinct()
                        .orderBy(RawTables.DS)
                        .collectAsList()
                        .stream()
                        .map(r -> r.getString(0))
                        .toList());
        assertEquals(
                List.of("TIMESTAMP_OUT_OF_RANGE", "TIMESTAMP_OUT_OF_RANGE", "UNKNOWN_EVENT_TYPE"),
                reasons(t),
                "the 2100 and 1969 rows are quarantined, and the first file's reject is still there");
        assertEquals(2, report.outputs().get(Quarantine.TABLE));

        Path sameDay = csv(root, "same-day.csv", "7,103,7,pv,1511744700");
        PipelineConfig append = TestConfigs.tiny(
                root, "import-events.input", quoted(sameDay), "run-date", "2017-11-27", "import-events.mode", "append");
        assertEquals(Main.EXIT_OK, Main.run("import-events", append, spark));
        assertEquals(
                List.of(103L, 103L, 104L),
                pinIds(t.read(RawTables.IMPRESSIONS).filter(col(RawTables.DS).equalTo("2017-11-27"))),
                "append adds to the day");
        assertEquals(
                4,
                t.read(RawTables.IMPRESSIONS).select("impression_id").distinct().count(),
                "files never share an id");
        assertEquals(
                List.of(103L, 104L),
                pinIds(t.read(RawTables.PINS).filter(col(RawTables.DS).equalTo("2017-11-27"))),
                "the snapshot gets only pins it lacks");
        assertEquals(
                2,
                t.read(RawTables.USERS)
                        .filter(col(RawTables.DS).equalTo("2017-11-27"))
                        .count());
    }

    private static List<Long> pinIds(Dataset<Row> rows) {
        return rows.orderBy("pin_id").collectAsList().stream()
                .map(r -> r.<Long>getAs("pin_id"))
                .toList();
    }

    @Test
    void aFileWhollyOutsideThePlausibleDaysFailsWithTheLikelyUnitAfterWritingItsQuarantine(
            SparkSession spark, @TempDir Path root) throws Exception {
        Path seconds = csv(root, "seconds.csv", "1,100,7,pv,1511658000", "2,101,7,pv,1511744400");
        PipelineConfig config = TestConfigs.tiny(
                root,
                "import-events.input",
                quoted(seconds),
                "run-date",
                "2026-10-14",
                "import-events.timestamp-unit",
                "millis");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> runStage(spark, config));
        assertTrue(
                e.getMessage()
                        .startsWith("convcg.import-events.input = " + seconds.toAbsolutePath() + ": all 2 "
                                + "timestamps fall on 1970-01-18 .. 1970-01-18, decades before run-date 2026-10-14"),
                e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains("is import-events.timestamp-unit = millis right? the values (1511658000 .. "
                                + "1511744400) look like epoch seconds"),
                e.getMessage());
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        assertEquals(List.of("TIMESTAMP_OUT_OF_RANGE", "TIMESTAMP_OUT_OF_RANGE"), reasons(t), "written before failing");
        assertFalse(t.exists(RawTables.IMPRESSIONS));
        assertEquals(Main.EXIT_USAGE, Main.run("import-events", config, spark), "a configuration error: exit code 2");
    }

    @Test
    void emptyAndHeaderOnlyFilesAreClearErrors(SparkSession spark, @TempDir Path root) throws Exception {
        Path empty = csv(root, "empty.csv");
        assertError(
                spark, root, "convcg.import-events.input = " + empty.toAbsolutePath() + " is empty", empty, "false");
        assertError(spark, root, "convcg.import-events.input = " + empty.toAbsolutePath() + " is empty", empty, "true");
        Path emptyGz = csv(root, "empty.csv.gz");
        assertError(
                spark,
                root,
                "convcg.import-events.input = " + emptyGz.toAbsolutePath() + " is empty",
                emptyGz,
                "false");
        assertError(
                spark, root, "convcg.import-events.input = " + emptyGz.toAbsolutePath() + " is empty", emptyGz, "true");
        Path headerOnly = csv(root, "header-only.csv.gz", "user_id,item_id,category_id,behavior,timestamp");
        assertError(
                spark,
                root,
                "convcg.import-events.input = " + headerOnly.toAbsolutePath() + " has a header and no rows",
                headerOnly,
                "true");
        assertError(
                spark,
                root,
                "convcg.import-events.input = " + root.resolve("nope.csv").toAbsolutePath()
                        + ": no such file or directory",
                root.resolve("nope.csv"),
                "false");
        assertEquals(
                Main.EXIT_USAGE,
                Main.run(
                        "import-events",
                        TestConfigs.tiny(
                                root,
                                "import-events.input",
                                quoted(headerOnly),
                                "import-events.csv-header",
                                "true",
                                "run-date",
                                "2017-11-26"),
                        spark));
    }

    @Test
    void aTruncatedGzipAndACsvReadAsParquetAreOneLineErrorsWithTheReadersReason(SparkSession spark, @TempDir Path root)
            throws Exception {
        Path whole = csv(
                root,
                "whole.csv.gz",
                IntStream.range(0, 2_000)
                        .mapToObj(i -> i + ",100,7,pv," + (1511658000 + i))
                        .toArray(String[]::new));
        byte[] bytes = Files.readAllBytes(whole);
        Path truncated = Files.write(root.resolve("truncated.csv.gz"), Arrays.copyOf(bytes, bytes.length / 2));
        assertError(
                spark,
                root,
                "convcg.import-events.input = " + truncated.toAbsolutePath() + " cannot be read as csv "
                        + "(convcg.import-events.format): EOFException: Unexpected end of input stream",
                truncated,
                "false");
        assertEquals(
                Main.EXIT_USAGE,
                Main.run(
                        "import-events",
                        TestConfigs.tiny(root, "import-events.input", quoted(truncated), "run-date", "2017-11-26"),
                        spark));

        Path text = csv(root, "text.csv", "1,100,7,pv,1511658000");
        PipelineConfig asParquet = TestConfigs.tiny(
                root, "import-events.input", quoted(text), "import-events.format", "parquet", "run-date", "2017-11-26");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> runStage(spark, asParquet));
        assertTrue(
                e.getMessage()
                        .startsWith("convcg.import-events.input = " + text.toAbsolutePath() + " cannot be read "
                                + "as parquet (convcg.import-events.format): RuntimeException: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("is not a Parquet file"), e.getMessage());
    }

    private static void assertError(SparkSession spark, Path root, String message, Path input, String header) {
        PipelineConfig config = TestConfigs.tiny(
                root,
                "import-events.input",
                quoted(input),
                "import-events.csv-header",
                header,
                "run-date",
                "2017-11-26");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> runStage(spark, config));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aMappedColumnTheFileLacksIsAOneLineErrorNamingTheKey(SparkSession spark, @TempDir Path root) throws Exception {
        Path brands = csv(root, "brands.csv", "user_id,brand_id,type,visit_datetime", "1,2,0,6-4");
        Map<String, String> sets = new LinkedHashMap<>(Map.of(
                "storage.root",
                quoted(root),
                "import-events.input",
                quoted(brands),
                "run-date",
                "2013-08-15",
                "import-events.pin-id",
                "item_id"));
        PipelineConfig config = PipelineConfig.load(new File("../conf/import-tmall.conf"), sets);
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> runStage(spark, config));
        assertEquals(
                "convcg.import-events.pin-id = \"item_id\": " + brands.toAbsolutePath() + " has no such column; its "
                        + "columns (its header) are [user_id, brand_id, type, visit_datetime]",
                e.getMessage());

        sets.remove("import-events.pin-id");
        assertEquals(
                Main.EXIT_OK,
                Main.run("import-events", PipelineConfig.load(new File("../conf/import-tmall.conf"), sets), spark),
                "the preset itself fits the file");
        DeltaTables t = new DeltaTables(spark, config.storageRoot());
        Row impression = t.read(RawTables.IMPRESSIONS).first();
        assertEquals(2L, impression.<Long>getAs("pin_id"));
        assertEquals(2L, impression.<Long>getAs("advertiser_id"), "the brand is its own advertiser");
        assertEquals("2", t.read(RawTables.PINS).first().getAs("category"), "the category falls back to the brand");
        assertEquals("2013-06-04", impression.getAs(RawTables.DS));
    }
}
