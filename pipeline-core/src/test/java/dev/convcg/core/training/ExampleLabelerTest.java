package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class ExampleLabelerTest {
    static final LocalDate DAY = LocalDate.parse("2026-10-03");
    static final TrainingDataSettings ALL_NEGATIVES =
            TrainingDataSettings.defaults().withHardNegatives(1.0, 1000);

    static Dataset<Row> label(RawRows r, TrainingDataSettings s) {
        Map<String, Dataset<Row>> t = r.tables();
        Dataset<Row> conversions = ConversionAttribution.deduplicate(t.get(RawTables.CONVERSIONS));
        ConversionAttribution.Result a = ConversionAttribution.attribute(
                conversions, t.get(RawTables.IMPRESSIONS), t.get(RawTables.ENGAGEMENTS), s);
        return ExampleLabeler.label(
                t.get(RawTables.IMPRESSIONS), t.get(RawTables.ENGAGEMENTS), conversions, a.attributed(), DAY, DAY, s);
    }

    @Test
    void clickWeightFollowsTheDocumentedLogShape() {
        TrainingDataSettings s = TrainingDataSettings.defaults();
        assertEquals(0.5, s.clickWeight(0L), 1e-12);
        assertEquals(0.5 + Math.log(2), s.clickWeight(30_000L), 1e-12);
        assertEquals(3.0, s.clickWeight(3_600_000L), 1e-12, "clamped at click-weight-max");
        assertEquals(1.0, s.clickWeight(null), "unknown duration is neutral");
        assertEquals(
                1.0,
                s.withClickWeightShape(TrainingDataSettings.ClickWeightShape.NONE)
                        .clickWeight(30_000L));
    }

    @Test
    void dualPositivesCarryTheirWeights() {
        RawRows r = new RawRows()
                .impression("short", 1, 10, "2026-10-03T10:00:00Z")
                .click("short", 1, 10, "2026-10-03T10:00:05Z", 0L)
                .impression("long", 1, 11, "2026-10-03T11:00:00Z")
                .click("long", 1, 11, "2026-10-03T11:00:05Z", 30_000L)
                .impression("saved", 1, 12, "2026-10-03T12:00:00Z")
                .save("saved", 1, 12, "2026-10-03T12:00:30Z")
                .conversion("cart", 1, 11, "ADD_TO_CART", "2026-10-03T15:00:00Z", "2026-10-03T16:00:00Z")
                .conversion("checkout", 1, 11, "CHECKOUT", "2026-10-03T16:00:00Z", "2026-10-03T17:00:00Z")
                .impression("seen", 2, 12, "2026-10-03T09:00:00Z")
                .conversion("vt", 2, 12, "ADD_TO_CART", "2026-10-03T13:00:00Z", "2026-10-03T17:00:00Z");
        Map<String, Row> byId = new HashMap<>();
        for (Row row : label(r, TrainingDataSettings.defaults()).collectAsList()) {
            byId.put(row.getAs("example_id"), row);
        }
        Row shortClick =
                byId.get("E:CLICK:short:" + RawRows.ts("2026-10-03T10:00:05Z").getTime() * 1000);
        Row longClick =
                byId.get("E:CLICK:long:" + RawRows.ts("2026-10-03T11:00:05Z").getTime() * 1000);
        assertEquals(0.5f, shortClick.<Float>getAs("weight"), 1e-6);
        assertEquals((float) (0.5 + Math.log(2)), longClick.<Float>getAs("weight"), 1e-6);
        assertEquals(30_000L, longClick.<Long>getAs("click_duration_ms"));
        Row cart = byId.get("C:cart"), checkout = byId.get("C:checkout"), vt = byId.get("C:vt");
        assertEquals(1.0f, cart.<Float>getAs("weight"));
        assertEquals(2.0f, checkout.<Float>getAs("weight"));
        assertEquals(
                "long",
                cart.getAs("impression_id"),
                "the clicked impression is both an engagement and a conversion positive");
        assertEquals("CLICK_THROUGH", cart.getAs("attribution_type"));
        assertEquals(RawRows.ts("2026-10-03T11:00:05Z"), cart.getAs("event_ts"), "anchored on the click");
        assertEquals("VIEW_THROUGH", vt.getAs("attribution_type"));
        assertEquals("seen", vt.getAs("impression_id"));
        assertEquals("HOME_FEED", vt.getAs("surface"));
        assertEquals(RawRows.ADVERTISER, vt.<Long>getAs("advertiser_id"));
        Row save = byId.values().stream()
                .filter(x -> "SAVE".equals(x.getAs("event_type")))
                .findFirst()
                .orElseThrow();
        assertEquals(1.0f, save.<Float>getAs("weight"));
        assertEquals(ExampleLabeler.ENGAGEMENT, save.getAs("task"));
        assertEquals(6, byId.size(), "no negatives at the default rate on 4 positive impressions: " + byId.keySet());

        Dataset<Row> flat = label(
                r, TrainingDataSettings.defaults().withClickWeightShape(TrainingDataSettings.ClickWeightShape.NONE));
        assertEquals(
                0,
                flat.filter(col("event_type").equalTo("CLICK").and(col("weight").notEqual(1.0f)))
                        .count());
    }

    @Test
    void engagedOrLaterConvertedImpressionsAreNeverNegatives() {
        RawRows r = new RawRows()
                .impression("clicked", 1, 10, "2026-10-03T10:00:00Z")
                .click("clicked", 1, 10, "2026-10-03T10:00:05Z", 5L)
                .impression("saved", 1, 11, "2026-10-03T10:00:00Z")
                .save("saved", 1, 11, "2026-10-03T10:01:00Z")
                // converted 5 days later, beyond the view-through window: unattributed, still not a negative
                .impression("converted-late", 1, 12, "2026-10-03T10:00:00Z")
                .conversion("late", 1, 12, "ADD_TO_CART", "2026-10-08T10:00:00Z", "2026-10-08T11:00:00Z")
                // converted before the impression: the impression is a fair negative
                .impression("converted-before", 1, 13, "2026-10-03T10:00:00Z")
                .conversion("before", 1, 13, "ADD_TO_CART", "2026-10-02T10:00:00Z", "2026-10-02T11:00:00Z")
                .impression("plain", 1, 14, "2026-10-03T10:00:00Z")
                .impression("other-day", 1, 15, "2026-10-04T10:00:00Z");
        Set<String> negatives = new HashSet<>(label(r, ALL_NEGATIVES)
                .filter(col("task").equalTo(ExampleLabeler.NEGATIVE))
                .select("impression_id")
                .as(Encoders.STRING())
                .collectAsList());
        assertEquals(Set.of("converted-before", "plain"), negatives);
    }

    @Test
    void negativeSamplingIsSeededRatedAndCappedPerUserDay() {
        RawRows r = new RawRows();
        for (int i = 0; i < 400; i++) {
            r.impression("u1-" + i, 1, 100 + i, "2026-10-03T10:00:00Z");
            r.impression("u2-" + i, 2, 100 + i, "2026-10-03T10:00:00Z");
        }
        r.impression("u1-next-day", 1, 5, "2026-10-04T10:00:00Z");
        TrainingDataSettings half = TrainingDataSettings.defaults().withHardNegatives(0.5, 1000);
        List<String> a = negatives(r, half);
        assertEquals(400, a.size(), 80, "about half of 800");
        assertEquals(a, negatives(r, half), "same seed, same sample");
        TrainingDataSettings otherSeed = new TrainingDataSettings(
                7,
                1,
                7,
                half.conversionWeights(),
                half.clickWeightShape(),
                0.5,
                1.0,
                30_000L,
                0.25,
                3.0,
                1.0,
                0.5,
                1000,
                20,
                28,
                0.02,
                0.001,
                100.0,
                half.priceSplits(),
                0.01,
                18L,
                null,
                null);
        assertNotEquals(a, negatives(r, otherSeed));

        TrainingDataSettings capped = TrainingDataSettings.defaults().withHardNegatives(0.5, 30);
        Map<Long, Long> perUser = new HashMap<>();
        for (Row row : label(r, capped)
                .filter(col("task").equalTo(ExampleLabeler.NEGATIVE))
                .groupBy("user_id")
                .count()
                .collectAsList()) {
            perUser.put(row.getLong(0), row.getLong(1));
        }
        assertEquals(Map.of(1L, 30L, 2L, 30L), perUser);
        List<String> cappedIds = negatives(r, capped);
        assertTrue(a.containsAll(cappedIds), "the cap keeps a subset of the rate sample (lowest hashes first)");
        assertEquals(
                0,
                negatives(r, TrainingDataSettings.defaults().withHardNegatives(1.0, 0))
                        .size());
    }

    @Test
    void sameDayRepeatsCollapseIntoOneWeightedExample() {
        RawRows r = new RawRows();
        for (int i = 0; i < 3; i++) {
            String id = "rep" + i;
            r.impression(id, 1, 10, "2026-10-03T1" + i + ":00:00Z")
                    .click(id, 1, 10, "2026-10-03T1" + i + ":00:05Z", null);
        }
        r.impression("once", 1, 11, "2026-10-03T10:00:00Z")
                .click("once", 1, 11, "2026-10-03T10:00:05Z", null)
                .impression("other-user", 2, 10, "2026-10-03T10:00:00Z")
                .click("other-user", 2, 10, "2026-10-03T10:00:05Z", null)
                .impression("saved", 1, 10, "2026-10-03T15:00:00Z")
                .save("saved", 1, 10, "2026-10-03T15:00:30Z");
        TrainingDataSettings collapse = TrainingDataSettings.defaults();
        assertEquals(TrainingDataSettings.SameDayRepeats.COLLAPSE, collapse.sameDayRepeats(), "the default");
        assertEquals(
                6,
                label(r, collapse.withSameDayRepeats(TrainingDataSettings.SameDayRepeats.KEEP))
                        .count(),
                "KEEP: every repeat is an example");

        Map<String, Row> byImpression = new HashMap<>();
        for (Row row : label(r, collapse).collectAsList()) {
            assertNull(byImpression.put(row.getAs("impression_id"), row), "one example per impression");
        }
        assertEquals(
                Set.of("rep0", "once", "other-user", "saved"),
                byImpression.keySet(),
                "the three clicks of user 1 on pin 10 keep the earliest; other users, pins and event types stay apart");
        assertEquals((float) (1 + Math.log(3)), byImpression.get("rep0").<Float>getAs("weight"), 1e-6);
        assertEquals(1.0f, byImpression.get("once").<Float>getAs("weight"), 1e-6);
        assertEquals(1.0f, byImpression.get("saved").<Float>getAs("weight"), 1e-6);
    }

    private static List<String> negatives(RawRows r, TrainingDataSettings s) {
        return label(r, s)
                .filter(col("task").equalTo(ExampleLabeler.NEGATIVE))
                .select("impression_id")
                .orderBy("impression_id")
                .as(Encoders.STRING())
                .collectAsList();
    }
}
