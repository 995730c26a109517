package dev.convcg.jobs.config;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.ingest.ImportSettings;
import dev.convcg.core.training.TrainingDataSettings;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineConfigTest {

    @Test
    void referenceDefaultsBind() {
        PipelineConfig c = PipelineConfig.load(null, Map.of());
        assertEquals("out", c.storageRoot());
        assertEquals(14, c.simulate().days());
        assertEquals(LocalDate.of(2026, 10, 1), c.simulate().startDate());
        assertTrue(c.runDate().isEmpty());
        assertEquals("local[2]", c.spark().master());
        assertEquals(4, c.importSettings().eventValues().size());
    }

    @Test
    void layersApplyStrongestFirst(@TempDir Path dir) throws Exception {
        File file = dir.resolve("my.conf").toFile();
        Files.writeString(file.toPath(), "convcg { simulate { users = 111, pins = 2222 }, storage.root = \"/data\" }");
        System.setProperty("convcg.simulate.pins", "3333");
        try {
            PipelineConfig c = PipelineConfig.load(file, Map.of("simulate.users", "444", "run-date", "2026-10-05"));
            assertEquals(444, c.simulate().users(), "--set beats the file");
            assertEquals(3333, c.simulate().pins(), "-D beats the file");
            assertEquals("/data", c.storageRoot(), "the file beats reference.conf");
            assertEquals(LocalDate.of(2026, 10, 5), c.runDate().orElseThrow());
        } finally {
            System.clearProperty("convcg.simulate.pins");
        }
    }

    @Test
    void aHoconSyntaxErrorIsAnInvalidConfigNamingTheFileAndLine(@TempDir Path dir) throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.conf"), "convcg {\n  storage.root = \"x\"\n");
        InvalidConfigException e =
                assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(broken.toFile(), Map.of()));
        assertTrue(e.getMessage().startsWith("--config " + broken + ": 3: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("(HOCON syntax)"), e.getMessage());
    }

    @Test
    void shippedConfigsBind() {
        assertEquals(
                4000,
                PipelineConfig.load(new File("../conf/local.conf"), Map.of())
                        .simulate()
                        .users());
        assertEquals(
                "",
                PipelineConfig.load(new File("../conf/cluster.conf"), Map.of())
                        .spark()
                        .master());
    }

    @Test
    void eventValuesAreTakenWholeFromTheStrongestLayer(@TempDir Path dir) throws Exception {
        PipelineConfig set =
                PipelineConfig.load(null, Map.of("import-events.event-values", "{ click = [IMPRESSION, CLICK] }"));
        assertEquals(
                Map.of("click", List.of(ImportSettings.RawEvent.IMPRESSION, ImportSettings.RawEvent.CLICK)),
                set.importSettings().eventValues(),
                "--set replaces the default map");

        PipelineConfig tmall = PipelineConfig.load(new File("../conf/import-tmall.conf"), Map.of());
        assertEquals(
                Set.of("0", "1", "2", "3"),
                tmall.importSettings().eventValues().keySet(),
                "a preset that includes reference.conf replaces its map");
        assertEquals(
                ImportSettings.WithinDayOrder.FUNNEL, tmall.importSettings().withinDayOrder());
        assertEquals(2013, tmall.importSettings().defaultYear());
        assertTrue(tmall.importSource().csvHeader());

        PipelineConfig overTmall = PipelineConfig.load(
                new File("../conf/import-tmall.conf"),
                Map.of("import-events.event-values", "{ \"0\" = [IMPRESSION, CLICK], \"1\" = [CHECKOUT] }"));
        assertEquals(Set.of("0", "1"), overTmall.importSettings().eventValues().keySet(), "--set beats the preset");

        File mine = dir.resolve("mine.conf").toFile();
        Files.writeString(
                mine.toPath(),
                "include \"" + new File("../conf/import-tmall.conf").getAbsolutePath() + "\"\n"
                        + "convcg.storage.root = \"/data\"\n");
        PipelineConfig included = PipelineConfig.load(mine, Map.of());
        assertEquals(
                Set.of("0", "1", "2", "3"),
                included.importSettings().eventValues().keySet(),
                "a preset included by another file keeps its own map");
        assertEquals("/data", included.storageRoot());

        PipelineConfig taobao = PipelineConfig.load(new File("../conf/import-taobao.conf"), Map.of());
        assertEquals(ImportSettings.taobao(), taobao.importSettings(), "the Taobao preset is the reference mapping");
        assertEquals(
                ImportSettings.taobao(), PipelineConfig.load(null, Map.of()).importSettings());
    }

    @Test
    void excludedFeaturesMustNameFeaturesTheModelCanDo() {
        assertEquals(List.of("user_id"), PipelineConfig.load(null, Map.of()).excludedFeatures(), "the reference's");
        assertEquals(
                List.of(),
                PipelineConfig.load(null, Map.of("model.excluded-features", "[]"))
                        .excludedFeatures());
        InvalidConfigException unknown = assertThrows(
                InvalidConfigException.class,
                () -> PipelineConfig.load(null, Map.of("model.excluded-features", "[user_ids]")));
        assertTrue(
                unknown.getMessage().contains("convcg.model.excluded-features")
                        && unknown.getMessage().contains("'user_ids'")
                        && unknown.getMessage().contains("user_id,"),
                unknown.getMessage());
        InvalidConfigException sharedTable = assertThrows(
                InvalidConfigException.class,
                () -> PipelineConfig.load(null, Map.of("model.excluded-features", "[pin_id]")));
        assertTrue(sharedTable.getMessage().contains("sharedTable"), sharedTable.getMessage());
        InvalidConfigException reengagement = assertThrows(
                InvalidConfigException.class,
                () -> PipelineConfig.load(null, Map.of("model.excluded-features", "[user_converted_pins]")));
        assertTrue(reengagement.getMessage().contains("model.reengagement.sequences"), reengagement.getMessage());
        assertEquals(
                List.of("user_converted_pins"),
                PipelineConfig.load(
                                null,
                                Map.of(
                                        "model.excluded-features", "[user_converted_pins]",
                                        "model.reengagement.sequences", "[user_engaged_pins]"))
                        .excludedFeatures());
    }

    @Test
    void sameDayRepeatsCollapseUnlessSetToKeep() {
        PipelineConfig tmall = PipelineConfig.load(new File("../conf/real-tmall.conf"), Map.of());
        assertEquals(List.of("user_id"), tmall.excludedFeatures());
        assertEquals(
                TrainingDataSettings.SameDayRepeats.COLLAPSE,
                tmall.trainingData().sameDayRepeats());
        assertEquals(
                TrainingDataSettings.SameDayRepeats.KEEP,
                PipelineConfig.load(null, Map.of("training-data.same-day-repeats", "KEEP"))
                        .trainingData()
                        .sameDayRepeats());
        InvalidConfigException e = assertThrows(
                InvalidConfigException.class,
                () -> PipelineConfig.load(null, Map.of("training-data.same-day-repeats", "DROP")));
        assertTrue(e.getMessage().contains("same-day-repeats"), e.getMessage());
    }

    @Test
    void sparkConfPassesThrough() {
        PipelineConfig c = PipelineConfig.load(null, Map.of("spark.conf.\"spark.executor.memory\"", "8g"));
        assertEquals("8g", c.spark().conf().get("spark.executor.memory"));
    }

    @Test
    void secretsNeverReachTheLoggedConfiguration() {
        PipelineConfig c = PipelineConfig.load(
                null,
                Map.of(
                        "spark.conf.\"spark.hadoop.fs.s3a.secret.key\"", "hunter2",
                        "spark.conf.\"spark.hadoop.fs.s3a.access.key\"", "AKIAEXAMPLE"));
        String shown = c.render();
        assertFalse(shown.contains("hunter2") || shown.contains("AKIAEXAMPLE"), shown);
        assertTrue(shown.contains("***"));
        assertEquals("hunter2", c.spark().conf().get("spark.hadoop.fs.s3a.secret.key"), "the value itself is kept");
    }

    @Test
    void badValuesNameTheKeyTheValueAndWhatIsAllowed() {
        assertMessage(Map.of("simulate.users", "-5"), "convcg.simulate.users = -5: expected a positive integer");
        assertMessage(Map.of("simulate.users", "lots"), "convcg.simulate.users = \"lots\": expected an integer");
        assertMessage(
                Map.of("simulate.malformed-rate", "1.5"),
                "convcg.simulate.malformed-rate = 1.5: expected a number in [0, 1]");
        assertMessage(Map.of("run-date", "yesterday"), "convcg.run-date = \"yesterday\": expected a date yyyy-MM-dd");
        assertMessage(
                Map.of("import-events.timestamp-unit", "weeks"),
                "convcg.import-events.timestamp-unit = \"weeks\": expected one of [SECONDS, MILLIS, ISO, PATTERN]");
        assertMessage(
                Map.of("import-events.timestamp-unit", "pattern", "import-events.timestamp-pattern", "M-d"),
                "convcg.import-events.default-year = 0: timestamp-pattern \"M-d\" has no year");
        assertMessage(
                Map.of("import-events.zone", "Mars/Olympus"),
                "convcg.import-events.zone = \"Mars/Olympus\": expected a java.time zone id");
        assertMessage(
                Map.of("import-events.mode", "merge"),
                "convcg.import-events.mode = \"merge\": expected one of [REPLACE_DAYS, APPEND]");
        assertMessage(
                Map.of("import-events.from", "2013-08-15", "import-events.to", "2013-04-15"),
                "convcg.import-events.from = 2013-08-15 is after to = 2013-04-15");
        assertMessage(Map.of("import-events.user-id", "\"\""), "convcg.import-events.user-id is empty");
        assertMessage(
                Map.of("import-events.format", "xml"),
                "convcg.import-events.format = \"xml\": expected csv or parquet");
        assertMessage(
                Map.of("simulate.advertisers", "99999999"),
                "convcg.simulate.advertisers = 99999999: must be at most pins");
        assertMessage(
                Map.of("import-events.event-values.pv", "[CLICK]"),
                "convcg.import-events.event-values.pv = [CLICK]: a CLICK needs an IMPRESSION");
    }

    /** Values a settings record refuses name the HOCON key the user wrote, not the record's field. */
    @Test
    void recordValidationNamesTheHoconKey() {
        assertExact(
                Map.of("train.learning-rate", "-1"),
                "convcg.train.learning-rate = -1.0 is invalid; allowed: a finite number > 0");
        assertExact(Map.of("train.batch-size", "0"), "convcg.train.batch-size = 0: expected a positive integer");
        assertExact(
                Map.of("train.schedule.decay-steps", "0"),
                "convcg.train.schedule.decay-steps = 0: expected a positive integer");
        assertExact(
                Map.of("train.schedule.min-lr-fraction", "2"),
                "convcg.train.schedule.min-lr-fraction = 2.0: expected a number in [0, 1]");
        assertExact(
                Map.of("model.advertiser-loss.weight", "-0.5"),
                "convcg.model.advertiser-loss.weight = -0.5 is invalid; allowed: a finite number >= 0");
        assertExact(
                Map.of("model.heads.engagement-weight", "-1"),
                "convcg.model.heads.engagement-weight = -1.0 is invalid; allowed: a finite number >= 0");
        assertExact(
                Map.of("model.tower.cross-layers", "-1"),
                "convcg.model.tower.cross-layers = -1: expected an integer >= 0");
        assertExact(
                Map.of("training-data.click-weight.max", "0.1"),
                "convcg.training-data.click-weight.max = 0.1: must be >= click-weight.min (0.25)");
        assertExact(
                Map.of("training-data.hard-negatives.cap-per-user-day", "-1"),
                "convcg.training-data.hard-negatives.cap-per-user-day = -1: expected an integer >= 0");
    }

    private static void assertExact(Map<String, String> sets, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(null, sets));
        assertEquals(expected, e.getMessage());
    }

    @Test
    void unknownKeysAreRefused() {
        assertMessage(Map.of("simulate.userz", "5"), "--set: unknown key(s) [convcg.simulate.userz]");
    }

    @Test
    void missingConfigFileIsAnError() {
        InvalidConfigException e =
                assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(new File("nope.conf"), Map.of()));
        assertTrue(e.getMessage().contains("nope.conf: no such file"), e.getMessage());
    }

    private static void assertMessage(Map<String, String> sets, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(null, sets));
        assertTrue(e.getMessage().contains(expected), "message was: " + e.getMessage());
    }
}
