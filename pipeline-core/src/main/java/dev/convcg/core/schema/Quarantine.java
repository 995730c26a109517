package dev.convcg.core.schema;

import static org.apache.spark.sql.functions.*;
import static org.apache.spark.sql.types.DataTypes.StringType;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Rows rejected by a stage, one per rejected input row, with the reason. Nothing is dropped silently:
 * every stage that filters input writes what it filtered here, partitioned by the run date.
 */
public final class Quarantine {
    private Quarantine() {}

    public static final String TABLE = "quarantine";

    public static final StructType SCHEMA = RawTables.struct(
            RawTables.field("source_table", StringType, false),
            RawTables.field("reason", StringType, false),
            RawTables.field("row_json", StringType, false),
            RawTables.field("stage", StringType, false),
            RawTables.field("run_ds", StringType, false));

    /**
     * Turns rejected rows into quarantine records; {@code reasonColumn} names the column of {@code rejected} that holds
     * the reason code, and is left out of the row's JSON.
     */
    public static Dataset<Row> of(Dataset<Row> rejected, String sourceTable, String reasonColumn, String stage, String runDs) {
        Column[] row = java.util.Arrays.stream(rejected.columns()).filter(c -> !c.equals(reasonColumn))
                .map(c -> col("`" + c + "`")).toArray(Column[]::new);
        return rejected.select(
                lit(sourceTable).as("source_table"),
                col("`" + reasonColumn + "`").as("reason"),
                to_json(struct(row)).as("row_json"),
                lit(stage).as("stage"),
                lit(runDs).as("run_ds"));
    }

    /**
     * Turns rejected rows into quarantine records. {@code reason} is a column expression evaluated on each row
     * (a reason code such as {@code NULL_USER_ID}).
     */
    public static Dataset<Row> of(Dataset<Row> rejected, String sourceTable, Column reason, String stage, String runDs) {
        Column[] all = java.util.Arrays.stream(rejected.columns()).map(c -> col("`" + c + "`")).toArray(Column[]::new);
        return rejected.select(
                lit(sourceTable).as("source_table"),
                reason.as("reason"),
                to_json(struct(all)).as("row_json"),
                lit(stage).as("stage"),
                lit(runDs).as("run_ds"));
    }

}
