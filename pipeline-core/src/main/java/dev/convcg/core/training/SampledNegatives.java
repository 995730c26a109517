package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.TrainingDataSettings.NegativeSampling;
import dev.convcg.core.training.TrainingDataSettings.SampledNegativeSettings;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Negatives drawn from the catalog of each example's day, for logs that record no served-but-unengaged impressions
 * (most real logs): for every positive example, {@code per-positive} pins drawn with replacement from the day's
 * catalog, uniformly or by popularity (1 + the pin's positives in the run's examples), never the example's own pin
 * (a draw that hits it is redrawn, at most {@value #ATTEMPTS} times). Each becomes a NEGATIVE row with event_type
 * {@value ExampleLabeler#SAMPLED}, the positive's user and context, and in {@code pin_sampling_prob} the probability
 * of drawing that pin, which the model's logQ correction uses. Draws are a seeded hash of the example id, so a rerun
 * of a day draws the same pins.
 */
public final class SampledNegatives {
    static final int ATTEMPTS = 8;

    private SampledNegatives() {}

    /**
     * @param labelled examples of {@code [first, last]} with their {@code pin_sampling_prob} ({@link ExampleLabeler}
     *                 columns); NEGATIVE rows among them are ignored
     * @param pins     the raw pins snapshots (pin_id, advertiser_id, ds, ...)
     * @return NEGATIVE rows in {@code labelled}'s columns, all nullable (call only when {@code sampled-negatives} is enabled)
     */
    public static Dataset<Row> sample(
            Dataset<Row> labelled, Dataset<Row> pins, LocalDate first, LocalDate last, TrainingDataSettings s) {
        SampledNegativeSettings n = s.sampledNegatives();
        Dataset<Row> positives = labelled.filter(col("task").notEqual(ExampleLabeler.NEGATIVE));
        Dataset<Row> catalog =
                FeatureBuilder.asOf(pins, first, last).select(col(RawTables.DS), col("pin_id"), col("advertiser_id"));
        if (n.distribution() == NegativeSampling.POPULARITY) {
            Dataset<Row> counts = positives
                    .groupBy(col("pin_id").as("_pin"))
                    .agg(count(lit(1)).as("_positives"));
            catalog = catalog.join(counts, catalog.col("pin_id").equalTo(counts.col("_pin")), "left")
                    .withColumn("_weight", lit(1.0).plus(coalesce(col("_positives"), lit(0L))))
                    .drop("_pin", "_positives");
        } else {
            catalog = catalog.withColumn("_weight", lit(1.0));
        }
        Map<String, DayCatalog> days = new HashMap<>();
        for (Row r : catalog.groupBy(RawTables.DS)
                .agg(sort_array(collect_list(struct(col("pin_id"), col("advertiser_id"), col("_weight"))))
                        .as("_pins"))
                .collectAsList()) {
            days.put(r.getString(0), DayCatalog.of(r.getList(1)));
        }
        Broadcast<Map<String, DayCatalog>> shared = JavaSparkContext.fromSparkContext(
                        labelled.sparkSession().sparkContext())
                .broadcast(days);
        StructType schema = new StructType(Arrays.stream(labelled.schema().fields())
                .map(f -> new StructField(f.name(), f.dataType(), true, f.metadata()))
                .toArray(StructField[]::new));
        String[] fields = schema.fieldNames();
        int ds = schema.fieldIndex(RawTables.DS),
                exampleId = schema.fieldIndex("example_id"),
                pin = schema.fieldIndex("pin_id"),
                adv = schema.fieldIndex("advertiser_id"),
                task = schema.fieldIndex("task"),
                eventType = schema.fieldIndex("event_type"),
                weight = schema.fieldIndex("weight"),
                impression = schema.fieldIndex("impression_id"),
                attribution = schema.fieldIndex("attribution_type"),
                duration = schema.fieldIndex("click_duration_ms"),
                prob = schema.fieldIndex("pin_sampling_prob");
        int perPositive = n.perPositive();
        long seed = s.seed();
        Dataset<Row> keyed = positives.withColumn("_draw_key", xxhash64(lit(seed), col("example_id")));
        int key = fields.length;
        return keyed.flatMap(
                (FlatMapFunction<Row, Row>) r -> {
                    DayCatalog day = shared.value().get(r.getString(ds));
                    List<Row> out = new ArrayList<>(perPositive);
                    if (day == null) {
                        return out.iterator();
                    }
                    long own = r.getLong(pin);
                    for (int k = 0; k < perPositive; k++) {
                        int drawn = -1;
                        for (int a = 0; a < ATTEMPTS && drawn < 0; a++) {
                            int i = day.draw(uniform(r.getLong(key), k, a));
                            drawn = day.pins[i] == own ? -1 : i;
                        }
                        if (drawn < 0) {
                            continue;
                        }
                        Object[] v = new Object[fields.length];
                        for (int c = 0; c < fields.length; c++) {
                            v[c] = r.get(c);
                        }
                        v[exampleId] = "S:" + k + ":" + r.getString(exampleId);
                        v[impression] = null;
                        v[pin] = day.pins[drawn];
                        v[adv] = day.advertisers[drawn];
                        v[task] = ExampleLabeler.NEGATIVE;
                        v[eventType] = ExampleLabeler.SAMPLED;
                        v[weight] = 1.0f;
                        v[attribution] = null;
                        v[duration] = null;
                        v[prob] = day.probability(drawn);
                        out.add(RowFactory.create(v));
                    }
                    return out.iterator();
                },
                Encoders.row(schema));
    }

    /** A uniform number in [0, 1) for draw {@code k}, attempt {@code a} of a positive. */
    static double uniform(long key, int k, int a) {
        long z = key + 0x9E3779B97F4A7C15L * (1 + k * (long) ATTEMPTS + a);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    /** One day's catalog as a cumulative distribution over its pins (ordered by pin id). */
    static final class DayCatalog implements Serializable {
        final long[] pins;
        final long[] advertisers;
        final double[] cumulative;

        private DayCatalog(long[] pins, long[] advertisers, double[] cumulative) {
            this.pins = pins;
            this.advertisers = advertisers;
            this.cumulative = cumulative;
        }

        static DayCatalog of(List<Row> rows) {
            int n = rows.size();
            long[] pins = new long[n];
            long[] advertisers = new long[n];
            double[] cumulative = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                pins[i] = r.getLong(0);
                advertisers[i] = r.isNullAt(1) ? 0L : r.getLong(1);
                total += r.getDouble(2);
                cumulative[i] = total;
            }
            return new DayCatalog(pins, advertisers, cumulative);
        }

        /** The pin index whose cumulative range holds {@code u · total}. */
        int draw(double u) {
            double target = u * cumulative[cumulative.length - 1];
            int i = Arrays.binarySearch(cumulative, target);
            i = i >= 0 ? i + 1 : -i - 1;
            return Math.min(i, cumulative.length - 1);
        }

        /** The probability of drawing pin index {@code i}. */
        double probability(int i) {
            double w = cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
            return w / cumulative[cumulative.length - 1];
        }
    }
}
