package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.EngagementType;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.schema.Surface;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.feature.Bucketizer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * User, pin and context features, as of the start of a day {@code ds}: behaviour (sequences, counts, CTR/CVR)
 * comes only from events of the {@code feature-window-days} days strictly before {@code ds} (conversions count from
 * the day they were reported), so no example sees its own day; descriptive attributes (country, category, price,
 * embedding) come from the latest user/catalog snapshot at or before {@code ds}. Daily aggregates are computed once
 * and spread to the target days they precede, so the cost does not grow with the number of target days.
 */
public final class FeatureBuilder {
    static final String DAY = "_day";

    private FeatureBuilder() {}

    /**
     * {@code user_features} for the days {@code [first, last]}: users of the snapshot plus users with activity.
     * Columns: ds, user_id, user_country, user_engaged_pins, user_converted_pins, user_clicks_28d, user_saves_28d,
     * user_conversions_28d.
     */
    public static Dataset<Row> userFeatures(
            Dataset<Row> users,
            Dataset<Row> engagements,
            Dataset<Row> conversions,
            LocalDate first,
            LocalDate last,
            TrainingDataSettings s) {
        int n = s.historyLength();
        String seqType = "array<struct<ts:timestamp,pin_id:bigint>>";
        Dataset<Row> engagementDaily = engagements
                .groupBy(col("user_id"), to_date(col(RawTables.DS)).as(DAY), col("pin_id"))
                .agg(
                        max("ts").as("ts"),
                        sum(when(col("type").equalTo(EngagementType.CLICK.name()), 1L)
                                        .otherwise(0L))
                                .as("clicks"),
                        sum(when(col("type").equalTo(EngagementType.SAVE.name()), 1L)
                                        .otherwise(0L))
                                .as("saves"))
                .groupBy(col("user_id"), col(DAY))
                .agg(
                        slice(sort_array(collect_list(struct(col("ts"), col("pin_id"))), false), 1, n)
                                .as("eng_seq"),
                        lit(null).cast(seqType).as("conv_seq"),
                        sum("clicks").as("clicks"),
                        sum("saves").as("saves"),
                        lit(0L).as("conversions"));
        Dataset<Row> conversionDaily = conversions
                .groupBy(col("user_id"), to_date(col(RawTables.DS)).as(DAY), col("pin_id"))
                .agg(max("event_ts").as("ts"), count(lit(1)).as("conversions"))
                .groupBy(col("user_id"), col(DAY))
                .agg(
                        lit(null).cast(seqType).as("eng_seq"),
                        slice(sort_array(collect_list(struct(col("ts"), col("pin_id"))), false), 1, n)
                                .as("conv_seq"),
                        lit(0L).as("clicks"),
                        lit(0L).as("saves"),
                        sum("conversions").as("conversions"));
        Dataset<Row> activity = spread(engagementDaily.unionByName(conversionDaily), first, last, s.featureWindowDays())
                .groupBy("user_id", RawTables.DS)
                .agg(
                        latest(col("eng_seq"), n).as("user_engaged_pins"),
                        latest(col("conv_seq"), n).as("user_converted_pins"),
                        sum("clicks").cast("float").as("user_clicks_28d"),
                        sum("saves").cast("float").as("user_saves_28d"),
                        sum("conversions").cast("float").as("user_conversions_28d"));
        Dataset<Row> population = asOf(users, first, last)
                .select(col("user_id"), col(RawTables.DS), col("country").as("user_country"));
        return population
                .join(activity, new String[] {"user_id", RawTables.DS}, "full_outer")
                .select(
                        col(RawTables.DS),
                        col("user_id"),
                        col("user_country"),
                        coalesce(col("user_engaged_pins"), emptyLongs()).as("user_engaged_pins"),
                        coalesce(col("user_converted_pins"), emptyLongs()).as("user_converted_pins"),
                        coalesce(col("user_clicks_28d"), lit(0f)).as("user_clicks_28d"),
                        coalesce(col("user_saves_28d"), lit(0f)).as("user_saves_28d"),
                        coalesce(col("user_conversions_28d"), lit(0f)).as("user_conversions_28d"));
    }

    /**
     * {@code pin_features} for the days {@code [first, last]}, for the pins of the latest catalog snapshot at or
     * before each day. Columns: ds, pin_id, advertiser_id, pin_category, pin_price_bucket, pin_ctr, pin_cvr,
     * pin_content_embedding.
     */
    public static Dataset<Row> pinFeatures(
            Dataset<Row> pins,
            Dataset<Row> impressions,
            Dataset<Row> engagements,
            Dataset<Row> attributed,
            LocalDate first,
            LocalDate last,
            TrainingDataSettings s) {
        Dataset<Row> impressionDaily = impressions
                .groupBy(col("pin_id"), to_date(col(RawTables.DS)).as(DAY))
                .agg(count(lit(1)).as("impressions"), lit(0L).as("clicks"), lit(0L).as("conversions"));
        Dataset<Row> clickDaily = engagements
                .filter(col("type").equalTo(EngagementType.CLICK.name()))
                .groupBy(col("pin_id"), to_date(col(RawTables.DS)).as(DAY))
                .agg(lit(0L).as("impressions"), count(lit(1)).as("clicks"), lit(0L).as("conversions"));
        Dataset<Row> conversionDaily = attributed
                .groupBy(col("pin_id"), to_date(col(RawTables.DS)).as(DAY))
                .agg(
                        lit(0L).as("impressions"),
                        lit(0L).as("clicks"),
                        count(lit(1)).as("conversions"));
        Dataset<Row> stats = spread(
                        impressionDaily.unionByName(clickDaily).unionByName(conversionDaily),
                        first,
                        last,
                        s.featureWindowDays())
                .groupBy("pin_id", RawTables.DS)
                .agg(
                        sum("impressions").as("impressions"),
                        sum("clicks").as("clicks"),
                        sum("conversions").as("conversions"));
        Dataset<Row> catalog = asOf(pins, first, last).withColumn("_price", coalesce(col("price"), lit(Double.NaN)));
        Dataset<Row> bucketed = priceBucketizer(s).transform(catalog);
        double k = s.priorStrength();
        return bucketed.join(stats, new String[] {"pin_id", RawTables.DS}, "left")
                .select(
                        col(RawTables.DS),
                        col("pin_id"),
                        col("advertiser_id"),
                        col("category").as("pin_category"),
                        col("_bucket").cast("int").as("pin_price_bucket"),
                        smoothed(col("clicks"), col("impressions"), s.ctrPriorMean(), k)
                                .as("pin_ctr"),
                        smoothed(col("conversions"), col("impressions"), s.cvrPriorMean(), k)
                                .as("pin_cvr"),
                        col("content_embedding").as("pin_content_embedding"));
    }

    /** The final {@code training_examples} rows: labelled examples joined with context, user and pin features. */
    public static Dataset<Row> assemble(
            Dataset<Row> examples, Dataset<Row> userFeatures, Dataset<Row> pinFeatures, TrainingDataSettings s) {
        Dataset<Row> u = userFeatures;
        Dataset<Row> p = pinFeatures.withColumnRenamed("advertiser_id", "catalog_advertiser_id");
        Dataset<Row> joined = examples.join(u, new String[] {"user_id", RawTables.DS}, "left")
                .join(p, new String[] {"pin_id", RawTables.DS}, "left");
        return joined.select(
                col(RawTables.DS),
                col("example_id"),
                col("impression_id"),
                col("user_id"),
                col("pin_id"),
                coalesce(col("advertiser_id"), col("catalog_advertiser_id")).as("advertiser_id"),
                col("surface"),
                col("task"),
                col("event_type"),
                col("weight"),
                col("pin_sampling_prob"),
                col("attribution_type"),
                col("click_duration_ms"),
                col("event_ts"),
                UtcDays.hourOf(col("event_ts")).as("hour_of_day"),
                queryTokens(col("surface"), col("query")).as("query_tokens"),
                col("user_country"),
                coalesce(col("user_engaged_pins"), emptyLongs()).as("user_engaged_pins"),
                coalesce(col("user_converted_pins"), emptyLongs()).as("user_converted_pins"),
                coalesce(col("user_clicks_28d"), lit(0f)).as("user_clicks_28d"),
                coalesce(col("user_saves_28d"), lit(0f)).as("user_saves_28d"),
                coalesce(col("user_conversions_28d"), lit(0f)).as("user_conversions_28d"),
                col("pin_category"),
                coalesce(col("pin_price_bucket"), lit(unknownPriceBucket(s))).as("pin_price_bucket"),
                coalesce(col("pin_ctr"), lit((float) s.ctrPriorMean())).as("pin_ctr"),
                coalesce(col("pin_cvr"), lit((float) s.cvrPriorMean())).as("pin_cvr"),
                col("pin_content_embedding"));
    }

    /** Lower-cased whitespace tokens of a search query; empty on other surfaces. */
    static Column queryTokens(Column surface, Column query) {
        return when(
                        surface.equalTo(Surface.SEARCH.name()).and(query.isNotNull()),
                        array_remove(split(lower(trim(query)), "\\s+"), ""))
                .otherwise(array().cast("array<string>"));
    }

    /** Index of the price bucket of pins with no price: one past the last bucket. */
    static int unknownPriceBucket(TrainingDataSettings s) {
        return s.priceSplits().length + 1;
    }

    /** Bucket i of {@code _price} into {@code _bucket}: i = number of splits ≤ price; NaN (unknown) to the last. */
    static Bucketizer priceBucketizer(TrainingDataSettings s) {
        double[] inner = s.priceSplits();
        double[] splits = new double[inner.length + 2];
        splits[0] = Double.NEGATIVE_INFINITY;
        System.arraycopy(inner, 0, splits, 1, inner.length);
        splits[splits.length - 1] = Double.POSITIVE_INFINITY;
        return new Bucketizer()
                .setInputCol("_price")
                .setOutputCol("_bucket")
                .setSplits(splits)
                .setHandleInvalid("keep");
    }

    /**
     * Each daily row (date column {@value #DAY}) once per target day {@code ds} in {@code [first, last]} that it
     * precedes by 1 to {@code windowDays} days.
     */
    static Dataset<Row> spread(Dataset<Row> daily, LocalDate first, LocalDate last, int windowDays) {
        Column from = greatest(date_add(col(DAY), 1), to_date(lit(first.toString())));
        Column to = least(date_add(col(DAY), windowDays), to_date(lit(last.toString())));
        return daily.filter(from.leq(to))
                .withColumn(RawTables.DS, explode(sequence(from, to)))
                .withColumn(RawTables.DS, col(RawTables.DS).cast("string"));
    }

    /** The rows of a daily snapshot table as of each day in {@code [first, last]}: the latest snapshot at or before it. */
    static Dataset<Row> asOf(Dataset<Row> snapshots, LocalDate first, LocalDate last) {
        List<String> days = new ArrayList<>();
        for (LocalDate d = first; !d.isAfter(last); d = d.plusDays(1)) {
            days.add(d.toString());
        }
        Dataset<Row> targets =
                snapshots.sparkSession().createDataset(days, Encoders.STRING()).toDF("_target");
        Dataset<Row> available =
                snapshots.select(col(RawTables.DS).as("_snapshot")).distinct();
        Dataset<Row> pick = targets.join(available, col("_snapshot").leq(col("_target")))
                .groupBy("_target")
                .agg(max("_snapshot").as("_snapshot"));
        return snapshots
                .join(broadcast(pick), snapshots.col(RawTables.DS).equalTo(pick.col("_snapshot")))
                .drop(RawTables.DS, "_snapshot")
                .withColumnRenamed("_target", RawTables.DS);
    }

    /**
     * The {@code n} most recently engaged distinct pins across the collected daily (ts, pin_id) sequences, most recent
     * first: a pin engaged with again moves to the front instead of filling the sequence with repeats, so the
     * sequence holds the user's last {@code n} pins (what the re-engagement bias and the history encoder need).
     */
    private static Column latest(Column dailySequences, int n) {
        return slice(
                array_distinct(
                        sort_array(flatten(collect_list(dailySequences)), false).getField("pin_id")),
                1,
                n);
    }

    private static Column smoothed(Column successes, Column trials, double priorMean, double strength) {
        return coalesce(successes, lit(0L))
                .plus(priorMean * strength)
                .divide(coalesce(trials, lit(0L)).plus(strength))
                .cast("float");
    }

    private static Column emptyLongs() {
        return array().cast("array<bigint>");
    }
}
