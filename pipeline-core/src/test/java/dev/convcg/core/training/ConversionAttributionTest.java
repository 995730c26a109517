package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
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
class ConversionAttributionTest {
    static final TrainingDataSettings S = TrainingDataSettings.defaults();

    @Test
    void duplicateReportsCollapseToTheEarliest() {
        RawRows r = new RawRows()
                .conversion("a", 1, 10, "CHECKOUT", "2026-10-01T10:00:00Z", "2026-10-02T10:00:00Z")
                .conversion("a", 1, 10, "CHECKOUT", "2026-10-01T10:00:00Z", "2026-10-03T10:00:00Z")
                .conversion("b", 1, 10, "ADD_TO_CART", "2026-10-01T09:00:00Z", "2026-10-02T12:00:00Z")
                .conversion("b-resent", 1, 10, "ADD_TO_CART", "2026-10-01T09:00:00Z", "2026-10-02T11:00:00Z")
                .conversion("c", 1, 10, "ADD_TO_CART", "2026-10-01T11:00:00Z", "2026-10-02T12:00:00Z");
        Dataset<Row> d = ConversionAttribution.deduplicate(r.tables().get(RawTables.CONVERSIONS));
        Map<String, String> reportDay = new HashMap<>();
        for (Row row : d.collectAsList()) {
            reportDay.put(row.getAs("conversion_id"), row.getAs("ds"));
        }
        assertEquals(Map.of("a", "2026-10-02", "b-resent", "2026-10-02", "c", "2026-10-02"), reportDay);
        assertEquals(List.of(r.tables().get(RawTables.CONVERSIONS).columns()), List.of(d.columns()));
    }

    @Test
    void windowsAreInclusiveAtTheirEdgesAndTheLatestTouchWins() {
        RawRows r = new RawRows()
                // c1: click exactly 7 days before -> click-through on it
                .impression("i1", 1, 10, "2026-10-01T10:00:00Z")
                .click("i1", 1, 10, "2026-10-01T10:00:05Z", 1000L)
                .conversion("c1", 1, 10, "CHECKOUT", "2026-10-08T10:00:05Z", "2026-10-08T11:00:00Z")
                // c2: click 7 days + 1 s before, impression 1 day before -> view-through
                .impression("i2a", 2, 10, "2026-10-01T10:00:00Z")
                .click("i2a", 2, 10, "2026-10-01T10:00:05Z", 1000L)
                .impression("i2b", 2, 10, "2026-10-07T10:00:06Z")
                .conversion("c2", 2, 10, "CHECKOUT", "2026-10-08T10:00:06Z", "2026-10-08T11:00:00Z")
                // c3: only an impression 1 day + 1 s before -> unattributed
                .impression("i3", 3, 10, "2026-10-07T10:00:00Z")
                .conversion("c3", 3, 10, "CHECKOUT", "2026-10-08T10:00:01Z", "2026-10-08T11:00:00Z")
                // c4: two clicks, a later impression, and a click after the conversion -> the latest click before it
                .impression("i4a", 4, 10, "2026-10-02T10:00:00Z")
                .click("i4a", 4, 10, "2026-10-02T10:00:05Z", 1000L)
                .impression("i4b", 4, 10, "2026-10-03T10:00:00Z")
                .click("i4b", 4, 10, "2026-10-03T10:00:05Z", 1000L)
                .impression("i4c", 4, 10, "2026-10-03T12:00:00Z")
                .impression("i4d", 4, 10, "2026-10-03T14:00:00Z")
                .click("i4d", 4, 10, "2026-10-03T14:00:05Z", 1000L)
                .conversion("c4", 4, 10, "ADD_TO_CART", "2026-10-03T13:00:00Z", "2026-10-04T11:00:00Z")
                // c5: a click on another pin of the same user does not count
                .impression("i5", 5, 11, "2026-10-03T10:00:00Z")
                .click("i5", 5, 11, "2026-10-03T10:00:05Z", 1000L)
                .conversion("c5", 5, 10, "ADD_TO_CART", "2026-10-03T13:00:00Z", "2026-10-04T11:00:00Z");
        Map<String, Dataset<Row>> t = r.tables();
        ConversionAttribution.Result a = ConversionAttribution.attribute(
                ConversionAttribution.deduplicate(t.get(RawTables.CONVERSIONS)),
                t.get(RawTables.IMPRESSIONS),
                t.get(RawTables.ENGAGEMENTS),
                S);
        Map<String, String> got = new HashMap<>();
        for (Row row : a.attributed()
                .select(
                        col("conversion_id"),
                        concat_ws("/", col("attribution_type"), col("impression_id")),
                        ConversionAttribution.delayHours())
                .collectAsList()) {
            got.put(row.getString(0), row.getString(1));
        }
        assertEquals(Map.of("c1", "CLICK_THROUGH/i1", "c2", "VIEW_THROUGH/i2b", "c4", "CLICK_THROUGH/i4b"), got);
        assertEquals(
                Set.of("c3", "c5"),
                new HashSet<>(a.unattributed()
                        .select("conversion_id")
                        .as(Encoders.STRING())
                        .collectAsList()));
        assertEquals(
                0,
                a.unattributed()
                        .filter(col("attribution_type")
                                .isNotNull()
                                .or(col("touch_ts").isNotNull()))
                        .count());
        assertEquals(
                168.0,
                a.attributed()
                        .filter(col("conversion_id").equalTo("c1"))
                        .select(ConversionAttribution.delayHours())
                        .first()
                        .getDouble(0),
                1e-9);
    }
}
