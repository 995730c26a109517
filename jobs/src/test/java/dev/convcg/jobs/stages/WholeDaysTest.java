package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.InputsMissingException;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.WriteJournal;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A day's raw tables change together or not at all, also when the writing process is killed; a day left half-written
 * (by a version without the journal) and a raw table that drifted from its contract are refused with one line.
 */
@ExtendWith(SparkTest.class)
class WholeDaysTest {
    private static final String DAY = "2017-11-26";
    private static final long DAY_START = 1_511_654_400L;

    /** A headerless Taobao-shaped file of one day: {@code users} users, each with pv, pv, cart, buy on its own pins. */
    private static Path oneDay(Path dir, String name, int users, int pinOffset) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int u = 1; u <= users; u++) {
            int pin = pinOffset + u;
            lines.add(u + "," + pin + ",7,pv," + (DAY_START + u));
            lines.add(u + "," + (pin + 1) + ",7,pv," + (DAY_START + u + 1));
            lines.add(u + "," + pin + ",7,cart," + (DAY_START + u + 2));
            lines.add(u + "," + pin + ",7,buy," + (DAY_START + u + 3));
        }
        return ImportEventsStageTest.csv(dir, name, lines.toArray(String[]::new));
    }

    private static PipelineConfig importing(Path root, Path file) {
        return TestConfigs.tiny(
                root, "import-events.input", ImportEventsStageTest.quoted(file), "run-date", "2017-11-27");
    }

    private static Map<String, Long> dayCounts(DeltaTables t) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String table : RawTables.ALL) {
            counts.put(table, t.exists(table) ? t.readDays(table, DAY, DAY).count() : 0L);
        }
        return counts;
    }

    @Test
    void anImportKilledBetweenTwoTablesIsRolledBackToTheOldDayAndTheRerunGivesTheNewOne(
            SparkSession spark, @TempDir Path root) throws Exception {
        Path oldFile = oneDay(root, "old.csv", 200, 1_000);
        Path newFile = oneDay(root, "new.csv", 700, 5_000);
        assertEquals(Main.EXIT_OK, Main.run("import-events", importing(root, oldFile), spark));
        DeltaTables t = new DeltaTables(spark, root.toString());
        Map<String, Long> oldDay = dayCounts(t);
        assertEquals(400L, oldDay.get(RawTables.IMPRESSIONS));
        long impressionsVersion = t.version(RawTables.IMPRESSIONS).orElseThrow();

        Process child = childImport(root, newFile);
        Path nextCommit = root.resolve("tables/impressions/_delta_log")
                .resolve(String.format("%020d.json", impressionsVersion + 1));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.exists(nextCommit) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(Files.exists(nextCommit), "the child committed its impressions: " + output(child));
        child.destroyForcibly();
        assertTrue(child.waitFor(1, TimeUnit.MINUTES));

        WriteJournal journal = new WriteJournal(spark, t, root.toString());
        WriteJournal.Entry pending = journal.pending("import-events")
                .orElseThrow(() -> new AssertionError("the kill landed after the last table: " + output(child)));
        List<String> advanced = journal.advanced(pending);
        assertTrue(advanced.contains(RawTables.IMPRESSIONS));
        assertTrue(advanced.size() < RawTables.ALL.size(), "killed mid-write: " + journal.describe(pending));
        assertEquals(1_400L, t.readDays(RawTables.IMPRESSIONS, DAY, DAY).count(), "the new impressions are in");

        PipelineConfig check = TestConfigs.tiny(root, "run-date", DAY);
        assertEquals(
                Main.EXIT_INPUTS_MISSING,
                Main.run("check-inputs", check, spark),
                "check-inputs refuses the day while the interrupted import is pending");

        journal.rollBack(pending);
        assertEquals(oldDay, dayCounts(t), "rolled back: every table at the old state");
        assertTrue(journal.pending("import-events").isEmpty());
        assertEquals(Main.EXIT_OK, Main.run("check-inputs", check, spark));

        assertEquals(Main.EXIT_OK, Main.run("import-events", importing(root, newFile), spark));
        Map<String, Long> newDay = dayCounts(t);
        assertEquals(1_400L, newDay.get(RawTables.IMPRESSIONS));
        assertEquals(1_400L, t.readDays(RawTables.ENGAGEMENTS, DAY, DAY).count());
        assertEquals(1_400L, newDay.get(RawTables.CONVERSIONS));
        assertEquals(700L, newDay.get(RawTables.USERS));
        assertEquals(Main.EXIT_OK, Main.run("check-inputs", check, spark));
    }

    @Test
    void theRerunOfAKilledImportRollsBackBeforeItWrites(SparkSession spark, @TempDir Path root) throws Exception {
        Path oldFile = oneDay(root, "old.csv", 50, 1_000);
        assertEquals(Main.EXIT_OK, Main.run("import-events", importing(root, oldFile), spark));
        DeltaTables t = new DeltaTables(spark, root.toString());
        WriteJournal journal = new WriteJournal(spark, t, root.toString());
        journal.begin("import-events", "2017-11-27", "a file", List.of(DAY), RawTables.ALL);
        t.replaceDayList(
                RawTables.IMPRESSIONS,
                t.readDays(RawTables.IMPRESSIONS, DAY, DAY).limit(3),
                List.of(DAY));
        assertEquals(3, t.readDays(RawTables.IMPRESSIONS, DAY, DAY).count(), "a half-written day");

        Path newFile = oneDay(root, "new.csv", 20, 9_000);
        assertEquals(Main.EXIT_OK, Main.run("import-events", importing(root, newFile), spark));
        assertEquals(40, t.readDays(RawTables.IMPRESSIONS, DAY, DAY).count());
        assertEquals(20, t.readDays(RawTables.USERS, DAY, DAY).count());
        assertTrue(journal.pending("import-events").isEmpty());
    }

    @Test
    void aDayWhoseTablesComeFromDifferentWritesIsRefusedNamingTheTables(SparkSession spark, @TempDir Path root)
            throws Exception {
        assertEquals(
                Main.EXIT_OK, Main.run("import-events", importing(root, oneDay(root, "day.csv", 100, 1_000)), spark));
        PipelineConfig check = TestConfigs.tiny(root, "run-date", DAY);
        assertEquals(Main.EXIT_OK, Main.run("check-inputs", check, spark));
        DeltaTables t = new DeltaTables(spark, root.toString());
        // what an older version left after a kill: the day's impressions of another file beside the old engagements
        t.replaceDayList(
                RawTables.IMPRESSIONS,
                t.readDays(RawTables.IMPRESSIONS, DAY, DAY)
                        .withColumn("impression_id", concat(lit("other-"), col("impression_id"))),
                List.of(DAY));
        assertEquals(Main.EXIT_INPUTS_MISSING, Main.run("check-inputs", check, spark));
        Exception e = assertThrows(
                InputsMissingException.class,
                () -> new CheckInputsStage().run(new StageContext(spark, check, t, LocalDate.parse(DAY))));
        assertEquals(
                "inputs for 2017-11-26 disagree (the day looks half-written: reimport it): 200 of 200 engagements "
                        + "rows of 2017-11-26: impression_id not in impressions 2017-11-25..2017-11-26",
                e.getMessage());
    }

    @Test
    void aRawTableThatDriftedFromItsContractIsAOneLineExitTwoBeforeAnyPlan(SparkSession spark, @TempDir Path root)
            throws Exception {
        assertEquals(
                Main.EXIT_OK, Main.run("import-events", importing(root, oneDay(root, "day.csv", 30, 1_000)), spark));
        DeltaTables t = new DeltaTables(spark, root.toString());
        t.replaceAll(
                RawTables.ENGAGEMENTS,
                t.read(RawTables.ENGAGEMENTS).withColumnRenamed("pin_id", "item_id"),
                RawTables.DS);
        PipelineConfig day = TestConfigs.tiny(root, "run-date", DAY);
        for (String stage : List.of("check-inputs", "build-training-data", "nightly")) {
            assertEquals(Main.EXIT_USAGE, Main.run(stage, day, spark), stage);
        }
        Exception e = assertThrows(InvalidConfigException.class, () -> t.read(RawTables.ENGAGEMENTS));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "raw table 'engagements' at " + t.path(RawTables.ENGAGEMENTS)
                                        + " breaks its contract (docs/data-model.md): column 'pin_id' (bigint) is missing; its columns are ["),
                e.getMessage());

        t.replaceAll(RawTables.ENGAGEMENTS, t.read(RawTables.IMPRESSIONS).limit(0), RawTables.DS);
        t.replaceAll(
                RawTables.USERS,
                t.read(RawTables.IMPRESSIONS)
                        .withColumn("user_id", col("user_id").cast("string")),
                RawTables.DS);
        e = assertThrows(InvalidConfigException.class, () -> t.read(RawTables.USERS));
        assertTrue(e.getMessage().contains("column 'user_id' is string, the contract says bigint"), e.getMessage());
    }

    /** {@code import-events} in a separate JVM, as the launcher runs it, so that it can be killed like a process. */
    private static Process childImport(Path root, Path file) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")
                        || a.startsWith("-XX:+IgnoreUnrecognized")
                        || a.startsWith("-Djdk.reflect")
                        || a.startsWith("-Dio.netty"))
                .toList());
        cmd.addAll(List.of(
                "-Xmx1g",
                "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                Main.class.getName(),
                "import-events"));
        TestConfigs.tinySettings(
                        root,
                        "import-events.input",
                        ImportEventsStageTest.quoted(file),
                        "run-date",
                        "2017-11-27",
                        "spark.master",
                        "\"local[2]\"")
                .forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(root.resolve("child.log").toFile())
                .start();
    }

    private static String output(Process child) {
        return "child " + (child.isAlive() ? "running" : "exited " + child.exitValue());
    }
}
