package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.ConversionType;
import dev.convcg.core.schema.EngagementType;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.schema.Surface;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Checks every raw row before it can become a label or a feature. Each row gets the first reason code that applies
 * (in the order of {@link Reason}) or none; rows with a reason go to the quarantine, the others are accepted, so per
 * table rows in = rows accepted + rows quarantined. The pin catalog is the set of pin ids in the accepted
 * {@code pins} rows given.
 */
public final class RawValidation {
    public static final String STAGE = "build-training-data";
    static final String REASON = "_reason";

    /**
     * Why a raw row was rejected: the one reason vocabulary of every quarantine. The values after {@code UNKNOWN_PIN}
     * are given by the importer of real logs ({@code dev.convcg.core.ingest.EventImporter}) to source rows.
     */
    public enum Reason {
        MISSING_ID,
        MISSING_USER_ID,
        MISSING_PIN_ID,
        UNKNOWN_SURFACE,
        UNKNOWN_ENGAGEMENT_TYPE,
        UNKNOWN_CONVERSION_TYPE,
        MISSING_TIMESTAMP,
        REPORTED_BEFORE_EVENT,
        TIMESTAMP_OUTSIDE_PARTITION,
        NEGATIVE_DURATION,
        NEGATIVE_PRICE,
        UNKNOWN_PIN,
        WRONG_FIELD_COUNT,
        MISSING_ADVERTISER_ID,
        INVALID_NUMBER,
        UNKNOWN_EVENT_TYPE,
        UNPARSEABLE_TIMESTAMP,
        TIMESTAMP_OUT_OF_RANGE
    }

    /**
     * @param accepted  accepted rows per raw table, with the raw schema
     * @param tagged    every input row per raw table with its reason (null = accepted) in column {@code _reason}
     * @param quarantine the rejected rows of all tables, in the {@link Quarantine} schema
     */
    public record Result(
            Map<String, Dataset<Row>> accepted, Map<String, Dataset<Row>> tagged, Dataset<Row> quarantine) {}

    private RawValidation() {}

    /** Validates the five raw tables of {@link RawTables#ALL} (all must be present). */
    public static Result validate(Map<String, Dataset<Row>> raw, String runDs) {
        for (String t : RawTables.ALL) {
            if (!raw.containsKey(t)) {
                throw new IllegalArgumentException("raw table '" + t + "' is missing; given " + raw.keySet());
            }
        }
        Map<String, Dataset<Row>> tagged = new LinkedHashMap<>();
        Dataset<Row> pins = raw.get(RawTables.PINS);
        tagged.put(
                RawTables.PINS,
                pins.withColumn(
                        REASON,
                        firstOf(
                                when(col("pin_id").isNull(), reason(Reason.MISSING_PIN_ID)),
                                when(col("price").lt(0), reason(Reason.NEGATIVE_PRICE)))));
        Dataset<Row> catalog = tagged.get(RawTables.PINS)
                .filter(col(REASON).isNull())
                .select(col("pin_id").as("_catalog_pin"))
                .distinct();

        Dataset<Row> users = raw.get(RawTables.USERS);
        tagged.put(
                RawTables.USERS,
                users.withColumn(REASON, firstOf(when(col("user_id").isNull(), reason(Reason.MISSING_USER_ID)))));

        tagged.put(
                RawTables.IMPRESSIONS,
                withCatalog(
                        raw.get(RawTables.IMPRESSIONS),
                        catalog,
                        c -> firstOf(
                                when(col("impression_id").isNull(), reason(Reason.MISSING_ID)),
                                when(col("user_id").isNull(), reason(Reason.MISSING_USER_ID)),
                                when(col("pin_id").isNull(), reason(Reason.MISSING_PIN_ID)),
                                when(not(oneOf(col("surface"), Surface.values())), reason(Reason.UNKNOWN_SURFACE)),
                                when(col("ts").isNull(), reason(Reason.MISSING_TIMESTAMP)),
                                when(
                                        not(UtcDays.dsOf(col("ts")).eqNullSafe(col(RawTables.DS))),
                                        reason(Reason.TIMESTAMP_OUTSIDE_PARTITION)),
                                when(c.isNull(), reason(Reason.UNKNOWN_PIN)))));

        tagged.put(
                RawTables.ENGAGEMENTS,
                withCatalog(
                        raw.get(RawTables.ENGAGEMENTS),
                        catalog,
                        c -> firstOf(
                                when(col("user_id").isNull(), reason(Reason.MISSING_USER_ID)),
                                when(col("pin_id").isNull(), reason(Reason.MISSING_PIN_ID)),
                                when(
                                        not(oneOf(col("type"), EngagementType.values())),
                                        reason(Reason.UNKNOWN_ENGAGEMENT_TYPE)),
                                when(col("ts").isNull(), reason(Reason.MISSING_TIMESTAMP)),
                                when(
                                        not(UtcDays.dsOf(col("ts")).eqNullSafe(col(RawTables.DS))),
                                        reason(Reason.TIMESTAMP_OUTSIDE_PARTITION)),
                                when(col("click_duration_ms").lt(0), reason(Reason.NEGATIVE_DURATION)),
                                when(c.isNull(), reason(Reason.UNKNOWN_PIN)))));

        tagged.put(
                RawTables.CONVERSIONS,
                withCatalog(
                        raw.get(RawTables.CONVERSIONS),
                        catalog,
                        c -> firstOf(
                                when(col("conversion_id").isNull(), reason(Reason.MISSING_ID)),
                                when(col("user_id").isNull(), reason(Reason.MISSING_USER_ID)),
                                when(col("pin_id").isNull(), reason(Reason.MISSING_PIN_ID)),
                                when(
                                        not(oneOf(col("type"), ConversionType.values())),
                                        reason(Reason.UNKNOWN_CONVERSION_TYPE)),
                                when(
                                        col("event_ts")
                                                .isNull()
                                                .or(col("reported_ts").isNull()),
                                        reason(Reason.MISSING_TIMESTAMP)),
                                when(col("reported_ts").lt(col("event_ts")), reason(Reason.REPORTED_BEFORE_EVENT)),
                                when(
                                        not(UtcDays.dsOf(col("reported_ts")).eqNullSafe(col(RawTables.DS))),
                                        reason(Reason.TIMESTAMP_OUTSIDE_PARTITION)),
                                when(c.isNull(), reason(Reason.UNKNOWN_PIN)))));

        Map<String, Dataset<Row>> accepted = new LinkedHashMap<>();
        Dataset<Row> quarantine = null;
        for (String t : RawTables.ALL) {
            Dataset<Row> x = tagged.get(t);
            Column[] rawColumns = Arrays.stream(raw.get(t).columns())
                    .map(n -> col("`" + n + "`"))
                    .toArray(Column[]::new);
            accepted.put(t, x.filter(col(REASON).isNull()).select(rawColumns));
            Dataset<Row> rejected = x.filter(col(REASON).isNotNull());
            Dataset<Row> q = Quarantine.of(rejected, t, REASON, STAGE, runDs);
            quarantine = quarantine == null ? q : quarantine.unionByName(q);
        }
        return new Result(accepted, tagged, quarantine);
    }

    private static Dataset<Row> withCatalog(Dataset<Row> table, Dataset<Row> catalog, Function<Column, Column> reason) {
        String[] columns = table.columns();
        Dataset<Row> joined =
                table.join(broadcast(catalog), table.col("pin_id").equalTo(catalog.col("_catalog_pin")), "left");
        Column[] keep = new Column[columns.length + 1];
        for (int i = 0; i < columns.length; i++) {
            keep[i] = table.col("`" + columns[i] + "`");
        }
        keep[columns.length] = reason.apply(catalog.col("_catalog_pin")).as(REASON);
        return joined.select(keep);
    }

    /** The first non-null reason of a chain of {@code when(condition, reason)} columns. */
    private static Column firstOf(Column... reasons) {
        return coalesce(reasons);
    }

    private static Column reason(Reason r) {
        return lit(r.name());
    }

    private static Column oneOf(Column value, Enum<?>[] known) {
        Object[] names = Arrays.stream(known).map(Enum::name).toArray();
        return coalesce(value.isin(names), lit(false));
    }
}
