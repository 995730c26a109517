package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.ConversionType;
import dev.convcg.core.schema.EngagementType;
import dev.convcg.core.schema.RawTables;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;

/**
 * Labels the examples of the days {@code [first, last]}, each anchored on one impression or engagement:
 * <ul>
 *   <li>CONVERSION: one per attributed conversion, anchored on the attributed click (its impression and time) or, for
 *       view-through, on the impression; weight by conversion type;</li>
 *   <li>ENGAGEMENT: one per click (weight from its dwell duration) or save (save weight) of a served impression;</li>
 *   <li>NEGATIVE (hard negative): an impression with no engagement whose (user, pin) has no known conversion at or
 *       after the impression, kept when a seeded hash of its id falls under the rate, at most {@code cap} per user
 *       and day (lowest hashes first); weight 1.</li>
 * </ul>
 * Engagements whose impression is not in the input give no example. With {@code same-day-repeats = COLLAPSE} the
 * positives a log repeats within a day become one weighted example ({@link #collapseSameDayRepeats}).
 */
public final class ExampleLabeler {
    public static final String CONVERSION = "CONVERSION";
    public static final String ENGAGEMENT = "ENGAGEMENT";
    public static final String NEGATIVE = "NEGATIVE";
    public static final String IMPRESSION = "IMPRESSION";
    /** event_type of a NEGATIVE drawn from the catalog ({@link SampledNegatives}) rather than served. */
    public static final String SAMPLED = "SAMPLED";

    /** Columns of the labelled examples, before sampling probabilities and features. */
    static final String[] COLUMNS = {
        "ds",
        "example_id",
        "impression_id",
        "user_id",
        "pin_id",
        "advertiser_id",
        "surface",
        "query",
        "task",
        "event_type",
        "weight",
        "attribution_type",
        "click_duration_ms",
        "event_ts"
    };

    private ExampleLabeler() {}

    /**
     * @param impressions accepted impressions (at least from {@code first − 1})
     * @param engagements accepted engagements
     * @param conversions all known deduplicated conversions (attributed or not)
     * @param attributed  attributed conversions ({@link ConversionAttribution.Result#attributed()})
     */
    public static Dataset<Row> label(
            Dataset<Row> impressions,
            Dataset<Row> engagements,
            Dataset<Row> conversions,
            Dataset<Row> attributed,
            LocalDate first,
            LocalDate last,
            TrainingDataSettings s) {
        Column inRange = col("ds").between(first.toString(), last.toString());
        Dataset<Row> engagementAnchors = engagements
                .filter(inRange)
                .select(
                        col("impression_id"),
                        lit(ENGAGEMENT).as("task"),
                        col("type").as("event_type"),
                        engagementWeight(s).cast("float").as("weight"),
                        lit(null).cast("string").as("attribution_type"),
                        col("click_duration_ms"),
                        col("ts").as("event_ts"),
                        concat_ws(
                                        ":",
                                        lit("E"),
                                        col("type"),
                                        col("impression_id"),
                                        unix_micros(col("ts")).cast("string"))
                                .as("example_id"));
        Dataset<Row> conversionAnchors = attributed
                .withColumn("anchor_ds", UtcDays.dsOf(col("touch_ts")))
                .filter(col("anchor_ds").between(first.toString(), last.toString()))
                .select(
                        col("impression_id"),
                        lit(CONVERSION).as("task"),
                        col("type").as("event_type"),
                        conversionWeight(s).cast("float").as("weight"),
                        col("attribution_type"),
                        lit(null).cast("long").as("click_duration_ms"),
                        col("touch_ts").as("event_ts"),
                        concat_ws(":", lit("C"), col("conversion_id")).as("example_id"));
        Dataset<Row> served = impressions
                .filter(col("ds").geq(first.minusDays(1).toString()))
                .select(
                        col("impression_id"),
                        col("user_id"),
                        col("pin_id"),
                        col("advertiser_id"),
                        col("surface"),
                        col("query"));
        Dataset<Row> positives = engagementAnchors
                .unionByName(conversionAnchors)
                .join(served, "impression_id")
                .withColumn("ds", UtcDays.dsOf(col("event_ts")));
        if (s.sameDayRepeats() == TrainingDataSettings.SameDayRepeats.COLLAPSE) {
            positives = collapseSameDayRepeats(positives);
        }

        return columns(positives)
                .unionByName(columns(hardNegatives(impressions, engagements, conversions, first, last, s)));
    }

    /**
     * One positive per (user, pin, task, event type, day): the earliest (then smallest example id), its weight times
     * {@code 1 + ln(n)} for the n rows it stands for.
     */
    static Dataset<Row> collapseSameDayRepeats(Dataset<Row> positives) {
        WindowSpec group = Window.partitionBy("user_id", "pin_id", "task", "event_type", "ds");
        return positives
                .withColumn("_repeats", count(lit(1)).over(group))
                .withColumn("_rank", row_number().over(group.orderBy(col("event_ts"), col("example_id"))))
                .filter(col("_rank").equalTo(1))
                .withColumn(
                        "weight",
                        col("weight")
                                .multiply(lit(1.0).plus(log(col("_repeats"))))
                                .cast("float"))
                .drop("_repeats", "_rank");
    }

    private static Dataset<Row> columns(Dataset<Row> examples) {
        return examples.select(Arrays.stream(COLUMNS).map(functions::col).toArray(Column[]::new));
    }

    /** Hard negatives of {@code [first, last]}; see the class comment for the rule. */
    static Dataset<Row> hardNegatives(
            Dataset<Row> impressions,
            Dataset<Row> engagements,
            Dataset<Row> conversions,
            LocalDate first,
            LocalDate last,
            TrainingDataSettings s) {
        Dataset<Row> sampled = impressions
                .filter(col("ds").between(first.toString(), last.toString()))
                .withColumn("_u", uniformHash(col("impression_id"), s.seed()))
                .filter(col("_u").lt(s.hardNegativeRate()));
        Dataset<Row> engaged =
                engagements.filter(col("impression_id").isNotNull()).select("impression_id");
        Dataset<Row> lastConversion = conversions
                .groupBy(col("user_id").as("cu"), col("pin_id").as("cp"))
                .agg(max("event_ts").as("last_conversion_ts"));
        Dataset<Row> eligible = sampled.join(
                        engaged, sampled.col("impression_id").equalTo(engaged.col("impression_id")), "left_anti")
                .join(
                        lastConversion,
                        col("user_id").equalTo(col("cu")).and(col("pin_id").equalTo(col("cp"))),
                        "left")
                .filter(col("last_conversion_ts")
                        .isNull()
                        .or(col("last_conversion_ts").lt(col("ts"))));
        return eligible.withColumn(
                        "_rank",
                        row_number()
                                .over(Window.partitionBy("user_id", RawTables.DS)
                                        .orderBy(col("_u"), col("impression_id"))))
                .filter(col("_rank").leq(s.hardNegativeCapPerUserDay()))
                .select(
                        col(RawTables.DS),
                        concat_ws(":", lit("N"), col("impression_id")).as("example_id"),
                        col("impression_id"),
                        col("user_id"),
                        col("pin_id"),
                        col("advertiser_id"),
                        col("surface"),
                        col("query"),
                        lit(NEGATIVE).as("task"),
                        lit(IMPRESSION).as("event_type"),
                        lit(1.0f).as("weight"),
                        lit(null).cast("string").as("attribution_type"),
                        lit(null).cast("long").as("click_duration_ms"),
                        col("ts").as("event_ts"));
    }

    /** A deterministic uniform number in [0, 1) from a string and a seed. */
    static Column uniformHash(Column value, long seed) {
        return shiftrightunsigned(xxhash64(lit(seed), value), 11).cast("double").divide((double) (1L << 53));
    }

    /** Weight of an engagement row: click by dwell duration (see {@link TrainingDataSettings#clickWeight}), save constant. */
    static Column engagementWeight(TrainingDataSettings s) {
        Column click = s.clickWeightShape() == TrainingDataSettings.ClickWeightShape.NONE
                ? lit(1.0)
                : when(col("click_duration_ms").isNull(), lit(1.0))
                        .otherwise(least(
                                lit(s.clickWeightMax()),
                                greatest(
                                        lit(s.clickWeightMin()),
                                        lit(s.clickWeightIntercept())
                                                .plus(lit(s.clickWeightSlope())
                                                        .multiply(log1p(col("click_duration_ms")
                                                                .cast("double")
                                                                .divide(s.clickDurationTMaxMs())))))));
        return when(col("type").equalTo(EngagementType.CLICK.name()), click)
                .when(col("type").equalTo(EngagementType.SAVE.name()), lit(s.saveWeight()));
    }

    private static Column conversionWeight(TrainingDataSettings s) {
        Column w = null;
        for (Map.Entry<ConversionType, Double> e : new TreeMap<>(s.conversionWeights()).entrySet()) {
            Column is = col("type").equalTo(e.getKey().name());
            w = w == null ? when(is, lit(e.getValue())) : w.when(is, lit(e.getValue()));
        }
        return w;
    }
}
