package dev.convcg.jobs.stages;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.modelspark.train.TrainingExamplesFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class TrainStageTest {
    static final LocalDate FIRST = LocalDate.of(2026, 10, 1);

    static PipelineConfig config(Path root, String... more) {
        String[] base = {
            "model.embedding-dim",
            "16",
            "model.tower.mlp-widths",
            "[32, 16]",
            "model.tower.cross-layers",
            "2",
            "model.content-embedding-dim",
            String.valueOf(TrainingExamplesFixture.CONTENT_DIM),
            "model.hard-negatives.max-count",
            "16",
            "model.max-hash-buckets",
            "2048",
            "train.batch-size",
            "96",
            "train.epochs",
            "3",
            "train.window-days",
            "4",
            "train.validation-days",
            "1",
            "train.learning-rate",
            "0.005",
            "train.sampled-recall.k",
            "10",
            "train.checkpoint-every-steps",
            "2",
            "train.early-stopping.patience",
            "0",
            "train.schedule.warmup-steps",
            "2"
        };
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return TestConfigs.tiny(root, all);
    }

    static void writeExamples(SparkSession spark, PipelineConfig c, int days) {
        new DeltaTables(spark, c.storageRoot())
                .replaceAll(
                        TrainStage.TRAINING_EXAMPLES,
                        TrainingExamplesFixture.days(spark, FIRST, days, 7),
                        RawTables.DS);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> epochs(ModelStore.TrainingRecord r) {
        return (List<Map<String, Object>>) ((Map<String, Object>) r.metrics()).get("epochs");
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainsPublishesAndValidationLossFalls(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = config(root, "run-date", FIRST.plusDays(3).toString());
        writeExamples(spark, c, 4);
        assertEquals(Main.EXIT_OK, Main.run("train", c, spark));
        ModelStore store = new ModelStore(Path.of(c.train().modelStore()));
        String version = store.latestVersion().orElseThrow();
        assertTrue(version.startsWith("2026-10-04-"), version);
        ModelStore.TrainingRecord r = store.record(version);
        assertEquals("2026-10-01", r.trainedFrom());
        assertEquals("2026-10-03", r.trainedThrough());
        assertNull(r.parentVersion());
        assertEquals(version, r.lineageId());
        List<Map<String, Object>> epochs = epochs(r);
        assertEquals(3, epochs.size());
        double first = ((Number) epochs.get(0).get("validation_loss")).doubleValue();
        double best = Math.min(
                ((Number) epochs.get(1).get("validation_loss")).doubleValue(),
                ((Number) epochs.get(2).get("validation_loss")).doubleValue());
        assertTrue(best < first, "validation loss falls below the first epoch's: " + first + " -> " + best);
        int argmin = 0;
        for (int e = 1; e < epochs.size(); e++) {
            if (((Number) epochs.get(e).get("validation_loss")).doubleValue()
                    < ((Number) epochs.get(argmin).get("validation_loss")).doubleValue()) {
                argmin = e;
            }
        }
        assertEquals(
                argmin,
                ((Number) ((Map<String, Object>) r.metrics()).get("published_epoch")).intValue(),
                "the published model is the epoch with the lowest validation loss (restore-best)");
        double recall = ((Number) epochs.get(2).get("sampled_recall_at_10")).doubleValue();
        assertTrue(recall > 3 * 10.0 / TrainingExamplesFixture.PINS, "sampled recall@10 well above chance: " + recall);
        assertEquals(version, ModelArtifact.read(store.artifactDir(version)).versionId());
        assertFalse(Files.exists(store.checkpointDir(version)), "checkpoints of a finished run are removed");
    }

    @Test
    void aKilledRunLeavesLatestAloneAndTheRerunResumes(SparkSession spark, @TempDir Path root) throws Exception {
        PipelineConfig c = config(root, "run-date", FIRST.plusDays(3).toString(), "train.epochs", "6");
        writeExamples(spark, c, 4);
        ModelStore store = new ModelStore(Path.of(c.train().modelStore()));
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.run("train", c, spark));
        Path runs = store.root().resolve("runs");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!hasCheckpoint(runs) && System.nanoTime() < deadline && !run.isDone()) {
            Thread.sleep(50);
        }
        assertTrue(hasCheckpoint(runs), "a checkpoint was written before the kill");
        spark.sparkContext().cancelAllJobs();
        assertEquals(Main.EXIT_FAILED, run.get(120, TimeUnit.SECONDS));
        assertTrue(store.latestVersion().isEmpty(), "an interrupted run never moves LATEST");

        assertEquals(Main.EXIT_OK, Main.run("train", c, spark));
        ModelStore.TrainingRecord r = store.record(store.latestVersion().orElseThrow());
        assertFalse(epochs(r).isEmpty());
        assertTrue(
                epochs(r).size() < 6
                        || ((Number) epochs(r).get(0).get("epoch")).intValue() > 0
                        || epochs(r).size() == 6,
                "resumed run reports the epochs it ran");
    }

    @Test
    void warmStartTrainsOnlyTheNewDaysFromTheLatestModel(SparkSession spark, @TempDir Path root) {
        PipelineConfig day4 = config(root, "run-date", FIRST.plusDays(3).toString(), "train.epochs", "1");
        writeExamples(spark, day4, 6);
        assertEquals(Main.EXIT_OK, Main.run("train", day4, spark));
        ModelStore store = new ModelStore(Path.of(day4.train().modelStore()));
        String first = store.latestVersion().orElseThrow();

        PipelineConfig day6 =
                config(root, "run-date", FIRST.plusDays(5).toString(), "train.epochs", "1", "train.warm-start", "true");
        assertEquals(Main.EXIT_OK, Main.run("train", day6, spark));
        ModelStore.TrainingRecord r = store.record(store.latestVersion().orElseThrow());
        assertEquals(first, r.parentVersion());
        assertEquals(first, r.lineageId(), "a warm-started model continues its parent's lineage");
        assertEquals("2026-10-04", r.trainedFrom(), "only the days after the parent's last training day");
        assertEquals("2026-10-05", r.trainedThrough());

        assertEquals(Main.EXIT_OK, Main.run("train", day6, spark));
        assertEquals(
                first,
                store.record(store.latestVersion().orElseThrow()).parentVersion(),
                "re-running the day warm-starts from the same parent");
    }

    @Test
    void idTablesFarSmallerThanTheDataGrowToIt(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = config(
                root, "run-date", FIRST.plusDays(3).toString(), "model.max-hash-buckets", "16", "train.epochs", "1");
        writeExamples(spark, c, 4);
        long pins = spark.read()
                .format("delta")
                .load(new DeltaTables(spark, c.storageRoot()).path(TrainStage.TRAINING_EXAMPLES))
                .select("pin_id")
                .distinct()
                .count();
        assertEquals(Main.EXIT_OK, Main.run("train", c, spark));
        ModelStore store = new ModelStore(Path.of(c.train().modelStore()));
        FeatureSchema trained = ModelArtifact.read(
                        store.artifactDir(store.latestVersion().orElseThrow()))
                .features();
        int rows = trained.tables().get("pin_id").buckets();
        assertTrue(1 - Math.exp(-(double) pins / rows) <= 0.1 + 0.02, rows + " rows for " + pins + " pins");
        assertEquals(1, Integer.bitCount(rows), "a power of two");
        for (FeatureSpec s : trained.user()) {
            if ("pin_id".equals(s.sharedTable())) {
                assertEquals(rows, s.buckets(), s.name() + " reads the grown table");
            }
        }
    }

    @Test
    void refusesIdTablesTheLimitCannotHold(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = config(
                root,
                "run-date",
                FIRST.plusDays(3).toString(),
                "model.max-hash-buckets",
                "16",
                "model.hash-buckets-limit",
                "32");
        writeExamples(spark, c, 4);
        assertEquals(Main.EXIT_USAGE, Main.run("train", c, spark), "a configuration error: exit 2");
        assertTrue(
                new ModelStore(Path.of(c.train().modelStore())).latestVersion().isEmpty());
    }

    @Test
    void refusesToTrainOnNothing(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = config(root, "run-date", "2027-01-10");
        writeExamples(spark, c, 2);
        assertEquals(Main.EXIT_FAILED, Main.run("train", c, spark));
        assertTrue(
                new ModelStore(Path.of(c.train().modelStore())).latestVersion().isEmpty());
    }

    private static boolean hasCheckpoint(Path runs) throws IOException {
        if (!Files.exists(runs)) {
            return false;
        }
        try (var s = Files.walk(runs)) {
            return s.anyMatch(p -> p.getFileName().toString().equals("state.json"));
        }
    }

    @Test
    void excludedFeaturesLeaveTheTowersAndTheArtifact(SparkSession spark, @TempDir Path root) {
        PipelineConfig c = config(
                root,
                "run-date",
                FIRST.plusDays(3).toString(),
                "train.epochs",
                "1",
                "model.excluded-features",
                "[user_id, pin_category]");
        FeatureSchema schema = TrainStage.schema(c);
        assertFalse(schema.names().contains("user_id"));
        assertFalse(schema.names().contains("pin_category"));
        assertEquals(FeatureSchema.defaults().names().size() - 2, schema.names().size());
        writeExamples(spark, c, 4);
        assertEquals(Main.EXIT_OK, Main.run("train", c, spark));
        ModelStore store = new ModelStore(Path.of(c.train().modelStore()));
        FeatureSchema trained = ModelArtifact.read(
                        store.artifactDir(store.latestVersion().orElseThrow()))
                .features();
        assertEquals(schema.names(), trained.names(), "the artifact records the schema it was trained with");
    }

    @Test
    void historySequencesFollowTheTrainingDataHistoryLength(@TempDir Path root) {
        PipelineConfig c = config(root, "training-data.history-length", "50");
        FeatureSchema schema = TrainStage.schema(c);
        for (String sequence : List.of("user_engaged_pins", "user_converted_pins")) {
            FeatureSpec spec = schema.user().stream()
                    .filter(f -> f.name().equals(sequence))
                    .findFirst()
                    .orElseThrow();
            assertEquals(50, spec.maxLength(), sequence);
            assertEquals(2048, spec.buckets(), sequence + " reads the pin_id table, capped by model.max-hash-buckets");
        }
        FeatureSpec query = schema.user().stream()
                .filter(f -> f.name().equals("query_tokens"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                FeatureSchema.defaults().user().stream()
                        .filter(f -> f.name().equals("query_tokens"))
                        .findFirst()
                        .orElseThrow()
                        .maxLength(),
                query.maxLength(),
                "query tokens keep their own length");
    }
}
