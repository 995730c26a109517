package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.testing.SparkTest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class RawValidationTest {
    static final String T = "2026-10-02T10:00:00Z";

    @Test
    void everyRuleHasItsReasonCode() {
        RawRows r = new RawRows().catalog("2026-10-02", "2026-10-02", new long[] {1}, new long[] {7});
        r.impression("ok", 7, 1, T)
                .impression("no-user", 7, 1, T)
                .impression("bad-surface", 7, 1, "TOP_STORIES", null, T)
                .impression("null-surface", 7, 1, null, null, T)
                .impression("unknown-pin", 7, 999, T)
                .impression("wrong-day", 7, 1, T);
        r.impressions.set(
                1, RowFactory.create("no-user", "q", null, 1L, 1L, "HOME_FEED", null, RawRows.ts(T), 0, "2026-10-02"));
        r.impressions.set(
                5, RowFactory.create("wrong-day", "q", 7L, 1L, 1L, "HOME_FEED", null, RawRows.ts(T), 0, "2026-10-01"));
        r.click("ok", 7, 1, T, 5_000L).click("neg", 7, 1, T, -1L).click("unknown-pin", 7, 999, T, 1L);
        r.engagements.add(RowFactory.create("like", 7L, 1L, "LIKE", RawRows.ts(T), null, "2026-10-02"));
        r.engagements.add(RowFactory.create("zero", 7L, 1L, "CLICK", RawRows.ts(T), 0L, "2026-10-02"));
        r.conversion("ok", 7, 1, "CHECKOUT", T, T)
                .conversion("early", 7, 1, "CHECKOUT", T, "2026-10-02T09:00:00Z")
                .conversion("purchase", 7, 1, "PURCHASE", T, T)
                .conversion("unknown-pin", 7, 999, "ADD_TO_CART", T, T);
        r.conversions.add(
                RowFactory.create(null, 7L, 1L, 1L, "CHECKOUT", RawRows.ts(T), RawRows.ts(T), null, "2026-10-02"));

        RawValidation.Result v = RawValidation.validate(r.tables(), "2026-10-02");
        assertEquals(
                Map.of(
                        "ok",
                        "OK",
                        "no-user",
                        "MISSING_USER_ID",
                        "bad-surface",
                        "UNKNOWN_SURFACE",
                        "null-surface",
                        "UNKNOWN_SURFACE",
                        "unknown-pin",
                        "UNKNOWN_PIN",
                        "wrong-day",
                        "TIMESTAMP_OUTSIDE_PARTITION"),
                reasons(v, RawTables.IMPRESSIONS, "impression_id"));
        assertEquals(
                Map.of(
                        "ok",
                        "OK",
                        "neg",
                        "NEGATIVE_DURATION",
                        "unknown-pin",
                        "UNKNOWN_PIN",
                        "like",
                        "UNKNOWN_ENGAGEMENT_TYPE",
                        "zero",
                        "OK"),
                reasons(v, RawTables.ENGAGEMENTS, "impression_id"));
        assertEquals(
                Map.of(
                        "ok",
                        "OK",
                        "early",
                        "REPORTED_BEFORE_EVENT",
                        "purchase",
                        "UNKNOWN_CONVERSION_TYPE",
                        "unknown-pin",
                        "UNKNOWN_PIN",
                        "null",
                        "MISSING_ID"),
                reasons(v, RawTables.CONVERSIONS, "conversion_id"));

        Row q = v.quarantine()
                .filter(col("reason").equalTo("NEGATIVE_DURATION"))
                .first();
        assertEquals(RawTables.ENGAGEMENTS, q.getAs("source_table"));
        assertEquals("build-training-data", q.getAs("stage"));
        assertEquals("2026-10-02", q.getAs("run_ds"));
        assertTrue(q.<String>getAs("row_json").contains("\"click_duration_ms\":-1"), q.<String>getAs("row_json"));
        assertFalse(q.<String>getAs("row_json").contains("_reason"));
    }

    @Test
    void conservationHoldsPerTableOnSimulatedLogs(SparkSession spark) {
        Map<String, Dataset<Row>> raw = new HashMap<>();
        new Simulator(spark, SimulationSettings.tiny(3)).rawTables().forEach((t, d) -> raw.put(t, d.cache()));
        RawValidation.Result v = RawValidation.validate(raw, "2026-10-05");
        Map<String, Long> quarantined = new HashMap<>();
        for (Row row : v.quarantine().groupBy("source_table").count().collectAsList()) {
            quarantined.put(row.getString(0), row.getLong(1));
        }
        for (String t : RawTables.ALL) {
            long in = raw.get(t).count();
            long accepted = v.accepted().get(t).count();
            assertEquals(in, accepted + quarantined.getOrDefault(t, 0L), t + ": rows in = accepted + quarantined");
            assertEquals(
                    List.of(raw.get(t).columns()), List.of(v.accepted().get(t).columns()), t);
        }
        assertTrue(quarantined.get(RawTables.IMPRESSIONS) > 0 && quarantined.get(RawTables.CONVERSIONS) > 0);
    }

    @Test
    void thresholdFailureNamesTableShareAndReasons() {
        DataQualitySummary s = new DataQualitySummary(
                "2026-10-07",
                "2026-10-01",
                "2026-10-07",
                Map.of("impressions", 1000L, "engagements", 100L),
                Map.of("impressions", Map.of("UNKNOWN_SURFACE", 20L), "engagements", Map.of("NEGATIVE_DURATION", 1L)),
                Map.of(),
                Map.of(),
                0,
                Map.of(),
                0,
                Map.of(),
                Map.of());
        QuarantineThresholdExceededException e =
                assertThrows(QuarantineThresholdExceededException.class, () -> s.requireQuarantineShareAtMost(0.01));
        assertTrue(e.getMessage().contains("impressions: 2.000% of 1000 rows"), e.getMessage());
        assertTrue(e.getMessage().contains("UNKNOWN_SURFACE=20"), e.getMessage());
        assertFalse(e.getMessage().contains("engagements:"), "1% is not above 1%: " + e.getMessage());
        assertTrue(e.getMessage().contains("quarantine-threshold = 1.000%"), e.getMessage());
        s.requireQuarantineShareAtMost(0.05);
    }

    private static Map<String, String> reasons(RawValidation.Result v, String table, String idColumn) {
        Map<String, String> m = new HashMap<>();
        for (Row row : v.tagged()
                .get(table)
                .select(coalesce(col(idColumn), lit("null")), coalesce(col("_reason"), lit("OK")))
                .collectAsList()) {
            m.put(row.getString(0), row.getString(1));
        }
        return m;
    }
}
