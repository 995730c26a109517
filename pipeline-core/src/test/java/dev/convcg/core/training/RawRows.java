package dev.convcg.core.training;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/** Hand-made raw rows for the training-data tests; times are ISO instants in UTC. */
final class RawRows {
    static final long ADVERTISER = 10_001L;

    final List<Row> impressions = new ArrayList<>();
    final List<Row> engagements = new ArrayList<>();
    final List<Row> conversions = new ArrayList<>();
    final List<Row> pins = new ArrayList<>();
    final List<Row> users = new ArrayList<>();

    static Timestamp ts(String iso) {
        return Timestamp.from(Instant.parse(iso));
    }

    static String ds(String iso) {
        return iso.substring(0, 10);
    }

    RawRows impression(String id, long user, long pin, String surface, String query, String iso) {
        impressions.add(RowFactory.create(id, "req-" + id, user, pin, ADVERTISER, surface, query, ts(iso), 0, ds(iso)));
        return this;
    }

    RawRows impression(String id, long user, long pin, String iso) {
        return impression(id, user, pin, "HOME_FEED", null, iso);
    }

    RawRows click(String impressionId, long user, long pin, String iso, Long durationMs) {
        engagements.add(RowFactory.create(impressionId, user, pin, "CLICK", ts(iso), durationMs, ds(iso)));
        return this;
    }

    RawRows save(String impressionId, long user, long pin, String iso) {
        engagements.add(RowFactory.create(impressionId, user, pin, "SAVE", ts(iso), null, ds(iso)));
        return this;
    }

    RawRows conversion(String id, long user, long pin, String type, String eventIso, String reportedIso) {
        conversions.add(RowFactory.create(
                id, user, pin, ADVERTISER, type, ts(eventIso), ts(reportedIso), 10.0, ds(reportedIso)));
        return this;
    }

    /** Catalog and user snapshots for each day of [from, to] with the given pins and users. */
    RawRows catalog(String from, String to, long[] pinIds, long[] userIds) {
        for (LocalDate d = LocalDate.parse(from); !d.isAfter(LocalDate.parse(to)); d = d.plusDays(1)) {
            for (long p : pinIds) {
                pins.add(RowFactory.create(p, ADVERTISER, "cat_001", 25.0, "2026-09-01", null, d.toString()));
            }
            for (long u : userIds) {
                users.add(RowFactory.create(u, "US", "2025-01-01", null, d.toString()));
            }
        }
        return this;
    }

    Map<String, Dataset<Row>> tables() {
        Map<String, Dataset<Row>> m = new LinkedHashMap<>();
        m.put(RawTables.IMPRESSIONS, df(RawTables.IMPRESSIONS_SCHEMA, impressions));
        m.put(RawTables.ENGAGEMENTS, df(RawTables.ENGAGEMENTS_SCHEMA, engagements));
        m.put(RawTables.CONVERSIONS, df(RawTables.CONVERSIONS_SCHEMA, conversions));
        m.put(RawTables.PINS, df(RawTables.PINS_SCHEMA, pins));
        m.put(RawTables.USERS, df(RawTables.USERS_SCHEMA, users));
        return m;
    }

    static Dataset<Row> df(StructType schema, List<Row> rows) {
        return SparkTest.session().createDataFrame(rows, schema);
    }
}
