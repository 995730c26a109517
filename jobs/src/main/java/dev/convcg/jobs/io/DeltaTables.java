package dev.convcg.jobs.io;

import static org.apache.spark.sql.functions.col;

import dev.convcg.core.schema.RawTables;
import io.delta.tables.DeltaTable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The Delta tables of one storage root ({@code <root>/tables/<name>}). Every write is one Delta transaction, so a
 * reader sees the previous version or the new one, never a half-written table, and a failed write leaves the
 * previous version in place. Day partitions are replaced with {@code replaceWhere}, which makes re-running a day
 * idempotent.
 */
public final class DeltaTables {
    private final SparkSession spark;
    private final String root;

    public DeltaTables(SparkSession spark, String storageRoot) {
        this.spark = spark;
        this.root = storageRoot.replaceAll("/+$", "") + "/tables";
    }

    public String path(String table) {
        return root + "/" + table;
    }

    public boolean exists(String table) {
        return DeltaTable.isDeltaTable(spark, path(table));
    }

    /** Reads a table; fails with the table's name and path when it is not there. */
    public Dataset<Row> read(String table) {
        if (!exists(table)) {
            throw new IllegalStateException("table '" + table + "' does not exist at " + path(table)
                    + ": run the stage that writes it first");
        }
        return spark.read().format("delta").load(path(table));
    }

    /** Reads the day partitions [fromDs, toDs] of a ds-partitioned table. */
    public Dataset<Row> readDays(String table, String fromDs, String toDs) {
        return read(table).filter(col(RawTables.DS).between(fromDs, toDs));
    }

    /** Replaces the whole table in one transaction. */
    public void replaceAll(String table, Dataset<Row> rows, String... partitionBy) {
        rows.write().format("delta").mode(SaveMode.Overwrite).option("overwriteSchema", "true")
                .partitionBy(partitionBy).save(path(table));
    }

    /**
     * Replaces exactly the day partitions [fromDs, toDs] in one transaction; rows outside that range are refused by
     * Delta's replaceWhere constraint check rather than written.
     */
    public void replaceDays(String table, Dataset<Row> rows, String fromDs, String toDs) {
        replaceWhere(table, rows, RawTables.DS + " >= '" + fromDs + "' AND " + RawTables.DS + " <= '" + toDs + "'",
                RawTables.DS);
    }

    /** Replaces the rows matching {@code predicate} (a SQL condition on partition columns) in one transaction. */
    public void replaceWhere(String table, Dataset<Row> rows, String predicate, String... partitionBy) {
        rows.write().format("delta").mode(SaveMode.Overwrite).option("replaceWhere", predicate)
                .partitionBy(partitionBy).save(path(table));
    }
}
