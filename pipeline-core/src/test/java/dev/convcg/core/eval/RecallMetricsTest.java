package dev.convcg.core.eval;

import static dev.convcg.core.eval.EvalTestData.*;
import static dev.convcg.core.eval.RecallMetrics.Metric.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.RecallMetrics.Coverage;
import dev.convcg.core.eval.RecallMetrics.Result;
import dev.convcg.core.schema.Surface;
import dev.convcg.core.testing.SparkTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class RecallMetricsTest {
    static final double EPS = 1e-9;

    /** Known lists and events; every number below is worked out by hand in the comments. */
    static Dataset<Row> handRecommendations(SparkSession spark) {
        return frame(
                spark,
                RECOMMENDATIONS,
                List.of(
                        RowFactory.create(1L, "HOME_FEED", new Long[] {10L, 11L, 12L, 13L}),
                        RowFactory.create(1L, "SEARCH", new Long[] {20L, 21L}),
                        RowFactory.create(2L, "HOME_FEED", new Long[] {10L, 14L})));
    }

    static Dataset<Row> handEvents(SparkSession spark) {
        return frame(
                spark,
                EVENTS,
                List.of(
                        event(1, 10, "HOME_FEED", "CONVERSION"), // rank 1
                        event(1, 13, "HOME_FEED", "CONVERSION"), // rank 4
                        event(
                                1,
                                13,
                                "HOME_FEED",
                                "CONVERSION"), // the same pin again: one more event, not one more positive
                        event(1, 99, "SEARCH", "CONVERSION"), // not retrieved
                        event(2, 14, "HOME_FEED", "CONVERSION"), // rank 2
                        event(3, 10, "HOME_FEED", "CONVERSION"), // user 3 has no query: a miss, counted as missing
                        event(2, 5, "SEARCH", "ENGAGEMENT"), // user 2 has no SEARCH query
                        event(1, 11, "HOME_FEED", "NEGATIVE"))); // a hard negative: ignored
    }

    /**
     * Exposure-free recall on a hand-made case: user 1's true top pins are [10, 13, 30, 31], user 2's [14, 40, 41, 42],
     * user 3 (no list: 0) [10, 11, 12, 13]; the true-propensity lists themselves score 1 at every K.
     */
    @Test
    void exposureFreeRecallIsTheShareOfTheTrueTopKInTheModelsTopK(SparkSession spark) {
        Dataset<Row> truth = spark.createDataFrame(
                List.of(
                        RowFactory.create(1L, new Long[] {10L, 13L, 30L, 31L}),
                        RowFactory.create(2L, new Long[] {14L, 40L, 41L, 42L}),
                        RowFactory.create(3L, new Long[] {10L, 11L, 12L, 13L})),
                new StructType().add("user_id", "long").add("pin_ids", "array<bigint>"));
        List<RecallMetrics.Recall> r = RecallMetrics.truthRecall(handRecommendations(spark), truth, List.of(1, 2, 4));
        // queries: u1 home feed [10, 11, 12, 13], u1 search [20, 21], u2 home feed [10, 14]; user 3 has no list
        assertEquals((1 + 0) / 2.0 / 3, r.get(0).recall(), EPS, "@1: only u1's home feed has the true top pin first");
        assertEquals(((0.5 + 0) / 2 + 0.5) / 3, r.get(1).recall(), EPS);
        assertEquals(((0.5 + 0) / 2 + 0.5 / 2) / 3, r.get(2).recall(), EPS, "u2's list holds 1 of the true top 4");
        assertEquals(
                List.of(RecallMetrics.Metric.TRUE_PROPENSITY_RECALL),
                r.stream().map(RecallMetrics.Recall::metric).distinct().toList());
        assertEquals(3, r.get(0).users(), "every user of the truth lists counts");
        assertEquals(3, r.get(0).events(), "three queries");

        Result oracle = OfflineEvaluation.score(handEvents(spark), truth, settings(List.of(1, 2, 4), 256, 512), truth);
        for (int k : List.of(1, 2, 4)) {
            assertEquals(
                    1.0,
                    oracle.get("conversion", "all", k, RecallMetrics.Metric.TRUE_PROPENSITY_RECALL)
                            .recall(),
                    EPS);
        }
    }

    /** Scoring lists the caller cached leaves them cached (evaluate reuses the two-tower's lists for its blend). */
    @Test
    void scoringLeavesTheCallersCacheInPlace(SparkSession spark) {
        Dataset<Row> truth = spark.createDataFrame(
                List.of(RowFactory.create(1L, new Long[] {10L, 13L})),
                new StructType().add("user_id", "long").add("pin_ids", "array<bigint>"));
        Dataset<Row> lists = handRecommendations(spark).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            OfflineEvaluation.score(handEvents(spark), lists, settings(List.of(1, 2), 256, 512), truth);
            assertNotEquals(StorageLevel.NONE(), lists.storageLevel());
        } finally {
            lists.unpersist();
        }
    }

    @Test
    void everyFigureCarriesABootstrapIntervalAndAModelHasNoLiftOverItself(SparkSession spark) {
        Bootstrap.Settings intervals = new Bootstrap.Settings(200, 0.95, 7);
        Result r = RecallMetrics.evaluate(handEvents(spark), handRecommendations(spark), List.of(1, 2, 4), intervals);
        Result none = RecallMetrics.evaluate(handEvents(spark), handRecommendations(spark), List.of(1, 2, 4));
        assertEquals(none.recalls(), r.recalls(), "intervals do not change the figures");
        for (RecallMetrics.Recall x : r.recalls()) {
            Bootstrap.Interval i =
                    r.interval(x.task(), x.surface(), x.k(), x.metric()).orElseThrow();
            assertTrue(i.low() <= x.recall() + EPS && x.recall() <= i.high() + EPS, x + " in " + i);
        }
        Bootstrap.Interval hf =
                r.interval("conversion", "home_feed", 4, EVENT_HIT_RATE).orElseThrow();
        assertTrue(hf.high() - hf.low() > 0.1, "three users: a wide interval " + hf);
        RecallMetrics.Lift self =
                r.liftOver(r, "conversion", "all", 4, EVENT_HIT_RATE).orElseThrow();
        assertEquals(0.0, self.lift(), EPS);
        assertEquals(new Bootstrap.Interval(0, 0), self.interval());
        assertTrue(none.interval("conversion", "all", 4, EVENT_HIT_RATE).isEmpty());
        assertTrue(r.liftOver(none, "conversion", "all", 4, EVENT_HIT_RATE).isEmpty());
    }

    @Test
    void eventHitRateAndUserRecallOnAHandMadeCase(SparkSession spark) {
        Result r = RecallMetrics.evaluate(handEvents(spark), handRecommendations(spark), List.of(1, 2, 4));
        // home feed conversions: 5 events with ranks 1, 4, 4, 2, miss
        assertEquals(
                1 / 5.0, r.get("conversion", "home_feed", 1, EVENT_HIT_RATE).recall(), EPS);
        assertEquals(
                2 / 5.0, r.get("conversion", "home_feed", 2, EVENT_HIT_RATE).recall(), EPS);
        assertEquals(
                4 / 5.0, r.get("conversion", "home_feed", 4, EVENT_HIT_RATE).recall(), EPS);
        // per user: u1 {10, 13}, u2 {14}, u3 {10}
        assertEquals(
                (0.5 + 0 + 0) / 3,
                r.get("conversion", "home_feed", 1, USER_RECALL).recall(),
                EPS);
        assertEquals(
                (0.5 + 1 + 0) / 3,
                r.get("conversion", "home_feed", 2, USER_RECALL).recall(),
                EPS);
        assertEquals(
                (1.0 + 1 + 0) / 3,
                r.get("conversion", "home_feed", 4, USER_RECALL).recall(),
                EPS);
        // all surfaces: the search miss joins; u1's positives become (HF,10), (HF,13), (S,99)
        assertEquals(4 / 6.0, r.get("conversion", "all", 4, EVENT_HIT_RATE).recall(), EPS);
        assertEquals(
                (2 / 3.0 + 1 + 0) / 3,
                r.get("conversion", "all", 4, USER_RECALL).recall(),
                EPS);
        assertEquals(0.0, r.get("conversion", "search", 4, USER_RECALL).recall(), EPS);
        assertEquals(0.0, r.get("engagement", "all", 4, EVENT_HIT_RATE).recall(), EPS);
        var figure = r.get("conversion", "home_feed", 4, USER_RECALL);
        assertEquals(3, figure.users());
        assertEquals(5, figure.events());
        assertEquals(6, r.get("conversion", "all", 1, EVENT_HIT_RATE).events());
        assertTrue(r.recalls().stream().noneMatch(x -> x.task().equals("negative")));
    }

    @Test
    void userRecallAgreesWithMllibRankingMetrics(SparkSession spark) {
        Dataset<Row> events = handEvents(spark), recs = handRecommendations(spark);
        Result r = RecallMetrics.evaluate(events, recs, List.of(1, 2, 4));
        for (int k : new int[] {1, 2, 4}) {
            assertEquals(
                    r.get("conversion", "home_feed", k, USER_RECALL).recall(),
                    RecallMetrics.mllibUserRecall(events, recs, "CONVERSION", "HOME_FEED", k),
                    EPS,
                    "k " + k);
            assertEquals(
                    r.get("conversion", "search", k, USER_RECALL).recall(),
                    RecallMetrics.mllibUserRecall(events, recs, "CONVERSION", "SEARCH", k),
                    EPS,
                    "k " + k);
        }
    }

    @Test
    void missingQueryEmbeddingsCountAsMissesAndAreReported(SparkSession spark) {
        Result r = RecallMetrics.evaluate(handEvents(spark), handRecommendations(spark), List.of(4));
        assertEquals(new Coverage("conversion", "home_feed", 3, 5, 1, 1), find(r, "conversion", "home_feed"));
        assertEquals(new Coverage("conversion", "all", 3, 6, 1, 1), find(r, "conversion", "all"));
        assertEquals(new Coverage("engagement", "search", 1, 1, 1, 1), find(r, "engagement", "search"));
    }

    private static Coverage find(Result r, String task, String surface) {
        return r.coverage().stream()
                .filter(c -> c.task().equals(task) && c.surface().equals(surface))
                .findFirst()
                .orElseThrow();
    }

    private static EvaluationSettings settings(List<Integer> ks, int queryBlock, int itemBlock) {
        EvaluationSettings d = EvaluationSettings.defaults();
        return new EvaluationSettings(
                d.evalDays(),
                d.trainingDays(),
                ks,
                ks,
                queryBlock,
                itemBlock,
                d.baselines(),
                d.als(),
                0,
                d.intervals(),
                d.onlineAbK());
    }

    @Test
    void aPerfectModelScoresOne(SparkSession spark) {
        int pins = 120;
        List<Row> items = new ArrayList<>();
        for (int p = 0; p < pins; p++) {
            float[] oneHot = new float[pins];
            oneHot[p] = 1;
            items.add(RowFactory.create(500L + p, boxed(oneHot)));
        }
        SplittableRandom r = new SplittableRandom(5);
        List<Row> queries = new ArrayList<>();
        List<Row> events = new ArrayList<>();
        for (long u = 0; u < 60; u++) {
            for (Surface s : Surface.values()) {
                int p = r.nextInt(pins);
                float[] q = new float[pins];
                q[p] = 1;
                queries.add(RowFactory.create(u, s.name(), boxed(q)));
                events.add(event(u, 500L + p, s.name(), u % 2 == 0 ? "CONVERSION" : "ENGAGEMENT"));
            }
        }
        Result result = OfflineEvaluation.evaluate(
                frame(spark, SURFACE_QUERIES, queries),
                frame(spark, ITEMS, items),
                frame(spark, ITEMS, items),
                frame(spark, EVENTS, events),
                settings(List.of(1, 10, 100), 16, 50));
        assertEquals(2 * 4 * 3 * 2, result.recalls().size(), "2 tasks x 4 surfaces x 3 ks x 2 metrics");
        result.recalls().forEach(x -> assertEquals(1.0, x.recall(), EPS, x.toString()));
    }

    @Test
    void aRandomModelScoresKOverTheCatalog(SparkSession spark) {
        int pins = 2000, dim = 16, users = 1000, perUser = 3;
        SplittableRandom r = new SplittableRandom(11);
        List<Row> items = new ArrayList<>();
        for (int p = 0; p < pins; p++) {
            items.add(RowFactory.create((long) p, boxed(gaussian(r, dim))));
        }
        List<Row> queries = new ArrayList<>();
        List<Row> events = new ArrayList<>();
        for (long u = 0; u < users; u++) {
            queries.add(RowFactory.create(u, boxed(gaussian(r, dim))));
            for (int e = 0; e < perUser; e++) {
                events.add(event(u, r.nextInt(pins), Surface.values()[r.nextInt(3)].name(), "CONVERSION"));
            }
        }
        List<Integer> ks = List.of(10, 100, 1000);
        Result result = OfflineEvaluation.evaluate(
                frame(spark, USER_QUERIES, queries),
                frame(spark, ITEMS, items),
                frame(spark, ITEMS, items),
                frame(spark, EVENTS, events),
                settings(ks, 256, 512));
        // Event pins are drawn independently of the model, so each event is a hit with probability exactly K/N:
        // the hit count is Binomial(E, K/N). 4 standard errors: a correct evaluator fails this 6 times in 100 000.
        int n = users * perUser;
        for (int k : ks) {
            double p = (double) k / pins, se = Math.sqrt(p * (1 - p) / n);
            double hit = result.get("conversion", "all", k, EVENT_HIT_RATE).recall();
            double recall = result.get("conversion", "all", k, USER_RECALL).recall();
            assertEquals(p, hit, 4 * se, "event hit rate @" + k);
            assertEquals(p, recall, 4 * se, "user recall @" + k);
        }
        assertEquals(
                Set.of("all", "home_feed", "related_pins", "search"),
                Set.copyOf(result.recalls().stream()
                        .map(RecallMetrics.Recall::surface)
                        .toList()));
    }

    private static float[] gaussian(SplittableRandom r, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
