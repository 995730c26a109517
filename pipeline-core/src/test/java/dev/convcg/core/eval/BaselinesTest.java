package dev.convcg.core.eval;

import static dev.convcg.core.eval.RecallMetrics.Metric.*;
import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.RecallMetrics.Result;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The baselines on a small simulated world: 8 days, training up to day 6, evaluation on days 7 and 8. */
@ExtendWith(SparkTest.class)
class BaselinesTest {
    static final SimulationSettings S = new SimulationSettings(
            13, LocalDate.of(2026, 10, 1), 8, 800, 1500, 40, 10, 8, 14.0, 0.8, 0.6, 0.02, 0.01, 2);
    static final LocalDate T = S.day(5);
    static EvaluationSettings settings;
    static Dataset<Row> training, heldOut, catalog;
    static Simulator sim;

    @BeforeAll
    static void world() {
        SparkSession spark = SparkTest.session();
        sim = new Simulator(spark, S);
        EvaluationSettings d = EvaluationSettings.defaults();
        settings = new EvaluationSettings(
                2,
                6,
                List.of(100),
                List.of(10, 50, 100),
                256,
                512,
                d.baselines(),
                new EvaluationSettings.AlsSettings(8, 0.05, 10.0, 5, 42, 5.0, 1),
                0,
                EvaluationSettings.defaults().intervals(),
                100);
        EvaluationSettings.DataWindow w = settings.window(T);
        catalog = sim.table(RawTables.PINS)
                .filter(col(RawTables.DS).equalTo(T.toString()))
                .cache();
        Dataset<Row> positives = RawLogPositives.fromRawLogs(
                        sim.table(RawTables.IMPRESSIONS),
                        sim.table(RawTables.ENGAGEMENTS),
                        sim.table(RawTables.CONVERSIONS),
                        catalog)
                .cache();
        training = positives.filter(
                col(RawTables.DS).between(w.trainFrom().toString(), w.trainTo().toString()));
        heldOut = positives.filter(
                col(RawTables.DS).between(w.evalFrom().toString(), w.evalTo().toString()));
    }

    @Test
    void fallbackPositivesHaveBothTasksAndOnlyKnownSurfaces() {
        assertTrue(heldOut.filter(col("task").equalTo("CONVERSION")).count() > 100, "enough held-out conversions");
        assertTrue(heldOut.filter(col("task").equalTo("ENGAGEMENT")).count() > 500);
        assertEquals(
                0,
                heldOut.filter(not(col("surface").isin("HOME_FEED", "RELATED_PINS", "SEARCH")))
                        .count());
    }

    /**
     * On the logged held-out conversions the propensity oracle does NOT beat popularity in this simulator (tiny world,
     * conversion hit@100: popularity 0.53, oracle 0.45; with 6000 pins 0.27 vs 0.17). Why: 95% of logged conversions
     * follow an impression, serving is engagement-driven (interest, recent clicks, popularity × e^(2·clickbait)) and
     * concentrated (the top 100 of 1500 pins get 45% of impressions), while the oracle ranks by P(convert | shown) and
     * ignores what a user will be shown. A ceiling of logged conversions would need the exposure policy, which the
     * truth tables do not carry. So: on logged data the oracle must beat random; on positives drawn from the true
     * propensity itself (no exposure) it must beat popularity, which checks the oracle's logit end to end.
     */
    @Test
    void baselinesRunAndTheOracleIsTheCeilingOfTruePropensity(SparkSession spark) {
        Result popularity = OfflineEvaluation.evaluatePopularity(training, catalog, heldOut, settings);
        Baselines.Embeddings oracle = Baselines.oracle(sim.truthUsers(), sim.truthPins());
        Result ceiling = OfflineEvaluation.evaluate(oracle.users(), oracle.pins(), catalog, heldOut, settings);
        Baselines.Embeddings als = Baselines.als(training, settings.als());
        Result alsResult = OfflineEvaluation.evaluate(als.users(), als.pins(), catalog, heldOut, settings);

        double random = 100.0 / catalog.count();
        double pop = popularity.get("conversion", "all", 100, EVENT_HIT_RATE).recall();
        double orc = ceiling.get("conversion", "all", 100, EVENT_HIT_RATE).recall();
        double alsHit = alsResult.get("engagement", "all", 100, EVENT_HIT_RATE).recall();
        System.out.printf(
                "logged conversion hit@100: random %.3f popularity %.3f oracle %.3f als %.3f; engagement als %.3f%n",
                random,
                pop,
                orc,
                alsResult.get("conversion", "all", 100, EVENT_HIT_RATE).recall(),
                alsHit);
        assertTrue(pop > 2 * random, "popularity " + pop + " vs random " + random);
        assertTrue(orc > 2 * random, "oracle " + orc + " vs random " + random);
        assertTrue(alsHit > 2 * random, "ALS engagement hit rate " + alsHit + " vs random " + random);
        assertEquals(
                0,
                ceiling.coverage().stream()
                        .mapToLong(RecallMetrics.Coverage::eventsWithoutQuery)
                        .sum(),
                "the oracle knows every user");

        // Positives drawn from the true propensity over the whole catalog, for 200 users: no exposure bias.
        Dataset<Row> truthPins = sim.truthPins().join(catalog.select("pin_id"), "pin_id");
        Dataset<Row> drawn = sim.truthUsers()
                .orderBy("user_id")
                .limit(200)
                .crossJoin(truthPins)
                .withColumn(
                        "logit",
                        col("intent_weight")
                                .multiply(aggregate(
                                        zip_with(col("intent"), col("topic"), (a, b) -> a.multiply(b)),
                                        lit(0.0),
                                        (acc, x) -> acc.plus(x)))
                                .plus(col("conversion_bias")))
                .filter(rand(17).lt(
                                lit(1.0).divide(lit(1.0).plus(exp(col("logit").multiply(-1))))))
                .select(
                        col("user_id"),
                        col("pin_id"),
                        lit("SEARCH").as("surface"),
                        lit("CONVERSION").as("task"))
                .cache();
        double drawnPop = OfflineEvaluation.evaluatePopularity(training, catalog, drawn, settings)
                .get("conversion", "all", 100, EVENT_HIT_RATE)
                .recall();
        double drawnOrc = OfflineEvaluation.evaluate(oracle.users(), oracle.pins(), catalog, drawn, settings)
                .get("conversion", "all", 100, EVENT_HIT_RATE)
                .recall();
        System.out.printf(
                "true-propensity positives (%d): popularity %.3f oracle %.3f%n", drawn.count(), drawnPop, drawnOrc);
        assertTrue(drawnOrc > drawnPop + 0.05, "oracle " + drawnOrc + " must beat popularity " + drawnPop);
    }

    /** Most recent first, ties by count then pin id, per surface, capped at k; negatives ignored; no fill. */
    @Test
    void historyListsEachUsersRecentPositivesPerSurface(SparkSession spark) {
        Dataset<Row> rows = spark.sql("""
                SELECT * FROM VALUES
                  (1L, 10L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-01 10:00:00'),
                  (1L, 11L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-02 10:00:00'),
                  (1L, 12L, 'HOME_FEED', 'CONVERSION', TIMESTAMP'2026-10-02 10:00:00'),
                  (1L, 12L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-01 09:00:00'),
                  (1L, 13L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-02 10:00:00'),
                  (1L, 14L, 'HOME_FEED', 'NEGATIVE',   TIMESTAMP'2026-10-03 10:00:00'),
                  (1L, 15L, 'SEARCH',    'ENGAGEMENT', TIMESTAMP'2026-10-03 10:00:00'),
                  (2L, 20L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-01 10:00:00')
                AS t(user_id, pin_id, surface, task, event_ts)""");
        Map<String, List<Long>> lists = new TreeMap<>();
        for (Row r : Baselines.history(rows, 3).collectAsList()) {
            lists.put(r.getLong(0) + "/" + r.getString(1), r.getList(2));
        }
        assertEquals(
                Map.of(
                        "1/HOME_FEED", List.of(12L, 11L, 13L),
                        "1/SEARCH", List.of(15L),
                        "2/HOME_FEED", List.of(20L)),
                lists);

        Dataset<Row> heldOut = spark.sql("""
                SELECT * FROM VALUES (1L, 12L, 'HOME_FEED', 'CONVERSION'), (1L, 10L, 'HOME_FEED', 'CONVERSION'),
                  (1L, 15L, 'RELATED_PINS', 'CONVERSION'), (3L, 20L, 'HOME_FEED', 'CONVERSION')
                AS t(user_id, pin_id, surface, task)""");
        EvaluationSettings s = smallListSettings();
        Result r = OfflineEvaluation.evaluateHistory(rows, heldOut, s);
        assertEquals(0.25, r.get("conversion", "all", 3, EVENT_HIT_RATE).recall(), 1e-12, "only 1/12 is in its list");
        assertEquals(0.25, r.get("conversion", "all", 1, EVENT_HIT_RATE).recall(), 1e-12);
    }

    /** The history list first, then the most converted catalog pins it lacks, cut to k; no history: popularity alone. */
    @Test
    void historyThenPopularityFillsTheHistoryListWithTheMostConvertedPins(SparkSession spark) {
        Dataset<Row> rows = spark.sql("""
                SELECT * FROM VALUES
                  (1L, 10L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-01 10:00:00'),
                  (1L, 31L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-02 10:00:00'),
                  (2L, 30L, 'HOME_FEED', 'CONVERSION', TIMESTAMP'2026-10-01 10:00:00'),
                  (3L, 30L, 'HOME_FEED', 'CONVERSION', TIMESTAMP'2026-10-01 11:00:00'),
                  (3L, 31L, 'SEARCH',    'CONVERSION', TIMESTAMP'2026-10-01 12:00:00')
                AS t(user_id, pin_id, surface, task, event_ts)""");
        Dataset<Row> catalog = spark.sql("SELECT * FROM VALUES (10L), (30L), (31L), (32L) AS t(pin_id)");
        Dataset<Row> queries = spark.sql("""
                SELECT * FROM VALUES (1L, 'HOME_FEED'), (1L, 'SEARCH'), (4L, 'HOME_FEED') AS t(user_id, surface)""");
        Map<String, List<Long>> lists = new TreeMap<>();
        for (Row r : Baselines.historyThenPopularity(rows, catalog, queries, 3).collectAsList()) {
            lists.put(r.getLong(0) + "/" + r.getString(1), r.getList(2));
        }
        assertEquals(
                Map.of(
                        "1/HOME_FEED", List.of(31L, 10L, 30L),
                        "1/SEARCH", List.of(30L, 31L, 10L),
                        "4/HOME_FEED", List.of(30L, 31L, 10L)),
                lists,
                "popularity: 30 (2 conversions), 31 (1), then never-converted pins by id; no pin twice");

        Dataset<Row> heldOut = spark.sql("""
                SELECT * FROM VALUES (4L, 30L, 'HOME_FEED', 'CONVERSION') AS t(user_id, pin_id, surface, task)""");
        EvaluationSettings s = smallListSettings();
        assertEquals(
                1.0,
                OfflineEvaluation.evaluateHistoryThenPopularity(rows, catalog, heldOut, s)
                        .get("conversion", "all", 1, EVENT_HIT_RATE)
                        .recall(),
                1e-12,
                "popularity counts the conversions of users who are not evaluated");
    }

    /**
     * The blend: each (user, surface) of the other source's lists gets the user's history for that surface first, then
     * the list's own pins it lacks, cut to k; without history the list is kept as it is; users not listed get nothing.
     */
    @Test
    void historyThenPutsTheUsersOwnPinsBeforeAnotherSourcesList(SparkSession spark) {
        Dataset<Row> rows = spark.sql("""
                SELECT * FROM VALUES
                  (1L, 10L, 'HOME_FEED', 'ENGAGEMENT', TIMESTAMP'2026-10-01 10:00:00'),
                  (1L, 31L, 'HOME_FEED', 'CONVERSION', TIMESTAMP'2026-10-02 10:00:00'),
                  (1L, 40L, 'HOME_FEED', 'NEGATIVE',   TIMESTAMP'2026-10-03 10:00:00'),
                  (2L, 30L, 'HOME_FEED', 'CONVERSION', TIMESTAMP'2026-10-01 10:00:00')
                AS t(user_id, pin_id, surface, task, event_ts)""");
        Dataset<Row> model = spark.sql("""
                SELECT user_id, surface, CAST(pin_ids AS ARRAY<BIGINT>) AS pin_ids FROM VALUES
                  (1L, 'HOME_FEED', ARRAY(50, 10, 51, 52)),
                  (1L, 'SEARCH',    ARRAY(53, 54, 55, 56)),
                  (3L, 'HOME_FEED', ARRAY(57, 58, 59, 60))
                AS t(user_id, surface, pin_ids)""");
        Map<String, List<Long>> lists = new TreeMap<>();
        for (Row r : Baselines.historyThen(Baselines.history(rows, 3), model, 3).collectAsList()) {
            lists.put(r.getLong(0) + "/" + r.getString(1), r.getList(2));
        }
        assertEquals(
                Map.of(
                        "1/HOME_FEED", List.of(31L, 10L, 50L),
                        "1/SEARCH", List.of(53L, 54L, 55L),
                        "3/HOME_FEED", List.of(57L, 58L, 59L)),
                lists,
                "history most recent first (not the hard negative 40), then the model's pins once each");
    }

    /** The suite's settings with lists of 3 (the hand-made cases), headline K 3 and curve K 1. */
    private static EvaluationSettings smallListSettings() {
        return new EvaluationSettings(
                2,
                6,
                List.of(3),
                List.of(1),
                256,
                512,
                settings.baselines(),
                settings.als(),
                0,
                settings.intervals(),
                settings.onlineAbK());
    }
}
