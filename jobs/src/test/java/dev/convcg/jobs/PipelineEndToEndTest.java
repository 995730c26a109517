package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.train.TwoTowerTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain on a tiny simulated world, as the quickstart runs it: simulate, build-training-data for T, train
 * (validation loss must fall), infer-embeddings for T, build-training-data for D, evaluate D; the report follows the
 * metrics.json contract and holds every model.
 */
@ExtendWith(SparkTest.class)
class PipelineEndToEndTest {
    @Test
    @SuppressWarnings("unchecked")
    void simulatedLogsToReport(SparkSession spark, @TempDir Path root) throws Exception {
        String[] small = {
            "simulate.days",
            "8",
            "simulate.users",
            "400",
            "simulate.pins",
            "500",
            "model.embedding-dim",
            "16",
            "model.tower.mlp-widths",
            "[32, 16]",
            "model.max-hash-buckets",
            "4096",
            "model.content-embedding-dim",
            "8",
            "train.batch-size",
            "256",
            "train.epochs",
            "3",
            "train.window-days",
            "6",
            "train.learning-rate",
            "0.005",
            "train.early-stopping.patience",
            "0",
            "evaluate.eval-days",
            "2",
            "evaluate.training-days",
            "6",
            "evaluate.ks",
            "[10, 100]",
            "evaluate.curve-ks",
            "[10, 50, 100]",
            "evaluate.als.iterations",
            "3",
            // a few hundred conversions: 4 malformed ones are already 1%, so the guard gets a small-sample margin
            "training-data.quarantine-threshold",
            "0.05",
            "engagement-retriever.enabled",
            "true"
        };
        String t = "2026-10-06", d = "2026-10-08";
        assertEquals(Main.EXIT_OK, Main.run("simulate", TestConfigs.tiny(root, small), spark));
        assertEquals(
                Main.EXIT_OK,
                Main.run(
                        "build-training-data",
                        with(root, small, "run-date", t, "training-data.lookback-days", "6"),
                        spark));
        PipelineConfig atT = with(root, small, "run-date", t);
        assertEquals(Main.EXIT_OK, Main.run("train", atT, spark));
        ModelStore store = new ModelStore(Path.of(atT.train().modelStore()));
        Map<String, Object> metrics = (Map<String, Object>)
                store.record(store.latestVersion().orElseThrow()).metrics();
        List<Map<String, Object>> epochs = (List<Map<String, Object>>) metrics.get("epochs");
        double first = ((Number) epochs.get(0).get("validation_loss")).doubleValue();
        double last = ((Number) epochs.get(epochs.size() - 1).get("validation_loss")).doubleValue();
        assertTrue(last < first, "validation loss falls on simulated data: " + first + " -> " + last);
        assertTrue(((Number) metrics.get("input_wait_share")).doubleValue() < 1.0);
        Map<String, Number> phases = (Map<String, Number>) metrics.get("step_phase_ms");
        assertEquals(TwoTowerTrainer.PHASES, List.copyOf(phases.keySet()), "step time by phase");
        assertTrue(
                phases.get("forward").doubleValue() > 0
                        && phases.get("loss+backward").doubleValue() > 0,
                phases.toString());
        Map<String, Object> calibration = (Map<String, Object>) metrics.get("reengagement_calibration");
        assertNotNull(calibration, "the re-engagement biases are refitted after training: " + metrics.keySet());
        assertTrue(((Number) calibration.get("rows")).intValue() > 0, calibration.toString());
        assertTrue(
                ((Number) calibration.get("cross_entropy_calibrated")).doubleValue()
                        <= ((Number) calibration.get("cross_entropy_learned")).doubleValue() + 1e-9,
                calibration.toString());
        Path artifact = store.artifactDir(store.latestVersion().orElseThrow());
        float[] served = ReengagementCalibration.read(artifact).orElseThrow().bias();
        try (TwoTowerEncoder encoder = TwoTowerEncoder.load(artifact)) {
            assertArrayEquals(served, encoder.reengagementBias(), "serving reads the refitted biases");
        }

        assertEquals(Main.EXIT_OK, Main.run("infer-embeddings", atT, spark));
        assertEquals(Main.EXIT_OK, Main.run("build-training-data", with(root, small, "run-date", d), spark));
        assertEquals(Main.EXIT_OK, Main.run("evaluate", with(root, small, "run-date", d), spark));

        JsonNode report = new ObjectMapper()
                .readTree(root.resolve("reports")
                        .resolve(d)
                        .resolve("metrics.json")
                        .toFile());
        Set<String> models = new HashSet<>();
        for (JsonNode r : report.get("metrics")) {
            models.add(r.get("model").asText());
            double recall = r.get("recall").asDouble();
            assertTrue(recall >= 0 && recall <= 1, r.toString());
        }
        assertEquals(
                Set.of(
                        "two_tower",
                        "history_two_tower",
                        "engagement_only",
                        "popularity",
                        "history",
                        "history_popularity",
                        "als",
                        "oracle"),
                models);
        assertEquals(
                store.latestVersion().orElseThrow(), report.get("model_version").asText());
        String html = Files.readString(root.resolve("reports").resolve(d).resolve("report.html"));
        assertTrue(html.contains("two_tower") && html.contains("Simulated online A/B"));
        JsonNode ab = report.get("online_ab");
        assertEquals(100, ab.get("k").asInt());
        assertEquals("engagement_only", ab.get("reference").asText());
        Set<String> arms = new HashSet<>();
        long requests = -1;
        for (JsonNode a : ab.get("arms")) {
            arms.add(a.get("arm").asText());
            if (requests < 0) {
                requests = a.get("requests").asLong();
            }
            assertEquals(requests, a.get("requests").asLong(), "every arm replays the same requests: " + a);
            assertTrue(a.get("impressions").asLong() > 0, a.toString());
            JsonNode perImpression = a.get("rates").get("conversions_per_1000");
            assertTrue(
                    perImpression.get("ci_low").asDouble()
                            <= perImpression.get("value").asDouble(),
                    a.toString());
        }
        assertEquals(models, arms, "one arm per evaluated model");
        assertTrue(
                ab.get("arms").get(0).get("rates").get("conversions_per_1000").has("lift_ci_low"));

        assertEquals(
                Main.EXIT_OK,
                Main.run(
                        "ablate",
                        with(
                                root,
                                small,
                                "run-date",
                                d,
                                "evaluate.ablation.seeds",
                                "[1]",
                                "evaluate.ablation.only",
                                "[default, no_reengagement, popularity_prior]",
                                "evaluate.baselines",
                                "[popularity]"),
                        spark));
        JsonNode ablation = new ObjectMapper()
                .readTree(root.resolve("reports")
                        .resolve(d)
                        .resolve("ablation.json")
                        .toFile());
        Set<String> variants = new HashSet<>();
        for (JsonNode r : ablation) {
            variants.add(r.get("variant").asText());
            assertTrue(r.get("mean").asDouble() >= 0 && r.get("mean").asDouble() <= 1, r.toString());
            assertEquals(1, r.get("seeds").asInt(), r.toString());
        }
        assertEquals(Set.of("default", "no_reengagement", "popularity_prior"), variants);
        assertFalse(
                Files.exists(root.resolve("ablation").resolve(d).resolve("default-seed1")), "scratch runs are removed");
    }

    private static PipelineConfig with(Path root, String[] base, String... more) {
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return TestConfigs.tiny(root, all);
    }
}
