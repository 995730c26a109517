package dev.convcg.core.sim;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import java.sql.Timestamp;
import java.time.LocalDate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class SimulatorTest {
    static final SimulationSettings S = new SimulationSettings(
            7, LocalDate.of(2026, 10, 1), 10, 600, 800, 30, 10, 8, 14.0, 0.8, 0.6, 0.04, 0.01, 2);
    static Dataset<Row> impressions, engagements, conversions;

    @BeforeAll
    static void generate() {
        Simulator sim = new Simulator(SparkTest.session(), S);
        impressions = sim.table(RawTables.IMPRESSIONS).cache();
        engagements = sim.table(RawTables.ENGAGEMENTS).cache();
        conversions = sim.table(RawTables.CONVERSIONS).cache();
    }

    static Column cleanImpression() {
        return col("user_id")
                .isNotNull()
                .and(col("surface").isin("HOME_FEED", "RELATED_PINS", "SEARCH"))
                .and(col("pin_id").lt(World.PIN_ID_BASE + S.pins()));
    }

    static Column cleanEngagement() {
        return col("user_id")
                .isNotNull()
                .and(col("type").isin("CLICK", "SAVE"))
                .and(col("pin_id").lt(World.PIN_ID_BASE + S.pins()))
                .and(col("click_duration_ms")
                        .isNull()
                        .or(col("click_duration_ms").geq(0)));
    }

    static Column cleanConversion() {
        return col("user_id")
                .isNotNull()
                .and(col("type").isin("ADD_TO_CART", "CHECKOUT"))
                .and(col("pin_id").lt(World.PIN_ID_BASE + S.pins()))
                .and(col("reported_ts").geq(col("event_ts")));
    }

    @Test
    void sameSeedGivesSameTablesWhateverThePartitioning(SparkSession spark) {
        SimulationSettings repartitioned = new SimulationSettings(
                S.seed(),
                S.startDate(),
                S.days(),
                S.users(),
                S.pins(),
                S.advertisers(),
                S.categories(),
                S.topicDim(),
                S.impressionsPerUserDay(),
                S.activeUserRate(),
                S.intentCorrelation(),
                S.duplicateReportRate(),
                S.malformedRate(),
                5);
        for (String table : RawTables.ALL) {
            Dataset<Row> a = new Simulator(spark, S).table(table);
            Dataset<Row> b = new Simulator(spark, repartitioned).table(table);
            assertEquals(a.count(), b.count(), table);
            assertEquals(0, a.exceptAll(b).count(), table + " differs under another partitioning");
        }
        Dataset<Row> otherSeed = new Simulator(spark, SimulationSettings.tiny(8)).table(RawTables.IMPRESSIONS);
        Dataset<Row> tinySeed = new Simulator(spark, SimulationSettings.tiny(7)).table(RawTables.IMPRESSIONS);
        assertTrue(otherSeed.exceptAll(tinySeed).count() > 0, "another seed must give other data");
    }

    @Test
    void volumesFollowTheSettings() {
        long n = impressions.count();
        double expected = S.users() * S.days() * S.activeUserRate() * S.impressionsPerUserDay();
        assertEquals(expected, n, 0.12 * expected, "impressions");
        assertEquals(n, impressions.select("impression_id").distinct().count(), "impression ids are unique");
        assertEquals(S.days(), impressions.select("ds").distinct().count(), "one partition per day");
        Dataset<Row> clean = impressions.filter(cleanImpression());
        long surfaces = clean.select("surface").distinct().count();
        assertEquals(3, surfaces);
        assertEquals(
                0,
                clean.filter(col("surface").equalTo("SEARCH").and(col("query").isNull()))
                        .count(),
                "search carries a query");
        assertEquals(
                0,
                clean.filter(col("surface").notEqual("SEARCH").and(col("query").isNotNull()))
                        .count());
    }

    @Test
    void everyCleanEngagementRefersToAnImpressionOfTheSameUserAndPin() {
        Dataset<Row> clean = engagements.filter(cleanEngagement());
        Dataset<Row> imps = impressions.select(
                col("impression_id"), col("user_id").as("iu"), col("pin_id").as("ip"));
        long orphans = clean.join(imps, clean.col("impression_id").equalTo(imps.col("impression_id")), "left_anti")
                .count();
        assertEquals(0, orphans);
        long mismatched = clean.join(imps, "impression_id")
                .filter(col("iu").isNotNull().and(col("iu").notEqual(col("user_id"))))
                .count();
        assertEquals(0, mismatched);
        long clicks = clean.filter(col("type").equalTo("CLICK")).count();
        double ctr = (double) clicks / impressions.count();
        assertTrue(ctr > 0.02 && ctr < 0.25, "click-through rate " + ctr);
        assertEquals(
                0,
                clean.filter(col("type")
                                .equalTo("SAVE")
                                .and(col("click_duration_ms").isNotNull()))
                        .count());
    }

    @Test
    void conversionsArriveLateAndSometimesTwice() {
        Dataset<Row> clean = conversions.filter(cleanConversion());
        long n = clean.count();
        assertTrue(n > 300, "too few conversions to test: " + n);
        Row lag = clean.select(
                        min(col("reported_ts")
                                        .cast("double")
                                        .minus(col("event_ts").cast("double")))
                                .as("lo"),
                        max(col("reported_ts")
                                        .cast("double")
                                        .minus(col("event_ts").cast("double")))
                                .as("hi"))
                .first();
        assertTrue(lag.getDouble(0) >= 0);
        assertTrue(lag.getDouble(1) <= 4 * 86400, "reporting lag within 3 days (+1 for re-sent duplicates)");
        assertEquals(
                0,
                clean.filter(col("ds").notEqual(date_format(col("reported_ts"), "yyyy-MM-dd")))
                        .count(),
                "conversions are partitioned by report day");
        assertEquals(
                0,
                conversions
                        .filter(col("reported_ts")
                                .geq(lit(Timestamp.valueOf("2026-10-11 00:00:00")))
                                .and(col("reported_ts").geq(col("event_ts"))))
                        .count(),
                "nothing reported after the horizon");
        long resent = clean.groupBy("conversion_id")
                .count()
                .filter(col("count").gt(1))
                .count();
        double dupShare = (double) resent / n;
        assertTrue(dupShare > 0.005 && dupShare < 0.05, "re-sent share " + dupShare);
    }

    @Test
    void conversionDelaysRunFromHoursToBeyondAWeek() {
        Dataset<Row> clicks = engagements
                .filter(cleanEngagement().and(col("type").equalTo("CLICK")))
                .groupBy("user_id", "pin_id")
                .agg(min("ts").as("click_ts"));
        Dataset<Row> carts = conversions
                .filter(cleanConversion().and(col("type").equalTo("ADD_TO_CART")))
                .dropDuplicates("conversion_id");
        Dataset<Row> delays = carts.join(clicks, new String[] {"user_id", "pin_id"})
                .filter(col("event_ts").geq(col("click_ts")))
                .select(col("event_ts")
                        .cast("double")
                        .minus(col("click_ts").cast("double"))
                        .divide(3600)
                        .as("hours"));
        long n = delays.count();
        assertTrue(n > 200, "clicked-then-converted pairs: " + n);
        double median = delays.stat().approxQuantile("hours", new double[] {0.5}, 0.001)[0];
        double beyondWeek = (double) delays.filter(col("hours").gt(168)).count() / n;
        assertTrue(median > 1 && median < 12, "median delay hours " + median);
        assertTrue(beyondWeek > 0.002 && beyondWeek < 0.08, "share beyond 7 days " + beyondWeek);
        long organic = carts.join(
                        impressions.select("user_id", "pin_id").distinct(),
                        new String[] {"user_id", "pin_id"},
                        "left_anti")
                .count();
        assertTrue(organic > 0, "some conversions have no prior impression");
    }

    @Test
    void malformedRowsAppearAtTheConfiguredRate() {
        double[] rates = {
            1 - (double) impressions.filter(cleanImpression()).count() / impressions.count(),
            1 - (double) engagements.filter(cleanEngagement()).count() / engagements.count(),
            1 - (double) conversions.filter(cleanConversion()).count() / conversions.count()
        };
        assertEquals(S.malformedRate(), rates[0], 0.004, "impressions");
        assertEquals(S.malformedRate(), rates[1], 0.008, "engagements");
        assertEquals(S.malformedRate(), rates[2], 0.012, "conversions");
        SimulationSettings clean = new SimulationSettings(
                S.seed(),
                S.startDate(),
                S.days(),
                S.users(),
                S.pins(),
                S.advertisers(),
                S.categories(),
                S.topicDim(),
                S.impressionsPerUserDay(),
                S.activeUserRate(),
                S.intentCorrelation(),
                S.duplicateReportRate(),
                0.0,
                S.partitions());
        Dataset<Row> cleanImps = new Simulator(SparkTest.session(), clean).table(RawTables.IMPRESSIONS);
        assertEquals(impressions.count(), cleanImps.count(), "corruption never changes how many rows are generated");
        assertEquals(cleanImps.count(), cleanImps.filter(cleanImpression()).count());
    }

    @Test
    void clickbaitRaisesClicksButNotPurchasesAndLongClicksSignalIntent(SparkSession spark) {
        Dataset<Row> truth = new Simulator(spark, S).truthPins().select("pin_id", "clickbait");
        Dataset<Row> clicks = engagements
                .filter(cleanEngagement().and(col("type").equalTo("CLICK")))
                .dropDuplicates("impression_id");
        Dataset<Row> carts = conversions
                .filter(cleanConversion().and(col("type").equalTo("ADD_TO_CART")))
                .dropDuplicates("conversion_id")
                .join(truth, "pin_id");
        Dataset<Row> imps = impressions
                .filter(cleanImpression())
                .join(truth, "pin_id")
                .withColumn("bait", col("clickbait").gt(0.3));
        Dataset<Row> baitClicks =
                clicks.join(truth, "pin_id").withColumn("bait", col("clickbait").gt(0.3));
        double[] ctr = ratio(baitClicks, imps);
        assertTrue(ctr[0] > 1.3 * ctr[1], "clickbait CTR " + ctr[0] + " vs " + ctr[1]);
        double[] cvr = ratio(carts.withColumn("bait", col("clickbait").gt(0.3)), baitClicks);
        assertTrue(cvr[0] < cvr[1], "clickbait does not raise conversions per click: " + cvr[0] + " vs " + cvr[1]);

        Dataset<Row> converted = conversions
                .filter(cleanConversion())
                .select("user_id", "pin_id")
                .distinct()
                .withColumn("converted", lit(1));
        Row byDuration = clicks.join(converted, new String[] {"user_id", "pin_id"}, "left")
                .na()
                .fill(0, new String[] {"converted"})
                .agg(
                        avg(when(col("click_duration_ms").gt(15_000), col("converted"))),
                        avg(when(col("click_duration_ms").lt(4_000), col("converted"))))
                .first();
        assertTrue(byDuration.getDouble(0) > 1.5 * byDuration.getDouble(1), "long clicks convert more " + byDuration);
    }

    /** Rows of {@code num} over rows of {@code den}, for bait pins and for the others. */
    private static double[] ratio(Dataset<Row> num, Dataset<Row> den) {
        double bait = (double) num.filter(col("bait")).count()
                / den.filter(col("bait")).count();
        double other = (double) num.filter(not(col("bait"))).count()
                / den.filter(not(col("bait"))).count();
        return new double[] {bait, other};
    }

    /**
     * The calibrated behaviour (reference.conf's simulate defaults) gives conversion reports per click between the two real
     * logs' ratios (Tmall 0.041, Taobao 0.082; docs/simulator.md), a quarter of the dense world's, and return
     * visits: more clicked pins are clicked again on a later day.
     */
    @Test
    void theCalibratedWorldsConversionsPerClickFallInTheMeasuredRange(SparkSession spark) {
        SimulationSettings.Behaviour calibrated = new SimulationSettings.Behaviour(-1.6, 0.9, 0.12, 0.04, 3.0);
        SimulationSettings c = new SimulationSettings(
                S.seed(),
                S.startDate(),
                S.days(),
                S.users(),
                S.pins(),
                S.advertisers(),
                S.categories(),
                S.topicDim(),
                S.impressionsPerUserDay(),
                S.activeUserRate(),
                S.intentCorrelation(),
                S.duplicateReportRate(),
                0.0,
                S.partitions(),
                calibrated);
        Simulator sim = new Simulator(spark, c);
        Dataset<Row> clicks =
                sim.table(RawTables.ENGAGEMENTS).filter(col("type").equalTo("CLICK"));
        double perClick = sim.table(RawTables.CONVERSIONS).count() / (double) clicks.count();
        double densePerClick = conversions.count()
                / (double) engagements.filter(col("type").equalTo("CLICK")).count();
        assertTrue(perClick >= 0.04 && perClick <= 0.09, "conversion reports per click " + perClick);
        assertTrue(densePerClick > 0.2, "the dense world: " + densePerClick);
        double repeats = repeatShare(clicks),
                denseRepeats = repeatShare(engagements.filter(col("type").equalTo("CLICK")));
        assertTrue(
                repeats > 1.2 * denseRepeats,
                "return visits: clicked pins clicked again on a later day, " + repeats + " against " + denseRepeats);
    }

    /** Share of clicked (user, pin) pairs clicked on two or more days. */
    private static double repeatShare(Dataset<Row> clicks) {
        Dataset<Row> pairs = clicks.filter(col("user_id").isNotNull())
                .groupBy("user_id", "pin_id")
                .agg(countDistinct("ds").as("days"));
        return pairs.filter(col("days").geq(2)).count() / (double) pairs.count();
    }
}
