package dev.convcg.core.training;

import static org.apache.spark.sql.types.DataTypes.*;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * The output contract of {@code build-training-data} agreed with the model: column names, order and types of the
 * three Delta tables it writes, all partitioned by {@code ds}. Meaning of each column: docs/training-data.md.
 */
public final class TrainingDataSchemas {
    private TrainingDataSchemas() {}

    public static final String TRAINING_EXAMPLES_TABLE = "training_examples";
    public static final String USER_FEATURES_TABLE = "user_features";
    public static final String PIN_FEATURES_TABLE = "pin_features";

    private static final DataType LONGS = createArrayType(LongType, true);

    public static final StructType USER_FEATURES = new StructType()
            .add("ds", StringType, false)
            .add("user_id", LongType, false)
            .add("user_country", StringType, true)
            .add("user_engaged_pins", LONGS, false)
            .add("user_converted_pins", LONGS, false)
            .add("user_clicks_28d", FloatType, false)
            .add("user_saves_28d", FloatType, false)
            .add("user_conversions_28d", FloatType, false);

    public static final StructType PIN_FEATURES = new StructType()
            .add("ds", StringType, false)
            .add("pin_id", LongType, false)
            .add("advertiser_id", LongType, true)
            .add("pin_category", StringType, true)
            .add("pin_price_bucket", IntegerType, false)
            .add("pin_ctr", FloatType, false)
            .add("pin_cvr", FloatType, false)
            .add("pin_content_embedding", createArrayType(FloatType, false), true);

    public static final StructType TRAINING_EXAMPLES = new StructType()
            .add("ds", StringType, false)
            .add("example_id", StringType, false)
            .add("impression_id", StringType, true)
            .add("user_id", LongType, false)
            .add("pin_id", LongType, false)
            .add("advertiser_id", LongType, true)
            .add("surface", StringType, false)
            .add("task", StringType, false)
            .add("event_type", StringType, false)
            .add("weight", FloatType, false)
            .add("pin_sampling_prob", DoubleType, false)
            .add("attribution_type", StringType, true)
            .add("click_duration_ms", LongType, true)
            .add("event_ts", TimestampType, false)
            .add("hour_of_day", IntegerType, false)
            .add("query_tokens", createArrayType(StringType, true), false)
            .add("user_country", StringType, true)
            .add("user_engaged_pins", LONGS, false)
            .add("user_converted_pins", LONGS, false)
            .add("user_clicks_28d", FloatType, false)
            .add("user_saves_28d", FloatType, false)
            .add("user_conversions_28d", FloatType, false)
            .add("pin_category", StringType, true)
            .add("pin_price_bucket", IntegerType, false)
            .add("pin_ctr", FloatType, false)
            .add("pin_cvr", FloatType, false)
            .add("pin_content_embedding", createArrayType(FloatType, false), true);
}
