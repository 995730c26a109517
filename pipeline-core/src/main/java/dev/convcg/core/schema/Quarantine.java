package dev.convcg.core.schema;

import static org.apache.spark.sql.functions.*;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Rows rejected by a stage, one per rejected input row, with the reason. Nothing is dropped silently:
 * every stage that filters input writes what it filtered here, partitioned by the run date. Rows rejected from an
 * imported file also name the file and its content hash ({@code input_path}, {@code input_hash}; null for other
 * stages), so that importing several files under one run date keeps the rejects of each. {@code user_id} holds the
 * row's user id where one could be read, so that erasure ({@code forget-users}) finds a user's rejected rows too.
 */
public final class Quarantine {
    private Quarantine() {}

    public static final String TABLE = "quarantine";

    public static final StructType SCHEMA = RawTables.struct(
            RawTables.field("source_table", StringType, false),
            RawTables.field("reason", StringType, false),
            RawTables.field("row_json", StringType, false),
            RawTables.field("stage", StringType, false),
            RawTables.field("run_ds", StringType, false),
            RawTables.field("input_path", StringType, true),
            RawTables.field("input_hash", StringType, true),
            RawTables.field("user_id", LongType, true));

    /**
     * Turns rejected rows into quarantine records; {@code reasonColumn} names the column of {@code rejected} that holds
     * the reason code, and is left out of the row's JSON.
     */
    public static Dataset<Row> of(
            Dataset<Row> rejected, String sourceTable, String reasonColumn, String stage, String runDs) {
        Column[] row = Arrays.stream(rejected.columns())
                .filter(c -> !c.equals(reasonColumn))
                .map(c -> col("`" + c + "`"))
                .toArray(Column[]::new);
        return rejected.select(
                lit(sourceTable).as("source_table"),
                col("`" + reasonColumn + "`").as("reason"),
                to_json(struct(row)).as("row_json"),
                lit(stage).as("stage"),
                lit(runDs).as("run_ds"),
                userId(rejected, "user_id"));
    }

    /**
     * Turns rejected rows whose JSON is already made ({@code jsonColumn}, e.g. of source columns that were dropped
     * since) into quarantine records; {@code userIdColumn} holds the mapped user id (null where none could be read).
     */
    public static Dataset<Row> ofJson(
            Dataset<Row> rejected,
            String sourceTable,
            String reasonColumn,
            String jsonColumn,
            String userIdColumn,
            String stage,
            String runDs) {
        return rejected.select(
                lit(sourceTable).as("source_table"),
                col("`" + reasonColumn + "`").as("reason"),
                col("`" + jsonColumn + "`").as("row_json"),
                lit(stage).as("stage"),
                lit(runDs).as("run_ds"),
                userId(rejected, userIdColumn));
    }

    /** Quarantine records tagged with the imported input they were read from. */
    public static Dataset<Row> fromInput(Dataset<Row> quarantine, String inputPath, String inputHash) {
        return quarantine.withColumn("input_path", lit(inputPath)).withColumn("input_hash", lit(inputHash));
    }

    /**
     * Turns rejected rows into quarantine records. {@code reason} is a column expression evaluated on each row
     * (a reason code such as {@code NULL_USER_ID}).
     */
    public static Dataset<Row> of(
            Dataset<Row> rejected, String sourceTable, Column reason, String stage, String runDs) {
        Column[] all =
                Arrays.stream(rejected.columns()).map(c -> col("`" + c + "`")).toArray(Column[]::new);
        return rejected.select(
                lit(sourceTable).as("source_table"),
                reason.as("reason"),
                to_json(struct(all)).as("row_json"),
                lit(stage).as("stage"),
                lit(runDs).as("run_ds"),
                userId(rejected, "user_id"));
    }

    /**
     * Which quarantine rows belong to one of {@code userIds}: by {@code user_id}, or, for rows written before that
     * column existed, by the {@code user_id} field of their JSON. {@code quarantineColumns} are the table's columns.
     */
    public static Column ofUsers(Collection<Long> userIds, List<String> quarantineColumns) {
        Object[] ids = userIds.toArray();
        Column fromJson =
                get_json_object(col("row_json"), "$.user_id").try_cast("long").isin(ids);
        if (!quarantineColumns.contains("user_id")) {
            return coalesce(fromJson, lit(false));
        }
        return coalesce(col("user_id").isin(ids), lit(false))
                .or(col("user_id").isNull().and(coalesce(fromJson, lit(false))));
    }

    private static Column userId(Dataset<Row> rejected, String column) {
        return (Arrays.asList(rejected.columns()).contains(column)
                        ? col("`" + column + "`").try_cast("long")
                        : lit(null).cast("long"))
                .as("user_id");
    }
}
