package dev.convcg.jobs.stages;

import static dev.convcg.core.embeddings.EmbeddingColumns.*;
import static dev.convcg.jobs.io.EmbeddingFixtures.*;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.embeddings.LineageRule;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.features.FeatureBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four days of the stage on hand-built snapshots and tiny random models: first publish, moving-average smoothing
 * with carry-over under a warm-started model of the same lineage, refusal of an unrelated model and its reset, and
 * a failing run that leaves the previous day intact.
 */
@ExtendWith(SparkTest.class)
class InferEmbeddingsStageTest {
    private static final LocalDate D1 = LocalDate.parse("2026-10-01");
    private static final LocalDate D2 = D1.plusDays(1);
    private static final LocalDate D3 = D1.plusDays(2);
    private static final LocalDate D4 = D1.plusDays(3);

    private static PipelineConfig config(Path root, String... more) {
        String[] base = {
            "infer-embeddings.batch-size",
            "4",
            "infer-embeddings.smoothing",
            "MOVING_AVERAGE",
            "infer-embeddings.alpha",
            "0.7"
        };
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return TestConfigs.tiny(root, all);
    }

    private static Map<String, Row> rows(EmbeddingStore out, String table, LocalDate ds) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.readDay(table, ds).collectAsList()) {
            String key = table.equals(StorageLayout.PIN_EMBEDDINGS)
                    ? String.valueOf(r.getLong(0))
                    : r.getLong(0) + "/" + r.getString(1);
            assertNull(m.put(key, r), "one row per entity: " + key);
        }
        return m;
    }

    private static float[] vec(Row r, String column) {
        List<Float> l = r.getList(r.fieldIndex(column));
        float[] v = new float[l.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = l.get(i);
        }
        return v;
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    @Test
    void publishesSmoothsCarriesOverAndGuardsLineage(SparkSession spark, @TempDir Path root) throws Exception {
        PipelineConfig c = config(root);
        DeltaTables tables = new DeltaTables(spark, c.storageRoot());
        ModelStore models = new ModelStore(Path.of(c.train().modelStore()));
        EmbeddingStore out = new EmbeddingStore(spark, c.inferEmbeddings().outputRoot());
        String pinsPath = tables.path(TrainingDataSchemas.PIN_FEATURES_TABLE);
        String usersPath = tables.path(TrainingDataSchemas.USER_FEATURES_TABLE);
        append(
                spark,
                pinsPath,
                PIN_FEATURES,
                List.of(
                        pin(D1 + "", 1),
                        pin(D1 + "", 2),
                        pin(D1 + "", 3),
                        pin(D2 + "", 1),
                        pin(D2 + "", 2),
                        pin(D2 + "", 4),
                        pin(D3 + "", 1),
                        pin(D3 + "", 5),
                        pin(D4 + "", 1),
                        pin(D4 + "", 7, CONTENT_DIM + 1)));
        append(
                spark,
                usersPath,
                USER_FEATURES,
                List.of(
                        user(D1 + "", 10),
                        user(D1 + "", 11),
                        user(D2 + "", 10),
                        user(D2 + "", 12),
                        user(D3 + "", 10),
                        user(D4 + "", 10)));

        // Day 1: model A, nothing published before.
        publishModel(models, "A", null, "A", 1, D1.toString());
        assertEquals(Main.EXIT_OK, Main.run("infer-embeddings", config(root, "run-date", D1.toString()), spark));
        Map<String, Row> p1 = rows(out, StorageLayout.PIN_EMBEDDINGS, D1);
        Map<String, Row> u1 = rows(out, StorageLayout.USER_EMBEDDINGS, D1);
        assertEquals(3, p1.size());
        assertEquals(6, u1.size(), "2 users x 3 surfaces");
        for (Row r : p1.values()) {
            assertEquals(1.0, norm(vec(r, EMBEDDING)), 1e-5);
            assertEquals(NONE, r.getAs(SMOOTHING));
            assertEquals("A", r.getAs(MODEL_VERSION));
            assertEquals("A", r.getAs(LINEAGE_ID));
            assertEquals(D1.toString(), r.getAs(EMBEDDING_DATE));
            assertFalse((Boolean) r.getAs(CARRIED_OVER));
        }
        assertFalse(
                Arrays.equals(vec(u1.get("10/HOME_FEED"), EMBEDDING), vec(u1.get("10/SEARCH"), EMBEDDING)),
                "the surface is part of the user tower's context");
        // The stage's embedding of pin 2 is what the encoder gives for the same features.
        try (TwoTowerEncoder enc = TwoTowerEncoder.load(models.artifactDir("A"))) {
            Row src = pin(D1.toString(), 2);
            @SuppressWarnings("unchecked")
            List<Float> content = (List<Float>) src.get(7);
            float[] cv = new float[CONTENT_DIM];
            for (int i = 0; i < cv.length; i++) {
                cv[i] = content.get(i);
            }
            FeatureBatch b = FeatureBatch.builder(1)
                    .id("pin_id", new long[] {2})
                    .id("advertiser_id", new long[] {2})
                    .id("pin_category", new long[] {
                        spark.sql("select xxhash64('cat_2')").first().getLong(0)
                    })
                    .id("pin_price_bucket", new long[] {2})
                    .numeric("pin_ctr", new float[] {0.02f})
                    .numeric("pin_cvr", new float[] {0.002f})
                    .vector("pin_content_embedding", cv, CONTENT_DIM, null)
                    .build();
            assertArrayEquals(enc.encodePinsFlat(b), vec(p1.get("2"), EMBEDDING), 1e-5f);
        }

        // Day 2: model B warm-started from A (same lineage): smoothing and carry-over.
        publishModel(models, "B", "A", "A", 2, D2.toString());
        assertEquals(Main.EXIT_OK, Main.run("infer-embeddings", config(root, "run-date", D2.toString()), spark));
        Map<String, Row> p2 = rows(out, StorageLayout.PIN_EMBEDDINGS, D2);
        assertEquals(4, p2.size(), "pins 1, 2, 4 fresh and 3 carried over");
        Row pin1 = p2.get("1");
        float[] prev = vec(p1.get("1"), EMBEDDING);
        float[] fresh = vec(pin1, FRESH_EMBEDDING);
        float[] expected = new float[prev.length];
        for (int i = 0; i < prev.length; i++) {
            expected[i] = 0.7f * prev[i] + 0.3f * fresh[i];
        }
        double n = norm(expected);
        for (int i = 0; i < expected.length; i++) {
            expected[i] /= (float) n;
        }
        assertArrayEquals(expected, vec(pin1, EMBEDDING), 1e-5f);
        assertEquals("MOVING_AVERAGE", pin1.getAs(SMOOTHING));
        assertEquals("B", pin1.getAs(MODEL_VERSION));
        Row pin3 = p2.get("3");
        assertTrue((Boolean) pin3.getAs(CARRIED_OVER));
        assertEquals("A", pin3.getAs(MODEL_VERSION));
        assertArrayEquals(vec(p1.get("3"), EMBEDDING), vec(pin3, EMBEDDING), 0f);
        assertEquals(NONE, p2.get("4").getAs(SMOOTHING));
        Map<String, Row> u2 = rows(out, StorageLayout.USER_EMBEDDINGS, D2);
        assertEquals(9, u2.size(), "users 10, 12 fresh, 11 carried over, x 3 surfaces");
        assertTrue((Boolean) u2.get("11/RELATED_PINS").getAs(CARRIED_OVER));
        assertEquals("MOVING_AVERAGE", u2.get("10/SEARCH").getAs(SMOOTHING));

        // Day 3: model C of another lineage is refused before any inference; nothing is written.
        publishModel(models, "C", null, "C", 3, D3.toString());
        StageContext day3 = new StageContext(spark, config(root, "run-date", D3.toString()), tables, D3);
        LineageRule.LineageMismatchException e =
                assertThrows(LineageRule.LineageMismatchException.class, () -> new InferEmbeddingsStage().run(day3));
        assertTrue(
                e.getMessage().contains("'C'")
                        && e.getMessage().contains("'A'")
                        && e.getMessage().contains("infer-embeddings.reset"),
                e.getMessage());
        assertFalse(Files.exists(Path.of(out.dayPath(StorageLayout.PIN_EMBEDDINGS, D3))));

        // With reset the history is discarded and the rows say so.
        assertEquals(
                Main.EXIT_OK,
                Main.run(
                        "infer-embeddings",
                        config(root, "run-date", D3.toString(), "infer-embeddings.reset", "true"),
                        spark));
        Map<String, Row> p3 = rows(out, StorageLayout.PIN_EMBEDDINGS, D3);
        assertEquals(Set.of("1", "5"), p3.keySet(), "no carry-over across lineages");
        for (Row r : p3.values()) {
            assertEquals(RESET, r.getAs(SMOOTHING));
            assertEquals("C", r.getAs(LINEAGE_ID));
        }

        // Day 4 fails during inference (a content embedding of the wrong width): day 3 stays as it was.
        assertEquals(Main.EXIT_FAILED, Main.run("infer-embeddings", config(root, "run-date", D4.toString()), spark));
        assertFalse(Files.exists(Path.of(out.dayPath(StorageLayout.PIN_EMBEDDINGS, D4))));
        assertEquals(List.of(D1, D2, D3), out.publishedDays(StorageLayout.PIN_EMBEDDINGS));
        assertEquals(p3.keySet(), rows(out, StorageLayout.PIN_EMBEDDINGS, D3).keySet());
        assertEquals(
                2,
                out.readDay(StorageLayout.PIN_EMBEDDINGS, D3)
                        .filter(col(SMOOTHING).equalTo(RESET))
                        .count());
    }
}
