package dev.convcg.core.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.ingest.ImportSettings.Columns;
import dev.convcg.core.ingest.ImportSettings.RawEvent;
import dev.convcg.core.ingest.ImportSettings.TimestampUnit;
import dev.convcg.core.ingest.ImportSettings.WithinDayOrder;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.schema.Surface;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.StableHash;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class EventImporterTest {
    static final LocalDate RUN = LocalDate.of(2013, 8, 15);
    static final Map<String, List<RawEvent>> TMALL = Map.of(
            "0",
            List.of(RawEvent.IMPRESSION, RawEvent.CLICK),
            "1",
            List.of(RawEvent.CHECKOUT),
            "2",
            List.of(RawEvent.SAVE),
            "3",
            List.of(RawEvent.ADD_TO_CART));

    /** A mapping of columns user,pin,adv,cat,price,type,time with the Tmall values, changed by {@code edit}. */
    static ImportSettings settings(Consumer<Builder> edit) {
        Builder b = new Builder();
        edit.accept(b);
        return b.build();
    }

    static final class Builder {
        Columns columns = new Columns("user", "pin", "adv", "cat", "price", "type", "time");
        TimestampUnit unit = TimestampUnit.SECONDS;
        String pattern = "";
        ZoneId zone = ZoneOffset.UTC;
        int year = 0;
        WithinDayOrder order = WithinDayOrder.NONE;
        boolean hash = false;
        LocalDate from;
        LocalDate to;

        ImportSettings build() {
            return new ImportSettings(
                    columns, unit, pattern, zone, year, order, hash, TMALL, Surface.HOME_FEED, from, to, 3650);
        }
    }

    static Dataset<Row> events(SparkSession spark, String... lines) {
        StructType schema = new StructType();
        for (String c : List.of("user", "pin", "adv", "cat", "price", "type", "time")) {
            schema = schema.add(c, DataTypes.StringType, true);
        }
        List<Row> rows = new ArrayList<>();
        for (String line : lines) {
            rows.add(RowFactory.create((Object[]) Arrays.stream(line.split(",", -1))
                    .map(v -> v.isEmpty() ? null : v)
                    .toArray(String[]::new)));
        }
        return spark.createDataFrame(rows, schema);
    }

    static Instant ts(Dataset<Row> table, String column) {
        return table.select(col(column)).first().getTimestamp(0).toInstant();
    }

    @Test
    void everyTimestampKindReadsTheSameInstant(SparkSession spark) {
        Instant t = Instant.parse("2013-06-04T10:00:00Z");
        assertEquals(t, click(spark, b -> b.unit = TimestampUnit.SECONDS, "1370340000"));
        assertEquals(t, click(spark, b -> b.unit = TimestampUnit.MILLIS, "1370340000000"));
        assertEquals(t, click(spark, b -> b.unit = TimestampUnit.ISO, "2013-06-04T10:00:00Z"));
        assertEquals(t, click(spark, b -> b.unit = TimestampUnit.ISO, "2013-06-04T12:00:00+02:00"));
        assertEquals(
                t,
                click(
                        spark,
                        b -> {
                            b.unit = TimestampUnit.ISO;
                            b.zone = ZoneId.of("Asia/Shanghai");
                        },
                        "2013-06-04 18:00:00"));
        assertEquals(
                Instant.parse("2013-06-04T00:00:00Z"), click(spark, b -> b.unit = TimestampUnit.ISO, "2013-06-04"));
        assertEquals(
                t,
                click(
                        spark,
                        b -> {
                            b.unit = TimestampUnit.PATTERN;
                            b.pattern = "dd/MM/yyyy HH:mm";
                        },
                        "04/06/2013 10:00"));
        assertEquals(
                Instant.parse("2013-06-04T00:00:00Z"),
                click(
                        spark,
                        b -> {
                            b.unit = TimestampUnit.PATTERN;
                            b.pattern = "M-d";
                            b.year = 2013;
                        },
                        "6-4"),
                "a pattern without a year takes default-year");
        assertEquals(
                Instant.parse("2013-06-03T16:00:00Z"),
                click(
                        spark,
                        b -> {
                            b.unit = TimestampUnit.PATTERN;
                            b.pattern = "M-d";
                            b.year = 2013;
                            b.zone = ZoneId.of("Asia/Shanghai");
                        },
                        "6-4"),
                "and is read in the configured zone");
    }

    private static Instant click(SparkSession spark, Consumer<Builder> edit, String time) {
        EventImporter.Result r =
                EventImporter.map(events(spark, "1,10,5,,,0," + time), settings(edit), RUN, "f", "abc");
        try {
            Dataset<Row> clicks = r.rawTables().get(RawTables.ENGAGEMENTS);
            assertEquals(1, clicks.count(), "one click for " + time);
            Instant ts = ts(clicks, "ts");
            assertEquals(
                    ts.atZone(ZoneOffset.UTC).toLocalDate().toString(),
                    clicks.first().getAs(RawTables.DS));
            return ts;
        } finally {
            r.release();
        }
    }

    @Test
    void funnelOrderPutsASameDayPurchaseAfterItsClick(SparkSession spark) {
        EventImporter.Result r = EventImporter.map(
                events(spark, "1,10,5,,,1,6-4", "1,10,5,,,3,6-4", "1,10,5,,,2,6-4", "1,10,5,,,0,6-4"),
                settings(b -> {
                    b.unit = TimestampUnit.PATTERN;
                    b.pattern = "M-d";
                    b.year = 2013;
                    b.order = WithinDayOrder.FUNNEL;
                }),
                RUN,
                "f",
                "abc");
        Instant day = Instant.parse("2013-06-04T00:00:00Z");
        assertEquals(day, ts(r.rawTables().get(RawTables.IMPRESSIONS), "ts"));
        Dataset<Row> engagements = r.rawTables().get(RawTables.ENGAGEMENTS);
        assertEquals(day.plusSeconds(1), ts(engagements.filter(col("type").equalTo("CLICK")), "ts"));
        assertEquals(day.plusSeconds(2), ts(engagements.filter(col("type").equalTo("SAVE")), "ts"));
        Dataset<Row> conversions = r.rawTables().get(RawTables.CONVERSIONS);
        assertEquals(day.plusSeconds(3), ts(conversions.filter(col("type").equalTo("ADD_TO_CART")), "event_ts"));
        assertEquals(day.plusSeconds(4), ts(conversions.filter(col("type").equalTo("CHECKOUT")), "event_ts"));
        assertEquals(0, EventImporter.summarize(r).droppedTimesOfDay());
        r.release();

        EventImporter.Result none = EventImporter.map(
                events(spark, "1,10,5,,,1,6-4", "1,10,5,,,0,6-4"),
                settings(b -> {
                    b.unit = TimestampUnit.PATTERN;
                    b.pattern = "M-d";
                    b.year = 2013;
                }),
                RUN,
                "f",
                "abc");
        assertEquals(
                ts(none.rawTables().get(RawTables.ENGAGEMENTS), "ts"),
                ts(none.rawTables().get(RawTables.CONVERSIONS), "event_ts"),
                "NONE leaves same-day events tied");
        none.release();
    }

    @Test
    void absentOptionalColumnsFallBack(SparkSession spark) {
        Dataset<Row> e = events(spark, "1,10,77,12,,1,1370340000", "2,11,78,shoes,,1,1370340000");
        Map<Long, Row> byPin = pins(EventImporter.map(
                e,
                settings(b -> b.columns = new Columns("user", "pin", "", "cat", "", "type", "time")),
                RUN,
                "f",
                "abc"));
        assertEquals(
                12L, byPin.get(10L).<Long>getAs("advertiser_id"), "advertiser: the category when it is an integer");
        assertEquals(StableHash.of("shoes"), byPin.get(11L).<Long>getAs("advertiser_id"), "else its stable hash");
        assertEquals("shoes", byPin.get(11L).getAs("category"));
        assertNull(byPin.get(11L).getAs("price"), "no price column: null");

        byPin = pins(EventImporter.map(
                e,
                settings(b -> b.columns = new Columns("user", "pin", "adv", "", "", "type", "time")),
                RUN,
                "f",
                "abc"));
        assertEquals(77L, byPin.get(10L).<Long>getAs("advertiser_id"));
        assertEquals("77", byPin.get(10L).getAs("category"), "category: the advertiser's value");

        byPin = pins(EventImporter.map(
                e, settings(b -> b.columns = new Columns("user", "pin", "", "", "", "type", "time")), RUN, "f", "abc"));
        assertEquals(10L, byPin.get(10L).<Long>getAs("advertiser_id"), "advertiser: the pin itself");
        assertNull(byPin.get(10L).getAs("category"), "category: null");
    }

    private static Map<Long, Row> pins(EventImporter.Result r) {
        Map<Long, Row> byPin = new TreeMap<>();
        r.rawTables().get(RawTables.PINS).collectAsList().forEach(p -> byPin.put(p.getAs("pin_id"), p));
        r.release();
        return byPin;
    }

    @Test
    void everyMalformedRowIsQuarantinedWithItsOneReason(SparkSession spark) {
        Dataset<Row> e = events(
                spark,
                "1,10,5,c,9.5,1,1370340000",
                "1,10,5,c,,0,1370340000",
                ",10,5,c,,0,1370340000",
                "abc,10,5,c,,0,1370340000",
                "1,,5,c,,0,1370340000",
                "1,99999999999999999999,5,c,,0,1370340000",
                "1,10,,,,0,1370340000",
                "1,10,5,c,,like,1370340000",
                "1,10,5,c,,,1370340000",
                "1,10,5,c,,0,",
                "1,10,5,c,,0,not-a-time",
                "1,10,5,c,,0,99999999999999",
                "1,10,5,c,,0,4102444800",
                "1,10,5,c,,0,-62135596800",
                "1,10,5,c,abc,0,1370340000",
                "1,10,5,c,-1,0,1370340000");
        EventImporter.Result r = EventImporter.map(e, settings(b -> {}), RUN, "in.csv", "abc");
        List<String> reasons = r.quarantine().orderBy("row_json").collectAsList().stream()
                .map(q -> q.<String>getAs("reason"))
                .sorted()
                .toList();
        assertEquals(
                List.of(
                        "INVALID_NUMBER",
                        "INVALID_NUMBER",
                        "INVALID_NUMBER",
                        "MISSING_ADVERTISER_ID",
                        "MISSING_PIN_ID",
                        "MISSING_TIMESTAMP",
                        "MISSING_USER_ID",
                        "NEGATIVE_PRICE",
                        "TIMESTAMP_OUT_OF_RANGE",
                        "TIMESTAMP_OUT_OF_RANGE",
                        "TIMESTAMP_OUT_OF_RANGE",
                        "UNKNOWN_EVENT_TYPE",
                        "UNKNOWN_EVENT_TYPE",
                        "UNPARSEABLE_TIMESTAMP"),
                reasons);
        Row overflow = r.quarantine()
                .filter(col("row_json").contains("\"time\":\"99999999999999\""))
                .first();
        assertEquals(
                "TIMESTAMP_OUT_OF_RANGE",
                overflow.getAs("reason"),
                "an overflowing time is a row's reason, not an abort");
        assertEquals("in.csv", overflow.getAs("input_path"));
        assertEquals("abc", overflow.getAs("input_hash"));
        assertEquals(EventImporter.STAGE, overflow.getAs("stage"));

        EventImporter.Summary s = EventImporter.summarize(r);
        assertEquals(16, s.rows());
        assertEquals(2, s.accepted());
        assertEquals(s.rows(), s.accepted() + s.quarantinedRows(), "rows in = accepted + quarantined");
        assertEquals(List.of("2013-06-04"), s.days());
        assertEquals(
                9.5,
                r.rawTables().get(RawTables.CONVERSIONS).first().<Double>getAs("value"),
                "price is the order value");
        assertEquals(9.5, r.rawTables().get(RawTables.PINS).first().<Double>getAs("price"));
        r.release();
    }

    @Test
    void hashIdsKeepsIntegersAndHashesOtherIds(SparkSession spark) {
        EventImporter.Result r = EventImporter.map(
                events(spark, "u-7,10,5,,,0,1370340000", "42,sku-1,5,,,0,1370340000"),
                settings(b -> b.hash = true),
                RUN,
                "f",
                "abc");
        List<Row> rows =
                r.rawTables().get(RawTables.IMPRESSIONS).orderBy("ts", "pin_id").collectAsList();
        assertEquals(2, rows.size());
        assertTrue(rows.stream()
                .anyMatch(x -> x.<Long>getAs("user_id") == StableHash.of("u-7") && x.<Long>getAs("pin_id") == 10L));
        assertTrue(rows.stream()
                .anyMatch(x -> x.<Long>getAs("user_id") == 42L && x.<Long>getAs("pin_id") == StableHash.of("sku-1")));
        r.release();
    }

    @Test
    void exactDuplicatesAreKeptAndCounted(SparkSession spark) {
        EventImporter.Result r = EventImporter.map(
                events(
                        spark,
                        "1,10,5,,,0,1370340000",
                        "1,10,5,,,0,1370340000",
                        "1,10,5,,,0,1370340000",
                        "1,11,5,,,0,1370340000"),
                settings(b -> {}),
                RUN,
                "f",
                "abc");
        EventImporter.Summary s = EventImporter.summarize(r);
        assertEquals(2, s.duplicateRows());
        assertEquals(4, r.rawTables().get(RawTables.ENGAGEMENTS).count(), "repeats are real events");
        assertEquals(
                4,
                r.rawTables()
                        .get(RawTables.IMPRESSIONS)
                        .select("impression_id")
                        .distinct()
                        .count());
        r.release();
    }

    @Test
    void aFileWhollyOutsideTheWindowIsExplainedWithTheLikelyUnit(SparkSession spark) {
        ImportSettings millis = settings(b -> b.unit = TimestampUnit.MILLIS);
        LocalDate run = LocalDate.of(2026, 10, 14);
        EventImporter.Result r = EventImporter.map(
                events(spark, "1,10,5,,,0,1511658000", "1,10,5,,,1,1511744400"), millis, run, "f", "abc");
        EventImporter.Summary s = EventImporter.summarize(r);
        r.release();
        assertTrue(s.allOutsideWindow());
        String m = EventImporter.explainAllOutsideWindow(s, millis, run);
        assertTrue(
                m.startsWith("all 2 timestamps fall on 1970-01-18 .. 1970-01-18, decades before run-date 2026-10-14"),
                m);
        assertTrue(
                m.contains("is import-events.timestamp-unit = millis right? the values (1511658000 .. 1511744400) "
                        + "look like epoch seconds"),
                m);

        ImportSettings year = settings(b -> {
            b.unit = TimestampUnit.PATTERN;
            b.pattern = "M-d";
            b.year = 2031;
        });
        EventImporter.Result y = EventImporter.map(events(spark, "1,10,5,,,0,6-4"), year, run, "f", "abc");
        String ym = EventImporter.explainAllOutsideWindow(EventImporter.summarize(y), year, run);
        y.release();
        assertTrue(
                ym.contains("after run-date 2026-10-14") && ym.contains("is import-events.default-year = 2031 right?"),
                ym);
    }

    @Test
    void settingsRefuseWhatCannotWork() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> settings(b -> {
                    b.unit = TimestampUnit.PATTERN;
                    b.pattern = "M-d";
                }));
        assertTrue(
                e.getMessage().startsWith("default-year = 0: timestamp-pattern \"M-d\" has no year"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> settings(b -> {
                    b.unit = TimestampUnit.PATTERN;
                    b.pattern = "yyyy-bb";
                }));
        assertTrue(e.getMessage().startsWith("timestamp-pattern = \"yyyy-bb\": not a java.time"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(b -> b.pattern = "M-d"));
        assertTrue(e.getMessage().contains("set timestamp-unit = pattern"), e.getMessage());
        assertFalse(TimestampParser.hasYear("M-d 'year'"));
        assertTrue(TimestampParser.hasYear("uuuu-MM-dd"));
        assertNull(new TimestampParser("M-d", ZoneOffset.UTC, 2013).call("13-45"));
    }
}
