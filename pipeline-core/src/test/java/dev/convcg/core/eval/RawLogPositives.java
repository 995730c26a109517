package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.schema.Surface;
import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Test fixture: positive events read straight from a simulated world's raw logs, for the baseline tests that run
 * without building {@code training_examples}: clicks become ENGAGEMENT events on their impression's surface;
 * conversions (re-sent reports dropped) become CONVERSION events on the surface of the user's latest impression of
 * the pin before the conversion, or HOME_FEED when there was none (organic). Rows with missing ids, unknown enums,
 * pins outside the catalog or a report before the event are left out. No attribution window and no hard negatives.
 */
public final class RawLogPositives {
    private RawLogPositives() {}

    /** @return (user_id, pin_id, surface, task, ds, event_ts); ds is the day of the event (UTC) */
    public static Dataset<Row> fromRawLogs(
            Dataset<Row> impressions, Dataset<Row> engagements, Dataset<Row> conversions, Dataset<Row> pins) {
        Object[] surfaces = Arrays.stream(Surface.values()).map(Enum::name).toArray();
        Dataset<Row> knownPins = pins.select(PIN_ID).distinct();
        Dataset<Row> served = impressions
                .filter(col(USER_ID)
                        .isNotNull()
                        .and(col(PIN_ID).isNotNull())
                        .and(col(SURFACE).isin(surfaces)))
                .select(
                        col("impression_id"),
                        col(USER_ID).as("served_user"),
                        col(PIN_ID).as("served_pin"),
                        col(SURFACE),
                        col("ts").as("served_ts"));
        Dataset<Row> clicks = engagements
                .filter(col("type").equalTo("CLICK").and(col(USER_ID).isNotNull()))
                .join(served, "impression_id")
                .select(
                        col(USER_ID),
                        col(PIN_ID),
                        col(SURFACE),
                        lit("ENGAGEMENT").as(RecallMetrics.TASK),
                        col(RawTables.DS),
                        col("ts").as("event_ts"));
        Dataset<Row> converted = conversions
                .filter(col(USER_ID)
                        .isNotNull()
                        .and(col(PIN_ID).isNotNull())
                        .and(col("type").isin("ADD_TO_CART", "CHECKOUT"))
                        .and(col("reported_ts").geq(col("event_ts"))))
                .dropDuplicates("conversion_id", "type")
                .select("conversion_id", "type", USER_ID, PIN_ID, "event_ts");
        Dataset<Row> conversionEvents = converted
                .join(
                        served,
                        converted
                                .col(USER_ID)
                                .equalTo(served.col("served_user"))
                                .and(converted.col(PIN_ID).equalTo(served.col("served_pin")))
                                .and(served.col("served_ts").leq(converted.col("event_ts"))),
                        "left")
                .groupBy("conversion_id", "type", USER_ID, PIN_ID, "event_ts")
                .agg(max_by(col(SURFACE), col("served_ts")).as(SURFACE))
                .select(
                        col(USER_ID),
                        col(PIN_ID),
                        coalesce(col(SURFACE), lit(Surface.HOME_FEED.name())).as(SURFACE),
                        lit("CONVERSION").as(RecallMetrics.TASK),
                        date_format(col("event_ts"), "yyyy-MM-dd").as(RawTables.DS),
                        col("event_ts"));
        return clicks.unionByName(conversionEvents).join(knownPins, new String[] {PIN_ID}, "left_semi");
    }
}
