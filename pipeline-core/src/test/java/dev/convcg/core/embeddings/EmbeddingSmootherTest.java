package dev.convcg.core.embeddings;

import static dev.convcg.core.embeddings.EmbeddingColumns.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.embeddings.LineageRule.Decision;
import dev.convcg.core.embeddings.SmoothingSettings.Mode;
import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every smoothing heuristic, carry-over, dedup and retention on hand-made two-dimensional vectors. */
@ExtendWith(SparkTest.class)
class EmbeddingSmootherTest {
    private static final LocalDate DAY1 = LocalDate.parse("2026-10-01");
    private static final LocalDate DAY2 = DAY1.plusDays(1);
    private static final List<String> KEYS = List.of("pin_id");
    private static final StructType FRESH = new StructType()
            .add("pin_id", DataTypes.LongType)
            .add(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType))
            .add(MODEL_VERSION, DataTypes.StringType)
            .add(LAST_SEEN_DS, DataTypes.StringType)
            .add(ARRIVAL_SEQ, DataTypes.LongType);

    private static Row fresh(long id, float[] v, String version, String seen, long seq) {
        return RowFactory.create(id, list(v), version, seen, seq);
    }

    private static List<Float> list(float[] v) {
        List<Float> l = new ArrayList<>();
        for (float x : v) {
            l.add(x);
        }
        return l;
    }

    private static Dataset<Row> df(SparkSession spark, Row... rows) {
        return spark.createDataFrame(List.of(rows), FRESH);
    }

    private static Map<Long, Row> byId(Dataset<Row> rows) {
        Map<Long, Row> m = new HashMap<>();
        for (Row r : rows.collectAsList()) {
            assertNull(m.put(r.getLong(0), r), "one row per entity");
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

    /** Day 1 publishes pins 1..3 as given; day 2 has pins 1, 2 (again) and 4. */
    private static Map<Long, Row> twoDays(SparkSession spark, Mode mode) {
        EmbeddingSmoother s = new EmbeddingSmoother(new SmoothingSettings(mode, 0.7, 90));
        Dataset<Row> day1 = s.smooth(
                df(
                        spark,
                        fresh(1, new float[] {1, 0}, "m1", DAY1.toString(), 0),
                        fresh(2, new float[] {0, 1}, "m1", DAY1.toString(), 1),
                        fresh(3, new float[] {3, 4}, "m1", DAY1.toString(), 2)),
                null,
                KEYS,
                DAY1,
                "L",
                Decision.FIRST);
        Map<Long, Row> d1 = byId(day1);
        assertArrayEquals(new float[] {0.6f, 0.8f}, vec(d1.get(3L), EMBEDDING), 1e-6f, "fresh is normalised");
        assertEquals(NONE, d1.get(1L).getAs(SMOOTHING));
        Dataset<Row> day2 = s.smooth(
                df(
                        spark,
                        fresh(1, new float[] {0, 1}, "m2", DAY2.toString(), 0),
                        fresh(2, new float[] {1, 0}, "m2", DAY2.toString(), 1),
                        fresh(4, new float[] {0, 2}, "m2", DAY2.toString(), 2)),
                day1,
                KEYS,
                DAY2,
                "L",
                Decision.CONTINUE);
        return byId(day2);
    }

    @Test
    void movingAverageWeightsThePastByAlphaThenRenormalises(SparkSession spark) {
        Map<Long, Row> d2 = twoDays(spark, Mode.MOVING_AVERAGE);
        double n = Math.sqrt(0.7 * 0.7 + 0.3 * 0.3);
        assertArrayEquals(new float[] {(float) (0.7 / n), (float) (0.3 / n)}, vec(d2.get(1L), EMBEDDING), 1e-6f);
        assertArrayEquals(new float[] {0, 1}, vec(d2.get(1L), FRESH_EMBEDDING), 0f);
        assertEquals("MOVING_AVERAGE", d2.get(1L).getAs(SMOOTHING));
        assertEquals("m2", d2.get(1L).getAs(MODEL_VERSION));
        assertEquals(DAY2.toString(), d2.get(1L).getAs(EMBEDDING_DATE));
        assertArrayEquals(new float[] {0, 1}, vec(d2.get(4L), EMBEDDING), 0f, "new entity: fresh as is");
        assertEquals(NONE, d2.get(4L).getAs(SMOOTHING));
    }

    @Test
    void movingAverageOfSeveralDaysIsTheExponentialAverageOfTheNormalisedChain(SparkSession spark) {
        EmbeddingSmoother s = new EmbeddingSmoother(new SmoothingSettings(Mode.MOVING_AVERAGE, 0.5, 90));
        Dataset<Row> prev = s.smooth(
                df(spark, fresh(1, new float[] {1, 0}, "m", DAY1.toString(), 0)),
                null,
                KEYS,
                DAY1,
                "L",
                Decision.FIRST);
        float[] expected = {1, 0};
        for (int d = 1; d <= 3; d++) {
            LocalDate day = DAY1.plusDays(d);
            prev = s.smooth(
                    df(spark, fresh(1, new float[] {0, 1}, "m", day.toString(), 0)),
                    prev,
                    KEYS,
                    day,
                    "L",
                    Decision.CONTINUE);
            float a = 0.5f * expected[0];
            float b = 0.5f * expected[1] + 0.5f;
            float n = (float) Math.sqrt(a * a + b * b);
            expected = new float[] {a / n, b / n};
            prev = spark.createDataFrame(prev.collectAsList(), prev.schema());
        }
        assertArrayEquals(expected, vec(byId(prev).get(1L), EMBEDDING), 1e-6f);
    }

    @Test
    void accumulateKeepsTheNewest(SparkSession spark) {
        Map<Long, Row> d2 = twoDays(spark, Mode.ACCUMULATE);
        assertArrayEquals(new float[] {0, 1}, vec(d2.get(1L), EMBEDDING), 0f);
        assertArrayEquals(new float[] {1, 0}, vec(d2.get(2L), EMBEDDING), 0f);
        assertEquals("ACCUMULATE", d2.get(2L).getAs(SMOOTHING));
    }

    @Test
    void averagePoolingMeansTheLastTwoFreshEmbeddingsNotTheSmoothedOne(SparkSession spark) {
        EmbeddingSmoother s = new EmbeddingSmoother(new SmoothingSettings(Mode.AVERAGE_POOLING, 0.7, 90));
        Dataset<Row> d1 = s.smooth(
                df(spark, fresh(1, new float[] {1, 0}, "m", DAY1.toString(), 0)),
                null,
                KEYS,
                DAY1,
                "L",
                Decision.FIRST);
        Dataset<Row> d2 = s.smooth(
                df(spark, fresh(1, new float[] {0, 1}, "m", DAY2.toString(), 0)),
                d1,
                KEYS,
                DAY2,
                "L",
                Decision.CONTINUE);
        float h = (float) Math.sqrt(0.5);
        assertArrayEquals(new float[] {h, h}, vec(byId(d2).get(1L), EMBEDDING), 1e-6f);
        LocalDate day3 = DAY2.plusDays(1);
        Dataset<Row> d3 = s.smooth(
                df(spark, fresh(1, new float[] {0, -1}, "m", day3.toString(), 0)),
                d2,
                KEYS,
                day3,
                "L",
                Decision.CONTINUE);
        // mean of day 2's fresh (0,1) and day 3's (0,-1) is zero: the smoothed (h,h) of day 2 plays no part.
        assertArrayEquals(new float[] {0, 0}, vec(byId(d3).get(1L), EMBEDDING), 0f);
        assertEquals("AVERAGE_POOLING", byId(d3).get(1L).getAs(SMOOTHING));
    }

    @Test
    void entitiesWithoutAFreshEmbeddingCarryThePreviousRowOverFlagged(SparkSession spark) {
        Map<Long, Row> d2 = twoDays(spark, Mode.MOVING_AVERAGE);
        Row p3 = d2.get(3L);
        assertTrue((Boolean) p3.getAs(CARRIED_OVER));
        assertFalse((Boolean) d2.get(1L).getAs(CARRIED_OVER));
        assertArrayEquals(new float[] {0.6f, 0.8f}, vec(p3, EMBEDDING), 1e-6f);
        assertEquals("m1", p3.getAs(MODEL_VERSION));
        assertEquals(DAY1.toString(), p3.getAs(EMBEDDING_DATE));
        assertEquals(DAY1.toString(), p3.getAs(LAST_SEEN_DS));
        assertEquals(NONE, p3.getAs(SMOOTHING), "carried rows keep the smoothing that made their embedding");
        assertEquals(4, d2.size());
    }

    @Test
    void severalFreshRowsOfOneEntityKeepTheLast(SparkSession spark) {
        EmbeddingSmoother s = new EmbeddingSmoother(SmoothingSettings.defaults());
        Map<Long, Row> out = byId(s.smooth(
                df(
                        spark,
                        fresh(1, new float[] {1, 0}, "m", DAY2.toString(), 5),
                        fresh(1, new float[] {0, 1}, "m", DAY2.toString(), 9),
                        fresh(1, new float[] {-1, 0}, "m", DAY2.toString(), 7),
                        fresh(1, new float[] {0, -1}, "m", DAY1.toString(), 99)),
                null,
                KEYS,
                DAY2,
                "L",
                Decision.FIRST));
        assertArrayEquals(new float[] {0, 1}, vec(out.get(1L), EMBEDDING), 0f, "latest day, then highest arrival");
    }

    @Test
    void entitiesNotActiveWithinTheRetentionWindowAreDropped(SparkSession spark) {
        EmbeddingSmoother s = new EmbeddingSmoother(new SmoothingSettings(Mode.MOVING_AVERAGE, 0.7, 90));
        LocalDate today = DAY1.plusDays(90);
        Dataset<Row> prev = s.smooth(
                df(
                        spark,
                        fresh(1, new float[] {1, 0}, "m", DAY1.toString(), 0),
                        fresh(2, new float[] {1, 0}, "m", DAY1.plusDays(1).toString(), 0)),
                null,
                KEYS,
                DAY1.plusDays(1),
                "L",
                Decision.FIRST);
        Map<Long, Row> out = byId(s.smooth(
                df(spark, fresh(3, new float[] {0, 1}, "m", today.toString(), 0)),
                prev,
                KEYS,
                today,
                "L",
                Decision.CONTINUE));
        assertEquals(DAY1.toString(), s.retentionCutoff(today));
        assertFalse(out.containsKey(1L), "last seen 90 days ago: outside a 90-day window");
        assertTrue((Boolean) out.get(2L).getAs(CARRIED_OVER), "last seen 89 days ago: kept");
        assertTrue(out.containsKey(3L));
    }

    @Test
    void resetPublishesTheFreshEmbeddingsAloneAndSaysSo(SparkSession spark) {
        Map<Long, Row> d2 = twoDays(spark, Mode.MOVING_AVERAGE);
        EmbeddingSmoother s = new EmbeddingSmoother(SmoothingSettings.defaults());
        Dataset<Row> prev = spark.createDataFrame(
                new ArrayList<>(d2.values()),
                EmbeddingColumns.published(List.of(DataTypes.createStructField("pin_id", DataTypes.LongType, false))));
        Map<Long, Row> out = byId(s.smooth(
                df(spark, fresh(1, new float[] {0, 1}, "x", DAY2.plusDays(1).toString(), 0)),
                prev,
                KEYS,
                DAY2.plusDays(1),
                "X",
                Decision.RESET));
        assertEquals(1, out.size(), "no carry-over from another lineage");
        assertEquals(RESET, out.get(1L).getAs(SMOOTHING));
        assertEquals("X", out.get(1L).getAs(LINEAGE_ID));
        assertArrayEquals(new float[] {0, 1}, vec(out.get(1L), EMBEDDING), 0f);
    }

    @Test
    void vectorsOfDifferentLengthFailLoudly(SparkSession spark) {
        EmbeddingSmoother s = new EmbeddingSmoother(SmoothingSettings.defaults());
        Dataset<Row> d1 = s.smooth(
                df(spark, fresh(1, new float[] {1, 0}, "m", DAY1.toString(), 0)),
                null,
                KEYS,
                DAY1,
                "L",
                Decision.FIRST);
        Exception e = assertThrows(
                Exception.class,
                () -> s.smooth(
                                df(spark, fresh(1, new float[] {1, 0, 0}, "m", DAY2.toString(), 0)),
                                d1,
                                KEYS,
                                DAY2,
                                "L",
                                Decision.CONTINUE)
                        .collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("differ in length"), e.getMessage());
    }

    @Test
    void lineageRuleRefusesUnrelatedModelsUnlessReset() {
        assertEquals(Decision.FIRST, LineageRule.decide("pins", "v2", "A", Optional.empty(), "-", false));
        assertEquals(Decision.CONTINUE, LineageRule.decide("pins", "v2", "A", Optional.of("A"), "-", false));
        assertEquals(Decision.RESET, LineageRule.decide("pins", "v2", "A", Optional.of("B"), "-", true));
        LineageRule.LineageMismatchException e = assertThrows(
                LineageRule.LineageMismatchException.class,
                () -> LineageRule.decide(
                        "pin_embeddings", "v2", "A", Optional.of("B"), "ds=2026-10-01, model v1", false));
        assertTrue(
                e.getMessage().contains("'A'")
                        && e.getMessage().contains("'B'")
                        && e.getMessage().contains("infer-embeddings.reset"),
                e.getMessage());
    }

    @Test
    void settingsNameTheBadValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SmoothingSettings(Mode.ACCUMULATE, 1.0, 90))
                .getMessage()
                .startsWith("alpha = 1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SmoothingSettings(Mode.ACCUMULATE, 0.5, 0))
                .getMessage()
                .startsWith("retention-days = 0"));
    }
}
