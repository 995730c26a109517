package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class TrainingDataBuilderTest {
    static final TrainingDataSettings ALL_NEGATIVES =
            TrainingDataSettings.defaults().withHardNegatives(1.0, 1000);

    /** User 1 sees pin 10 on Oct 3 and buys it 10 hours later; the advertiser reports it on Oct 6. */
    static RawRows lateConversion() {
        return new RawRows()
                .catalog("2026-09-20", "2026-10-07", new long[] {10, 11}, new long[] {1, 2})
                .impression("seen", 1, 10, "2026-10-03T09:00:00Z")
                .impression("other", 2, 11, "2026-10-03T09:00:00Z")
                .conversion("cv", 1, 10, "CHECKOUT", "2026-10-03T19:00:00Z", "2026-10-06T08:00:00Z");
    }

    @Test
    void aLateConversionTurnsTheEarlierNegativePositiveAndReRunsAreIdentical() {
        Map<String, Dataset<Row>> raw = lateConversion().tables();
        Dataset<Row> before = TrainingDataBuilder.build(raw, LocalDate.parse("2026-10-04"), ALL_NEGATIVES)
                .examples();
        assertEquals(Map.of("seen", "NEGATIVE", "other", "NEGATIVE"), tasks(before));

        TrainingDataBuilder.TrainingData after =
                TrainingDataBuilder.build(raw, LocalDate.parse("2026-10-06"), ALL_NEGATIVES);
        assertEquals(Map.of("seen", "CONVERSION", "other", "NEGATIVE"), tasks(after.examples()));
        Row positive =
                after.examples().filter(col("impression_id").equalTo("seen")).first();
        assertEquals("2026-10-03", positive.getAs("ds"));
        assertEquals("VIEW_THROUGH", positive.getAs("attribution_type"));
        assertEquals(2.0f, positive.<Float>getAs("weight"));
        assertEquals("ds >= '2026-09-30' AND ds <= '2026-10-06'", after.examplesReplaceWhere());

        TrainingDataBuilder.TrainingData again =
                TrainingDataBuilder.build(lateConversion().tables(), LocalDate.parse("2026-10-06"), ALL_NEGATIVES);
        assertEquals(sorted(after.examples()), sorted(again.examples()), "re-running a day gives identical rows");
        assertEquals(sorted(after.userFeatures()), sorted(again.userFeatures()));
        after.release();
        again.release();
    }

    @Test
    void featuresUseOnlyWhatWasKnownBeforeTheExampleDay() {
        TrainingDataSettings s = ALL_NEGATIVES;
        RawRows r = new RawRows()
                .catalog("2026-09-20", "2026-10-07", new long[] {10, 11, 12, 13}, new long[] {1})
                .impression("d2", 1, 10, "2026-10-02T10:00:00Z")
                .click("d2", 1, 10, "2026-10-02T10:00:05Z", 1000L)
                .impression("d3a", 1, 11, "SEARCH", "Red  Sofa sale", "2026-10-03T20:00:00Z")
                .click("d3a", 1, 11, "2026-10-03T20:00:05Z", 1000L)
                .impression("d3b", 1, 12, "2026-10-03T21:00:00Z")
                .save("d3b", 1, 12, "2026-10-03T21:00:05Z")
                .conversion("cv", 1, 13, "ADD_TO_CART", "2026-10-01T10:00:00Z", "2026-10-03T08:00:00Z")
                .impression("d4", 1, 10, "2026-10-04T07:00:00Z");
        TrainingDataBuilder.TrainingData td = TrainingDataBuilder.build(r.tables(), LocalDate.parse("2026-10-04"), s);
        Map<String, Row> byImpression = new HashMap<>();
        for (Row row : td.examples().collectAsList()) {
            byImpression.put(row.getAs("impression_id") + "/" + row.getAs("task"), row);
        }
        Row d3 = byImpression.get("d3a/ENGAGEMENT");
        assertEquals(List.of(10L), d3.getList(d3.fieldIndex("user_engaged_pins")), "only Oct 2, not its own day");
        assertEquals(
                List.of(), d3.getList(d3.fieldIndex("user_converted_pins")), "reported on Oct 3: unknown on Oct 3");
        assertEquals(1.0f, d3.<Float>getAs("user_clicks_28d"));
        assertEquals(List.of("red", "sofa", "sale"), d3.getList(d3.fieldIndex("query_tokens")));
        assertEquals(20, d3.<Integer>getAs("hour_of_day"));
        assertEquals("US", d3.getAs("user_country"));
        assertEquals("cat_001", d3.getAs("pin_category"));
        assertEquals(3, d3.<Integer>getAs("pin_price_bucket"), "25.0 falls in [20, 35)");
        assertEquals((float) (0.02 * 100 / 100), d3.<Float>getAs("pin_ctr"), 1e-7, "no history: the prior mean");

        Row d4 = byImpression.get("d4/NEGATIVE");
        assertEquals(List.of(12L, 11L, 10L), d4.getList(d4.fieldIndex("user_engaged_pins")), "most recent first");
        assertEquals(List.of(13L), d4.getList(d4.fieldIndex("user_converted_pins")));
        assertEquals(2.0f, d4.<Float>getAs("user_clicks_28d"));
        assertEquals(1.0f, d4.<Float>getAs("user_saves_28d"));
        assertEquals(1.0f, d4.<Float>getAs("user_conversions_28d"));
        assertEquals(List.of(), d4.getList(d4.fieldIndex("query_tokens")));
        assertEquals(
                (float) ((1 + 0.02 * 100) / (1 + 100)),
                d4.<Float>getAs("pin_ctr"),
                1e-7,
                "pin 10: 1 click / 1 impression on Oct 2");

        Row snapshot = td.userFeatures()
                .filter(col("ds").equalTo("2026-10-05").and(col("user_id").equalTo(1)))
                .first();
        assertEquals(
                List.of(12L, 11L, 10L),
                snapshot.getList(snapshot.fieldIndex("user_engaged_pins")),
                "the D + 1 snapshot sees the run day");
        assertEquals(
                0, td.pinFeatures().filter(col("ds").gt("2026-10-05")).count(), "snapshots end the day after the run");
        assertEquals(
                4,
                td.pinFeatures().filter(col("ds").equalTo("2026-10-05")).count(),
                "the run day's catalog serves D + 1");
    }

    /** One day of examples, every hard negative kept, histories of 3 pins. */
    private static TrainingDataSettings historyOfThree() {
        return new TrainingDataSettings(
                7,
                1,
                1,
                TrainingDataSettings.defaults().conversionWeights(),
                TrainingDataSettings.ClickWeightShape.LOG,
                0.5,
                1.0,
                30_000L,
                0.25,
                3.0,
                1.0,
                1.0,
                1000,
                3,
                28,
                0.02,
                0.001,
                100.0,
                TrainingDataSettings.defaults().priceSplits(),
                0.01,
                17L,
                null,
                null);
    }

    @Test
    void historiesKeepTheLastNEngagements() {
        TrainingDataSettings s = historyOfThree();
        RawRows r = new RawRows().catalog("2026-09-20", "2026-10-05", new long[] {1, 2, 3, 4, 5, 6}, new long[] {1});
        for (int p = 1; p <= 5; p++) {
            String t = "2026-10-0" + (p % 2 == 0 ? 2 : 1) + "T1" + p + ":00:00Z";
            r.impression("i" + p, 1, p, t).save("i" + p, 1, p, t);
        }
        r.impression("target", 1, 6, "2026-10-04T10:00:00Z");
        Row row = TrainingDataBuilder.build(r.tables(), LocalDate.parse("2026-10-04"), s)
                .examples()
                .first();
        assertEquals(List.of(4L, 2L, 5L), row.getList(row.fieldIndex("user_engaged_pins")));
    }

    /** A pin engaged with again moves to the front; it does not fill the sequence with repeats. */
    @Test
    void historiesHoldDistinctPinsMostRecentFirst() {
        TrainingDataSettings s = historyOfThree();
        RawRows r = new RawRows().catalog("2026-09-20", "2026-10-05", new long[] {1, 2, 3, 4, 5, 6}, new long[] {1});
        String[][] saves = {
            {"a", "1", "2026-10-01T10:00:00Z"},
            {"b", "2", "2026-10-01T11:00:00Z"},
            {"c", "1", "2026-10-02T09:00:00Z"},
            {"d", "1", "2026-10-02T12:00:00Z"},
            {"e", "3", "2026-10-03T08:00:00Z"},
            {"f", "3", "2026-10-03T09:00:00Z"}
        };
        for (String[] e : saves) {
            r.impression(e[0], 1, Long.parseLong(e[1]), e[2]).save(e[0], 1, Long.parseLong(e[1]), e[2]);
        }
        r.impression("target", 1, 6, "2026-10-04T10:00:00Z");
        Row row = TrainingDataBuilder.build(r.tables(), LocalDate.parse("2026-10-04"), s)
                .examples()
                .first();
        assertEquals(List.of(3L, 1L, 2L), row.getList(row.fieldIndex("user_engaged_pins")));
    }

    @Test
    void sampledPinProbabilitiesAreSharesOfEachPositiveStream() {
        RawRows r = new RawRows()
                .catalog("2026-09-20", "2026-10-05", new long[] {10, 11, 12}, new long[] {1, 2})
                .impression("a", 1, 10, "2026-10-03T10:00:00Z")
                .click("a", 1, 10, "2026-10-03T10:00:05Z", 1L)
                .impression("b", 2, 10, "2026-10-03T10:00:00Z")
                .click("b", 2, 10, "2026-10-03T10:00:05Z", 1L)
                .impression("c", 2, 11, "2026-10-03T10:00:00Z")
                .save("c", 2, 11, "2026-10-03T10:00:05Z")
                .conversion("cv", 2, 11, "ADD_TO_CART", "2026-10-03T11:00:00Z", "2026-10-03T12:00:00Z")
                .impression("n", 1, 12, "2026-10-03T10:00:00Z")
                .impression("m", 1, 11, "2026-10-03T11:00:00Z");
        Map<String, Double> q = new HashMap<>();
        for (Row row : TrainingDataBuilder.build(r.tables(), LocalDate.parse("2026-10-03"), ALL_NEGATIVES)
                .examples()
                .select(concat_ws("/", col("task"), col("pin_id")), col("pin_sampling_prob"))
                .collectAsList()) {
            q.put(row.getString(0), row.getDouble(1));
        }
        assertEquals(2.0 / 3, q.get("ENGAGEMENT/10"), 1e-12);
        assertEquals(1.0 / 3, q.get("ENGAGEMENT/11"), 1e-12);
        assertEquals(1.0, q.get("CONVERSION/11"), 1e-12);
        assertEquals(0.0, q.get("NEGATIVE/12"), "no positive on pin 12");
        assertEquals(0.5, q.get("NEGATIVE/11"), 1e-12, "2 of the 4 positives");
    }

    @Test
    void stageOnSimulatedLogsKeepsTheContract(SparkSession spark) {
        SimulationSettings sim = SimulationSettings.tiny(5);
        Map<String, Dataset<Row>> raw = new HashMap<>();
        new Simulator(spark, sim).rawTables().forEach((t, d) -> raw.put(t, d.cache()));
        LocalDate runDate = sim.day(sim.days() - 1);
        TrainingDataSettings s = TrainingDataSettings.defaults().withLookbackDays(3);
        TrainingDataBuilder.TrainingData td = TrainingDataBuilder.build(raw, runDate, s);
        Dataset<Row> examples = td.examples().cache();

        assertEquals(columns(TrainingDataSchemas.TRAINING_EXAMPLES), columns(examples.schema()));
        assertEquals(
                columns(TrainingDataSchemas.USER_FEATURES),
                columns(td.userFeatures().schema()));
        assertEquals(
                columns(TrainingDataSchemas.PIN_FEATURES),
                columns(td.pinFeatures().schema()));

        assertEquals(examples.count(), examples.select("example_id").distinct().count(), "example ids are unique");
        assertEquals(
                List.of("2026-10-03", "2026-10-04", "2026-10-05"),
                examples.select("ds")
                        .distinct()
                        .orderBy("ds")
                        .as(Encoders.STRING())
                        .collectAsList());
        assertEquals(
                0,
                examples.filter(col("task")
                                .notEqual("NEGATIVE")
                                .and(col("pin_sampling_prob").leq(0)))
                        .count());
        Dataset<Row> engaged = td.validation()
                .accepted()
                .get(RawTables.ENGAGEMENTS)
                .select("impression_id")
                .distinct();
        assertEquals(
                0,
                examples.filter(col("task").equalTo("NEGATIVE"))
                        .join(engaged, "impression_id")
                        .count());
        for (String task : List.of("CONVERSION", "ENGAGEMENT", "NEGATIVE")) {
            assertTrue(examples.filter(col("task").equalTo(task)).count() > 0, task);
        }

        DataQualitySummary summary = DataQualitySummary.of(td);
        for (String t : RawTables.ALL) {
            assertEquals(raw.get(t).count(), summary.inputRows().get(t), t);
        }
        assertTrue(summary.attributedConversions().get("CLICK_THROUGH") > 0);
        assertTrue(summary.unattributedConversions() > 0);
        assertTrue(summary.duplicateReportsCollapsed() > 0);
        String json = summary.toJson();
        for (String key : List.of(
                "\"input_rows\"",
                "\"rejects\"",
                "\"examples\"",
                "\"positive_rates\"",
                "\"attribution_delay_hours\"",
                "\"unattributed_conversions\"",
                "\"UNKNOWN_PIN\"")) {
            assertTrue(json.contains(key), key + " in " + json);
        }
        summary.requireQuarantineShareAtMost(0.05);
        assertThrows(QuarantineThresholdExceededException.class, () -> summary.requireQuarantineShareAtMost(0.001));
        examples.unpersist();
        td.release();
        raw.values().forEach(Dataset::unpersist);
    }

    /** Names and types, ignoring nullability (Spark infers it). */
    private static List<String> columns(StructType schema) {
        return Arrays.stream(schema.fields())
                .map(f -> f.name() + " " + f.dataType().simpleString())
                .toList();
    }

    private static List<String> sorted(Dataset<Row> d) {
        return d.collectAsList().stream().map(Row::toString).sorted().toList();
    }

    private static Map<String, String> tasks(Dataset<Row> examples) {
        Map<String, String> m = new HashMap<>();
        for (Row row : examples.select("impression_id", "task").collectAsList()) {
            assertNull(m.put(row.getString(0), row.getString(1)), "one example per impression here");
        }
        return m;
    }
}
