package dev.convcg.core.sim;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.Bootstrap;
import dev.convcg.core.eval.TopKRetrieval;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;

@ExtendWith(SparkTest.class)
class OnlineReplayTest {
    static final SimulationSettings S =
            new SimulationSettings(5, LocalDate.of(2026, 10, 1), 8, 500, 600, 30, 10, 8, 14.0, 0.8, 0.6, 0.0, 0.01, 2);
    static final int K = 40;
    static Dataset<Row> impressions, candidates, outcomes;

    @BeforeAll
    static void replay() {
        SparkSession spark = SparkTest.session();
        Simulator sim = new Simulator(spark, S);
        impressions = sim.table(RawTables.IMPRESSIONS)
                .filter(col(RawTables.DS).geq("2026-10-06"))
                .cache();
        Baselines.Embeddings truth = Baselines.oracle(sim.truthUsers(), sim.truthPins());
        Dataset<Row> oracle =
                TopKRetrieval.topK(truth.users(), truth.pins(), K, 64, 256).select("user_id", "pin_ids");
        candidates = oracle.withColumn("arm", lit("oracle"))
                .unionByName(oracle.withColumn("arm", lit("oracle_copy")))
                .unionByName(random(spark).withColumn("arm", lit("random")))
                .select("arm", "user_id", "pin_ids");
        outcomes = OnlineReplay.replay(S, impressions, candidates, List.of("oracle", "oracle_copy", "random", "none"))
                .cache();
    }

    /** Each user's K distinct pins drawn uniformly from the catalog, from a fixed stream. */
    static Dataset<Row> random(SparkSession spark) {
        List<Row> rows = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(99);
        for (int u = 0; u < S.users(); u++) {
            Long[] pins = r.ints(0, S.pins())
                    .distinct()
                    .limit(K)
                    .mapToObj(p -> World.PIN_ID_BASE + p)
                    .toArray(Long[]::new);
            rows.add(RowFactory.create(World.USER_ID_BASE + u, pins));
        }
        StructType schema = new StructType()
                .add("user_id", DataTypes.LongType, false)
                .add("pin_ids", DataTypes.createArrayType(DataTypes.LongType, false), false);
        return spark.createDataFrame(rows, schema);
    }

    @Test
    void identicalCandidatesGiveIdenticalOutcomes() {
        Dataset<Row> a = outcomes.filter(col("arm").equalTo("oracle")).drop("arm");
        Dataset<Row> b = outcomes.filter(col("arm").equalTo("oracle_copy")).drop("arm");
        assertTrue(a.agg(sum("add_to_carts")).first().getLong(0) > 0, "the oracle arm converts");
        assertEquals(a.count(), b.count());
        assertEquals(0, a.exceptAll(b).count(), "two arms with the same candidates must see the same outcomes");
    }

    @Test
    void everyArmReplaysTheSameLoggedRequests() {
        long users = impressions
                .filter(col("user_id").isNotNull())
                .select("user_id")
                .distinct()
                .count();
        long requests = impressions
                .filter(col("user_id")
                        .isNotNull()
                        .and(col("pin_id").lt(World.PIN_ID_BASE + S.pins()))
                        .and(col("surface").isin("HOME_FEED", "RELATED_PINS", "SEARCH")))
                .select("request_id")
                .distinct()
                .count();
        for (String arm : List.of("oracle", "random", "none")) {
            Dataset<Row> rows = outcomes.filter(col("arm").equalTo(arm));
            assertEquals(users, rows.count(), arm + ": one row per user with a logged request");
            assertEquals(requests, rows.agg(sum("requests")).first().getLong(0), arm);
        }
        Row none = outcomes.filter(col("arm").equalTo("none"))
                .agg(sum("impressions"), sum("clicks"))
                .first();
        assertEquals(0L, none.getLong(0), "an arm without candidates shows nothing");
        long logged = impressions
                .filter(col("user_id")
                        .isNotNull()
                        .and(col("pin_id").lt(World.PIN_ID_BASE + S.pins()))
                        .and(col("surface").isin("HOME_FEED", "RELATED_PINS", "SEARCH")))
                .count();
        long shown = outcomes.filter(col("arm").equalTo("random"))
                .agg(sum("impressions"))
                .first()
                .getLong(0);
        assertEquals(logged, shown, "K candidates fill every logged slot");
    }

    @Test
    void theOracleConvertsMoreThanRandomCandidates() {
        List<OnlineReplay.ArmResult> table = OnlineReplay.summarize(
                outcomes.collectAsList(), List.of("random", "oracle"), "random", new Bootstrap.Settings(200, 0.95, 3));
        OnlineReplay.ArmResult random = table.get(0), oracle = table.get(1);
        OnlineReplay.Figure perImpression = oracle.rates().get("conversions_per_1000");
        assertTrue(
                perImpression.value()
                        > random.rates().get("conversions_per_1000").value(),
                oracle.rates() + " vs " + random.rates());
        assertTrue(perImpression.liftInterval().low() > 0, "oracle's lift " + perImpression);
        assertEquals(1000.0 * oracle.conversions() / oracle.impressions(), perImpression.value(), 1e-9);
        assertTrue(perImpression.interval().contains(perImpression.value()));
        assertTrue(Double.isNaN(random.rates().get("ctr").lift()), "the reference has no lift over itself");
        assertTrue(oracle.advertisersConverted() > 0);
    }

    @Test
    void summaryAddsUpHandMadeOutcomes() {
        List<Row> rows = List.of(
                outcome(1, "a", 2, 10, 3, 1, 2, 1, 50.0, 10_001L),
                outcome(2, "a", 1, 10, 1, 0, 0, 0, 0.0),
                outcome(1, "b", 2, 10, 2, 0, 1, 0, 0.0, 10_002L),
                outcome(2, "b", 1, 10, 1, 1, 1, 1, 20.0, 10_001L));
        List<OnlineReplay.ArmResult> t = OnlineReplay.summarize(rows, List.of("a", "b"), "a", Bootstrap.Settings.NONE);
        OnlineReplay.ArmResult a = t.get(0), b = t.get(1);
        assertEquals(3, a.conversions());
        assertEquals(150.0, a.rates().get("conversions_per_1000").value(), 1e-9);
        assertEquals(2500.0, a.rates().get("conversion_value_per_1000").value(), 1e-9);
        assertEquals(0.2, a.rates().get("ctr").value(), 1e-9);
        assertEquals(1000.0, a.rates().get("conversions_per_1000_requests").value(), 1e-9);
        assertEquals(1, a.advertisersConverted());
        assertEquals(2, b.advertisersConverted());
        assertEquals(0.0, b.rates().get("conversions_per_1000").lift(), 1e-9, "3 conversions each on 20 impressions");
        assertNull(b.rates().get("ctr").liftInterval(), "no replicates, no interval");
    }

    private static Row outcome(
            long user,
            String arm,
            long requests,
            long impressions,
            long clicks,
            long longClicks,
            long carts,
            long checkouts,
            double value,
            Long... advertisers) {
        return new GenericRowWithSchema(
                new Object[] {
                    user,
                    arm,
                    requests,
                    impressions,
                    clicks,
                    longClicks,
                    carts,
                    checkouts,
                    value,
                    CollectionConverters.asScala(List.of(advertisers)).toSeq()
                },
                OnlineReplay.OUTCOME_SCHEMA);
    }
}
