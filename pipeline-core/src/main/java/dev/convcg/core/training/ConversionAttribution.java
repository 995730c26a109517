package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.EngagementType;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Turns offsite conversion reports into attributed conversions. Duplicate reports are collapsed first (same
 * {@code conversion_id}; then same user, pin, type and {@code event_ts}), keeping the earliest report. A conversion
 * then goes to the latest click on the same (user, pin) with {@code event_ts − click-through window ≤ click ts ≤
 * event_ts}, else to the latest impression with {@code event_ts − view-through window ≤ impression ts ≤ event_ts},
 * else it is unattributed: kept for user histories, never a label.
 */
public final class ConversionAttribution {
    public static final String CLICK_THROUGH = "CLICK_THROUGH";
    public static final String VIEW_THROUGH = "VIEW_THROUGH";

    /**
     * @param attributed   deduplicated conversions with {@code impression_id}, {@code touch_ts} (the click or
     *                     impression time) and {@code attribution_type} set
     * @param unattributed deduplicated conversions with none of the three (null)
     */
    public record Result(Dataset<Row> attributed, Dataset<Row> unattributed) {}

    private ConversionAttribution() {}

    /** One row per distinct conversion: the earliest report of each {@code conversion_id}, then of each (user, pin, type, event_ts). */
    public static Dataset<Row> deduplicate(Dataset<Row> conversions) {
        Dataset<Row> byId = conversions
                .groupBy("conversion_id")
                .agg(min(struct(
                                col("reported_ts"),
                                col("ds"),
                                col("user_id"),
                                col("pin_id"),
                                col("type"),
                                col("event_ts"),
                                col("advertiser_id"),
                                col("value")))
                        .as("c"))
                .select(col("conversion_id"), col("c.*"));
        return byId.groupBy("user_id", "pin_id", "type", "event_ts")
                .agg(min(struct(
                                col("reported_ts"),
                                col("conversion_id"),
                                col("ds"),
                                col("advertiser_id"),
                                col("value")))
                        .as("c"))
                .select(
                        col("c.conversion_id"),
                        col("user_id"),
                        col("pin_id"),
                        col("c.advertiser_id"),
                        col("type"),
                        col("event_ts"),
                        col("c.reported_ts"),
                        col("c.value"),
                        col("c.ds"));
    }

    /**
     * Attributes deduplicated conversions to the accepted engagements and impressions given. The caller gives at
     * least the click-through window of events before the earliest conversion it cares about.
     */
    public static Result attribute(
            Dataset<Row> conversions, Dataset<Row> impressions, Dataset<Row> engagements, TrainingDataSettings s) {
        Dataset<Row> conv = conversions.select(
                col("conversion_id"),
                col("user_id").as("c_user"),
                col("pin_id").as("c_pin"),
                col("event_ts").as("c_ts"));
        Dataset<Row> clicks = engagements
                .filter(col("type").equalTo(EngagementType.CLICK.name()))
                .select(col("user_id"), col("pin_id"), col("impression_id"), col("ts"));
        Dataset<Row> clickThrough = latestTouch(conv, clicks, s.clickThroughWindowDays(), "ct");
        Dataset<Row> viewThrough = latestTouch(
                conv,
                impressions.select(col("user_id"), col("pin_id"), col("impression_id"), col("ts")),
                s.viewThroughWindowDays(),
                "vt");

        Dataset<Row> all = conversions
                .join(clickThrough, "conversion_id", "left")
                .join(viewThrough, "conversion_id", "left")
                .withColumn(
                        "attribution_type",
                        when(col("ct").isNotNull(), lit(CLICK_THROUGH))
                                .when(col("vt").isNotNull(), lit(VIEW_THROUGH)))
                .withColumn(
                        "impression_id",
                        when(col("ct").isNotNull(), col("ct.impression_id")).otherwise(col("vt.impression_id")))
                .withColumn(
                        "touch_ts", when(col("ct").isNotNull(), col("ct.ts")).otherwise(col("vt.ts")))
                .drop("ct", "vt");
        return new Result(
                all.filter(col("attribution_type").isNotNull()),
                all.filter(col("attribution_type").isNull()));
    }

    /** Hours from the touch to the conversion, for the delay histogram. */
    public static Column delayHours() {
        return unix_micros(col("event_ts")).minus(unix_micros(col("touch_ts"))).divide(3_600_000_000.0);
    }

    private static Dataset<Row> latestTouch(Dataset<Row> conv, Dataset<Row> touches, int windowDays, String name) {
        Column cTs = unix_micros(conv.col("c_ts"));
        Column tTs = unix_micros(touches.col("ts"));
        Column within = conv.col("c_user")
                .equalTo(touches.col("user_id"))
                .and(conv.col("c_pin").equalTo(touches.col("pin_id")))
                .and(tTs.leq(cTs))
                .and(tTs.geq(cTs.minus(UtcDays.days(windowDays))));
        return conv.join(touches, within)
                .groupBy(conv.col("conversion_id"))
                .agg(max(struct(touches.col("ts"), touches.col("impression_id")))
                        .as(name));
    }
}
