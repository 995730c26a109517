package dev.convcg.core.eval;

import static dev.convcg.core.eval.EvalTestData.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class TopKRetrievalTest {

    /** Embeddings with entries in {-1, 0, 1}: exact float arithmetic and many tied scores. */
    private static float[] ternary(SplittableRandom r, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = r.nextInt(3) - 1;
        }
        return v;
    }

    @Test
    void blockedTopKEqualsBruteForceIncludingTiesForAnyBlockSizes(SparkSession spark) {
        SplittableRandom r = new SplittableRandom(3);
        int dim = 4;
        Map<Long, float[]> pins = new HashMap<>();
        List<Row> items = new ArrayList<>();
        for (int j = 0; j < 53; j++) {
            long id = 1_000 + (j * 37L) % 101;
            float[] v = ternary(r, dim);
            pins.put(id, v);
            items.add(RowFactory.create(id, boxed(v)));
        }
        List<Row> queries = new ArrayList<>();
        Map<Long, float[]> query = new HashMap<>();
        for (long u = 0; u < 37; u++) {
            float[] v = ternary(r, dim);
            query.put(u, v);
            queries.add(RowFactory.create(u, u % 2 == 0 ? "HOME_FEED" : "SEARCH", boxed(v)));
        }
        Dataset<Row> q = frame(spark, SURFACE_QUERIES, queries).repartition(3).cache();
        Dataset<Row> it = frame(spark, ITEMS, items);
        int[][] blocks = {{1, 1}, {3, 7}, {64, 64}};
        for (int k : new int[] {1, 5, 60}) {
            Map<Long, List<Long>> expected = new HashMap<>();
            query.forEach((u, v) -> expected.put(u, bruteForce(v, pins, k)));
            for (int[] b : blocks) {
                List<Row> got = TopKRetrieval.topK(q, it, k, b[0], b[1]).collectAsList();
                assertEquals(37, got.size());
                for (Row row : got) {
                    long u = row.getLong(0);
                    assertEquals(u % 2 == 0 ? "HOME_FEED" : "SEARCH", row.getString(1));
                    assertEquals(
                            expected.get(u), longs(row, 2), "user " + u + " k " + k + " blocks " + b[0] + "x" + b[1]);
                    List<Float> scores = row.getList(3);
                    for (int i = 0; i < scores.size(); i++) {
                        assertEquals(dot(query.get(u), pins.get(expected.get(u).get(i))), scores.get(i), 0f);
                    }
                }
            }
        }
    }

    /**
     * With per-(user, pin) bonuses (positive, negative, on pins outside the catalog, for users without a query), every
     * list is the exact top-K of u·p + bonus: a negative bonus demotes, a positive one promotes from beyond K.
     */
    @Test
    void bonusesGiveTheExactTopKOfTheBiasedScoreForAnyBlockSizes(SparkSession spark) {
        SplittableRandom r = new SplittableRandom(5);
        int dim = 4;
        Map<Long, float[]> pins = new HashMap<>();
        List<Row> items = new ArrayList<>();
        for (long id = 0; id < 41; id++) {
            float[] v = ternary(r, dim);
            pins.put(id, v);
            items.add(RowFactory.create(id, boxed(v)));
        }
        List<Row> queries = new ArrayList<>();
        Map<Long, float[]> query = new HashMap<>();
        Map<Long, Map<Long, Float>> bonus = new HashMap<>();
        List<Row> bonusRows = new ArrayList<>();
        for (long u = 0; u < 23; u++) {
            float[] v = ternary(r, dim);
            query.put(u, v);
            queries.add(RowFactory.create(u, "HOME_FEED", boxed(v)));
            Map<Long, Float> mine = new HashMap<>();
            for (int h = 0; h < 4; h++) {
                long pin = r.nextInt(45); // 41 .. 44 are not in the catalog
                float b = (r.nextInt(9) - 3) * 0.5f; // -1.5 .. 2.5, exact in float
                if (mine.putIfAbsent(pin, b) == null) {
                    bonusRows.add(RowFactory.create(u, pin, b));
                }
            }
            bonus.put(u, mine);
        }
        bonusRows.add(RowFactory.create(999L, 3L, 5f)); // a user without a query
        Dataset<Row> q = frame(spark, SURFACE_QUERIES, queries).repartition(2).cache();
        Dataset<Row> it = frame(spark, ITEMS, items);
        Dataset<Row> bonuses = spark.createDataFrame(
                bonusRows,
                new StructType().add("user_id", "long").add("pin_id", "long").add("bonus", "float"));
        for (int k : new int[] {1, 5, 30}) {
            for (int[] b : new int[][] {{1, 1}, {4, 7}, {64, 64}}) {
                List<Row> got = TopKRetrieval.topK(q, it, k, b[0], b[1], bonuses, BlockScorer.BLAS_SGEMM)
                        .collectAsList();
                assertEquals(23, got.size());
                for (Row row : got) {
                    long u = row.getLong(0);
                    Map<Long, Float> mine = bonus.get(u);
                    List<Long> expected = pins.keySet().stream()
                            .sorted(Comparator.<Long>comparingDouble(
                                            p -> -(dot(query.get(u), pins.get(p)) + mine.getOrDefault(p, 0f)))
                                    .thenComparing(Comparator.naturalOrder()))
                            .limit(k)
                            .toList();
                    assertEquals(expected, longs(row, 2), "user " + u + " k " + k + " blocks " + b[0] + "x" + b[1]);
                }
            }
        }
    }

    private static List<Long> bruteForce(float[] q, Map<Long, float[]> pins, int k) {
        return pins.keySet().stream()
                .sorted(Comparator.<Long>comparingDouble(p -> -dot(q, pins.get(p)))
                        .thenComparing(Comparator.naturalOrder()))
                .limit(k)
                .toList();
    }

    private static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void contextFreeQueriesExpandToEverySurfaceAndNullEmbeddingsAreSkipped(SparkSession spark) {
        Dataset<Row> users = frame(
                spark,
                USER_QUERIES,
                List.of(RowFactory.create(1L, boxed(new float[] {1, 0})), RowFactory.create(2L, null)));
        Dataset<Row> expanded = TopKRetrieval.forAllSurfaces(users);
        assertEquals(6, expanded.count());
        assertEquals(
                3, expanded.filter("user_id = 1").select("surface").distinct().count());
        Dataset<Row> items = frame(
                spark,
                ITEMS,
                List.of(RowFactory.create(7L, boxed(new float[] {0, 1})), RowFactory.create(8L, boxed(new float[] {2, 0
                }))));
        List<Row> top = TopKRetrieval.topK(users, items, 5, 16, 16).collectAsList();
        assertEquals(1, top.size(), "a user without an embedding gets no list");
        assertEquals(List.of(8L, 7L), longs(top.get(0), 1));
        assertEquals(
                List.of("user_id", "pin_ids", "scores"),
                List.of(TopKRetrieval.topK(users, items, 1, 1, 1).columns()));
    }

    @Test
    void mismatchedDimensionsFailNamingTheUser(SparkSession spark) {
        Dataset<Row> users = frame(spark, USER_QUERIES, List.of(RowFactory.create(42L, boxed(new float[] {1, 0, 0}))));
        Dataset<Row> items = frame(spark, ITEMS, List.of(RowFactory.create(7L, boxed(new float[] {0, 1}))));
        Exception e = assertThrows(
                Exception.class,
                () -> TopKRetrieval.topK(users, items, 5, 16, 16).collectAsList());
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertTrue(
                root.getMessage().contains("user 42") && root.getMessage().contains("dimension 3"), root.getMessage());
    }
}
