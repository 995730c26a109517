package dev.convcg.core.schema;

import static org.apache.spark.sql.types.DataTypes.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The input contract: schemas of the raw log tables every stage reads. All are Delta tables partitioned by
 * {@code ds} (UTC date, {@code yyyy-MM-dd}); see docs/data-model.md for the meaning of each column.
 * Conversions are partitioned by the day they were <em>reported</em>, which is how advertiser feeds arrive.
 */
public final class RawTables {
    private RawTables() {}

    public static final String DS = "ds";

    public static final String IMPRESSIONS = "impressions";
    public static final String ENGAGEMENTS = "engagements";
    public static final String CONVERSIONS = "conversions";
    public static final String PINS = "pins";
    public static final String USERS = "users";
    public static final List<String> ALL = List.of(IMPRESSIONS, ENGAGEMENTS, CONVERSIONS, PINS, USERS);
    /** The event logs (partitioned by event day), as opposed to the pin and user snapshots. */
    public static final List<String> EVENTS = List.of(IMPRESSIONS, ENGAGEMENTS, CONVERSIONS);

    public static final StructType IMPRESSIONS_SCHEMA = struct(
            field("impression_id", StringType, false),
            field("request_id", StringType, false),
            field("user_id", LongType, true),
            field("pin_id", LongType, true),
            field("advertiser_id", LongType, true),
            field("surface", StringType, true),
            field("query", StringType, true),
            field("ts", TimestampType, true),
            field("position", IntegerType, true),
            field(DS, StringType, false));

    public static final StructType ENGAGEMENTS_SCHEMA = struct(
            field("impression_id", StringType, true),
            field("user_id", LongType, true),
            field("pin_id", LongType, true),
            field("type", StringType, true),
            field("ts", TimestampType, true),
            field("click_duration_ms", LongType, true),
            field(DS, StringType, false));

    public static final StructType CONVERSIONS_SCHEMA = struct(
            field("conversion_id", StringType, true),
            field("user_id", LongType, true),
            field("pin_id", LongType, true),
            field("advertiser_id", LongType, true),
            field("type", StringType, true),
            field("event_ts", TimestampType, true),
            field("reported_ts", TimestampType, true),
            field("value", DoubleType, true),
            field(DS, StringType, false));

    public static final StructType PINS_SCHEMA = struct(
            field("pin_id", LongType, false),
            field("advertiser_id", LongType, true),
            field("category", StringType, true),
            field("price", DoubleType, true),
            field("created_ds", StringType, true),
            field("content_embedding", createArrayType(FloatType, false), true),
            field(DS, StringType, false));

    public static final StructType USERS_SCHEMA = struct(
            field("user_id", LongType, false),
            field("country", StringType, true),
            field("signup_ds", StringType, true),
            field("interest_categories", createArrayType(StringType, false), true),
            field(DS, StringType, false));

    /** Schema of a raw table by name. */
    public static StructType schemaOf(String table) {
        return switch (table) {
            case IMPRESSIONS -> IMPRESSIONS_SCHEMA;
            case ENGAGEMENTS -> ENGAGEMENTS_SCHEMA;
            case CONVERSIONS -> CONVERSIONS_SCHEMA;
            case PINS -> PINS_SCHEMA;
            case USERS -> USERS_SCHEMA;
            default -> throw new IllegalArgumentException("unknown raw table '" + table + "'; known: " + ALL);
        };
    }

    /**
     * How {@code actual} breaks the contract of raw table {@code table} (docs/data-model.md): one line per contract
     * column that is missing or has another type. Extra columns are allowed. Empty when it keeps the contract.
     */
    public static List<String> contractViolations(String table, StructType actual) {
        List<String> out = new ArrayList<>();
        for (StructField want : schemaOf(table).fields()) {
            Optional<StructField> have = Arrays.stream(actual.fields())
                    .filter(f -> f.name().equals(want.name()))
                    .findFirst();
            if (have.isEmpty()) {
                out.add("column '" + want.name() + "' (" + want.dataType().simpleString() + ") is missing");
            } else if (!have.get()
                    .dataType()
                    .simpleString()
                    .equals(want.dataType().simpleString())) {
                out.add("column '" + want.name() + "' is "
                        + have.get().dataType().simpleString() + ", the contract says "
                        + want.dataType().simpleString());
            }
        }
        return out;
    }

    static StructType struct(StructField... fields) {
        return createStructType(Arrays.asList(fields));
    }

    static StructField field(String name, DataType type, boolean nullable) {
        return createStructField(name, type, nullable);
    }
}
