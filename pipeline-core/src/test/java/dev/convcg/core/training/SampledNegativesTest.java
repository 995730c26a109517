package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.TrainingDataSettings.NegativeSampling;
import dev.convcg.core.training.TrainingDataSettings.SampledNegativeSettings;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sampled negatives on one day: a catalog of 10 pins, 3,000 positives of which 2,000 are on pin 1 and 100 on each of
 * pins 2..11 (pin 11 is not in the catalog), 4 negatives per positive.
 */
@ExtendWith(SparkTest.class)
class SampledNegativesTest {
    static final LocalDate DAY = LocalDate.of(2026, 10, 5);
    static Dataset<Row> labelled;
    static Dataset<Row> pins;

    @BeforeAll
    static void data() {
        SparkSession spark = SparkTest.session();
        labelled = spark.range(3000)
                .select(
                        lit(DAY.toString()).as("ds"),
                        concat(lit("E:"), col("id").cast("string")).as("example_id"),
                        concat(lit("imp"), col("id").cast("string")).as("impression_id"),
                        col("id").mod(50).as("user_id"),
                        when(col("id").lt(2000), lit(1L))
                                .otherwise(col("id").mod(10).plus(2))
                                .as("pin_id"),
                        lit(7L).as("advertiser_id"),
                        lit("HOME_FEED").as("surface"),
                        lit(null).cast("string").as("query"),
                        lit(ExampleLabeler.ENGAGEMENT).as("task"),
                        lit("CLICK").as("event_type"),
                        lit(1.0f).as("weight"),
                        lit(null).cast("string").as("attribution_type"),
                        lit(null).cast("long").as("click_duration_ms"),
                        to_timestamp(lit(DAY + " 10:00:00")).as("event_ts"),
                        lit(0.1).as("pin_sampling_prob"));
        pins = spark.range(1, 11)
                .select(
                        col("id").as("pin_id"),
                        col("id").multiply(100).as("advertiser_id"),
                        lit(DAY.toString()).as("ds"));
    }

    static Dataset<Row> sample(NegativeSampling d) {
        TrainingDataSettings s =
                TrainingDataSettings.defaults().withSampledNegatives(new SampledNegativeSettings(d, 4));
        return SampledNegatives.sample(labelled, pins, DAY, DAY, s).cache();
    }

    @Test
    void negativesAreNeverTheirPositivesPinAndComeFromTheCatalog() {
        Dataset<Row> neg = sample(NegativeSampling.UNIFORM);
        assertEquals(List.of(labelled.columns()), List.of(neg.columns()));
        Dataset<Row> pairs = neg.withColumn("_source", regexp_replace(col("example_id"), "^S:[0-9]+:", ""))
                .join(
                        labelled.select(
                                col("example_id").as("_source"), col("pin_id").as("_own")),
                        "_source");
        assertEquals(neg.count(), pairs.count(), "every negative traces back to its positive");
        assertEquals(0, pairs.filter(col("pin_id").equalTo(col("_own"))).count(), "never the example's own pin");
        assertEquals(0, neg.filter(not(col("pin_id").between(1, 10))).count(), "only catalog pins");
        assertEquals(
                0,
                neg.filter(col("advertiser_id").notEqual(col("pin_id").multiply(100)))
                        .count(),
                "the drawn pin's advertiser");
        assertTrue(neg.count() >= 3000 * 4 - 5, "4 per positive (a redraw almost never runs out)");
        assertEquals(
                neg.count(),
                neg.filter(col("task")
                                .equalTo(ExampleLabeler.NEGATIVE)
                                .and(col("event_type").equalTo(ExampleLabeler.SAMPLED)))
                        .count());
        assertEquals(
                neg.orderBy("example_id").collectAsList(),
                sample(NegativeSampling.UNIFORM).orderBy("example_id").collectAsList(),
                "a rerun draws the same pins");
    }

    /**
     * Uniform: each pin 1/10. Popularity: pin 1 has weight 2001, pins 2..10 weight 101, so pin 1 has 2001/2910. Draws
     * that hit their own pin are redrawn, which moves mass away from pin 1 (the own pin of 2/3 of the positives), so
     * the frequencies are checked on the positives of pin 11 (outside the catalog: no redraw), against a chi-square
     * bound, and every row's pin_sampling_prob is the configured probability exactly.
     */
    @Test
    void drawsFollowTheConfiguredDistribution() {
        for (NegativeSampling d : new NegativeSampling[] {NegativeSampling.UNIFORM, NegativeSampling.POPULARITY}) {
            Dataset<Row> neg = sample(d);
            Map<Long, Double> expected = new HashMap<>();
            for (long p = 1; p <= 10; p++) {
                expected.put(p, d == NegativeSampling.UNIFORM ? 0.1 : (p == 1 ? 2001.0 : 101.0) / 2910.0);
            }
            for (Row r : neg.select("pin_id", "pin_sampling_prob").distinct().collectAsList()) {
                assertEquals(expected.get(r.getLong(0)), r.getDouble(1), 1e-12, d + " probability of pin " + r.get(0));
            }
            Dataset<Row> free = neg.join(
                    labelled.filter(col("pin_id").equalTo(11L))
                            .select(
                                    concat(lit("S:"), lit(""), col("example_id"))
                                            .as("_unused"),
                                    col("example_id").as("_source")),
                    regexp_replace(col("example_id"), "^S:[0-9]+:", "").equalTo(col("_source")));
            long n = free.count();
            assertEquals(100 * 4, n, "positives on pin 11 never redraw");
            double chi2 = 0;
            for (Row r : free.groupBy("pin_id").count().collectAsList()) {
                double e = n * expected.get(r.getLong(0));
                chi2 += Math.pow(r.getLong(1) - e, 2) / e;
            }
            assertTrue(chi2 < 27.9, d + ": chi-square " + chi2 + " over 9 degrees of freedom (p = 0.001 bound 27.9)");
        }
    }
}
