package dev.convcg.modelspark.train;

import static org.apache.spark.sql.types.DataTypes.*;

import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A hand-made {@code training_examples} table with the contract's columns and a planted structure: user u converts
 * and engages with pins of group u % GROUPS and sees, without engaging, random pins. A model that learns anything
 * lowers its loss on it quickly.
 */
public final class TrainingExamplesFixture {
    public static final int USERS = 120, PINS = 240, GROUPS = 8, CONTENT_DIM = 16;

    public static final StructType SCHEMA = new StructType()
            .add("example_id", StringType)
            .add("impression_id", StringType)
            .add("user_id", LongType)
            .add("pin_id", LongType)
            .add("advertiser_id", LongType)
            .add("surface", StringType)
            .add("task", StringType)
            .add("event_type", StringType)
            .add("weight", FloatType)
            .add("pin_sampling_prob", DoubleType)
            .add("attribution_type", StringType)
            .add("click_duration_ms", LongType)
            .add("event_ts", TimestampType)
            .add("hour_of_day", IntegerType)
            .add("query_tokens", createArrayType(StringType))
            .add("user_country", StringType)
            .add("user_engaged_pins", createArrayType(LongType))
            .add("user_converted_pins", createArrayType(LongType))
            .add("user_clicks_28d", FloatType)
            .add("user_saves_28d", FloatType)
            .add("user_conversions_28d", FloatType)
            .add("pin_category", StringType)
            .add("pin_price_bucket", IntegerType)
            .add("pin_ctr", FloatType)
            .add("pin_cvr", FloatType)
            .add("pin_content_embedding", createArrayType(FloatType))
            .add("ds", StringType);

    private TrainingExamplesFixture() {}

    public static Dataset<Row> days(SparkSession spark, LocalDate first, int days, long seed) {
        List<Row> rows = new ArrayList<>();
        String[] surfaces = {"HOME_FEED", "RELATED_PINS", "SEARCH"};
        for (int d = 0; d < days; d++) {
            String ds = first.plusDays(d).toString();
            SplittableRandom r = new SplittableRandom(seed * 1000 + d);
            for (int u = 0; u < USERS; u++) {
                int group = u % GROUPS;
                for (int k = 0; k < 6; k++) {
                    boolean negative = k >= 3;
                    int pin = negative ? r.nextInt(PINS) : group + GROUPS * r.nextInt(PINS / GROUPS);
                    String task = negative ? "NEGATIVE" : (k == 0 ? "CONVERSION" : "ENGAGEMENT");
                    String surface = surfaces[r.nextInt(3)];
                    rows.add(RowFactory.create(
                            ds + "-" + u + "-" + k,
                            ds + "-" + u + "-" + k,
                            (long) u,
                            1000L + pin,
                            500L + pin % 20,
                            surface,
                            task,
                            negative ? "IMPRESSION" : "CLICK",
                            1.0f,
                            1.0 / PINS,
                            null,
                            null,
                            Timestamp.valueOf(ds + " 12:00:00"),
                            12 + k,
                            surface.equals("SEARCH") ? new String[] {"g" + group} : new String[0],
                            "US",
                            new Long[] {1000L + group, 1000L + group + GROUPS},
                            new Long[0],
                            3f,
                            1f,
                            0.2f,
                            "cat" + (pin % GROUPS),
                            pin % 10,
                            0.05f,
                            0.01f,
                            content(pin),
                            ds));
                }
            }
        }
        return spark.createDataFrame(rows, SCHEMA);
    }

    private static Float[] content(int pin) {
        if (pin % 5 == 0) {
            return null;
        }
        Float[] v = new Float[CONTENT_DIM];
        for (int i = 0; i < CONTENT_DIM; i++) {
            v[i] = i == pin % GROUPS ? 1f : 0f;
        }
        return v;
    }
}
