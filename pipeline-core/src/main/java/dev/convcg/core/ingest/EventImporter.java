package dev.convcg.core.ingest;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.ingest.ImportSettings.RawEvent;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * Maps a flat event log (one row per user action) onto the raw tables. Rows that cannot be mapped (missing or
 * non-integer ids, unparseable time, an event value the mapping does not know) go to the quarantine with a reason;
 * every input row ends up either mapped or quarantined.
 *
 * <p>What such logs lack is filled in plainly and documented: impressions exist only where an event implies one
 * (no unengaged impressions, hence no served hard negatives), clicks carry no duration, conversions are reported at
 * their event time (no lag is known), the catalog is the set of pins seen so far, users carry no profile.
 */
public final class EventImporter {
    public static final String STAGE = "import-events";
    public static final String SOURCE = "events";

    /** Mapped raw tables plus the quarantined source rows. */
    public record Result(Map<String, Dataset<Row>> rawTables, Dataset<Row> quarantine, Dataset<Row> accepted) {}

    private EventImporter() {}

    public static Result map(Dataset<Row> events, ImportSettings s, String runDs) {
        Column userId = integer(s.userIdColumn());
        Column pinId = integer(s.pinIdColumn());
        Column advertiserId = integer(s.advertiserIdColumn());
        Column ts = switch (s.timestampUnit()) {
            case SECONDS -> timestamp_seconds(integer(s.timestampColumn()));
            case MILLIS -> timestamp_millis(integer(s.timestampColumn()));
            case ISO -> try_to_timestamp(col(s.timestampColumn()).cast("string"));
        };
        Column value = col(s.eventTypeColumn()).cast("string");
        Column reason = when(userId.isNull(), lit("INVALID_USER_ID"))
                .when(pinId.isNull(), lit("INVALID_PIN_ID"))
                .when(advertiserId.isNull(), lit("INVALID_ADVERTISER_ID"))
                .when(ts.isNull(), lit("INVALID_TIMESTAMP"))
                .when(value.isNull().or(not(value.isin(s.eventValues().keySet().toArray()))), lit("UNMAPPED_EVENT_TYPE"));

        Dataset<Row> tagged = events.withColumn("_reason", reason);
        Dataset<Row> rejected = tagged.filter(col("_reason").isNotNull());
        Dataset<Row> quarantine = Quarantine.of(rejected, SOURCE, "_reason", STAGE, runDs);

        Dataset<Row> accepted = tagged.filter(col("_reason").isNull()).select(
                userId.as("user_id"), pinId.as("pin_id"), advertiserId.as("advertiser_id"),
                col(s.categoryColumn()).cast("string").as("category"), value.as("event_value"), ts.as("ts"))
                .withColumn(RawTables.DS, date_format(col("ts"), "yyyy-MM-dd"))
                .withColumn("event_seq", row_number().over(
                        Window.partitionBy("user_id").orderBy(col("ts"), col("pin_id"), col("event_value"))))
                .withColumn("impression_id", concat_ws("-", lit("imp"), col("user_id"), col("event_seq")));

        Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        Dataset<Row> viewed = accepted.filter(col("event_value").isin(s.valuesProducing(RawEvent.IMPRESSION).toArray()));
        tables.put(RawTables.IMPRESSIONS, viewed.select(
                col("impression_id"), col("impression_id").as("request_id"), col("user_id"), col("pin_id"),
                col("advertiser_id"), lit(s.surface().name()).as("surface"), lit(null).cast("string").as("query"),
                col("ts"), lit(0).as("position"), col(RawTables.DS)));

        Dataset<Row> clicks = accepted.filter(col("event_value").isin(s.valuesProducing(RawEvent.CLICK).toArray()))
                .select(col("impression_id"), col("user_id"), col("pin_id"), lit("CLICK").as("type"), col("ts"),
                        lit(null).cast("long").as("click_duration_ms"), col(RawTables.DS));
        Dataset<Row> saves = accepted.filter(col("event_value").isin(s.valuesProducing(RawEvent.SAVE).toArray()))
                .select(lit(null).cast("string").as("impression_id"), col("user_id"), col("pin_id"), lit("SAVE").as("type"),
                        col("ts"), lit(null).cast("long").as("click_duration_ms"), col(RawTables.DS));
        tables.put(RawTables.ENGAGEMENTS, clicks.unionByName(saves));

        Dataset<Row> carts = conversions(accepted, s, RawEvent.ADD_TO_CART);
        tables.put(RawTables.CONVERSIONS, carts.unionByName(conversions(accepted, s, RawEvent.CHECKOUT)));

        Dataset<Row> days = accepted.select(RawTables.DS).distinct();
        Dataset<Row> firstSeen = accepted.groupBy("pin_id").agg(
                min(RawTables.DS).as("created_ds"), max_by(col("advertiser_id"), col("ts")).as("advertiser_id"),
                max_by(col("category"), col("ts")).as("category"));
        tables.put(RawTables.PINS, firstSeen.crossJoin(days).filter(col("created_ds").leq(col(RawTables.DS))).select(
                col("pin_id"), col("advertiser_id"), col("category"), lit(null).cast("double").as("price"),
                col("created_ds"), lit(null).cast("array<float>").as("content_embedding"), col(RawTables.DS)));
        Dataset<Row> firstUserDay = accepted.groupBy("user_id").agg(min(RawTables.DS).as("signup_ds"));
        tables.put(RawTables.USERS, firstUserDay.crossJoin(days).filter(col("signup_ds").leq(col(RawTables.DS))).select(
                col("user_id"), lit(null).cast("string").as("country"), lit(null).cast("string").as("signup_ds"),
                lit(null).cast("array<string>").as("interest_categories"), col(RawTables.DS)));
        return new Result(tables, quarantine, accepted);
    }

    private static Dataset<Row> conversions(Dataset<Row> accepted, ImportSettings s, RawEvent type) {
        return accepted.filter(col("event_value").isin(s.valuesProducing(type).toArray())).select(
                concat_ws("-", lit("conv"), col("user_id"), col("event_seq"), lit(type.name())).as("conversion_id"),
                col("user_id"), col("pin_id"), col("advertiser_id"), lit(type.name()).as("type"),
                col("ts").as("event_ts"), col("ts").as("reported_ts"), lit(null).cast("double").as("value"),
                col(RawTables.DS));
    }

    /** A column parsed as a 64-bit integer, null when it is not one. */
    private static Column integer(String column) {
        return col(column).cast("string").try_cast("long");
    }
}
