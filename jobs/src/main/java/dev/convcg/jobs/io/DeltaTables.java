package dev.convcg.jobs.io;

import static org.apache.spark.sql.functions.col;

import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.config.InvalidConfigException;
import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
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
        this.root = StorageLayout.under(storageRoot, StorageLayout.TABLES);
    }

    public String path(String table) {
        return root + "/" + table;
    }

    public boolean exists(String table) {
        return DeltaTable.isDeltaTable(spark, path(table));
    }

    /**
     * Reads a table; fails with the table's name and path when it is not there. A raw table is checked against its
     * contract first (from the Delta log, before any Spark job), so a dropped, renamed or retyped column fails here
     * with one line naming the table and the column (exit code 2) rather than deep inside a plan.
     */
    public Dataset<Row> read(String table) {
        if (!exists(table)) {
            throw new IllegalStateException(
                    "table '" + table + "' does not exist at " + path(table) + ": run the stage that writes it first");
        }
        Dataset<Row> rows = spark.read().format("delta").load(path(table));
        if (RawTables.ALL.contains(table)) {
            List<String> drift = RawTables.contractViolations(table, rows.schema());
            if (!drift.isEmpty()) {
                throw new InvalidConfigException("raw table '" + table + "' at " + path(table) + " breaks its contract "
                        + "(docs/data-model.md): " + String.join("; ", drift) + "; its columns are "
                        + List.of(rows.columns()));
            }
        }
        return rows;
    }

    /** Reads the day partitions [fromDs, toDs] of a ds-partitioned table. */
    public Dataset<Row> readDays(String table, String fromDs, String toDs) {
        return read(table).filter(col(RawTables.DS).between(fromDs, toDs));
    }

    /** Replaces the whole table in one transaction. */
    public void replaceAll(String table, Dataset<Row> rows, String... partitionBy) {
        rows.write()
                .format("delta")
                .mode(SaveMode.Overwrite)
                .option("overwriteSchema", "true")
                .partitionBy(partitionBy)
                .save(path(table));
    }

    /**
     * Replaces exactly the day partitions [fromDs, toDs] in one transaction; rows outside that range are refused by
     * Delta's replaceWhere constraint check rather than written.
     */
    public void replaceDays(String table, Dataset<Row> rows, String fromDs, String toDs) {
        replaceWhere(
                table,
                rows,
                RawTables.DS + " >= '" + fromDs + "' AND " + RawTables.DS + " <= '" + toDs + "'",
                RawTables.DS);
    }

    /**
     * Replaces exactly the listed day partitions in one transaction, whatever lies between them; rows on other days
     * are refused by Delta's replaceWhere constraint check rather than written.
     */
    public void replaceDayList(String table, Dataset<Row> rows, Collection<String> days) {
        if (days.isEmpty()) {
            throw new IllegalArgumentException("no day to replace in table '" + table + "'");
        }
        String list = days.stream()
                .map(d -> {
                    if (!d.matches("\\d{4}-\\d{2}-\\d{2}")) {
                        throw new IllegalArgumentException(
                                "day '" + d + "' of table '" + table + "' is not yyyy-MM-dd");
                    }
                    return "'" + d + "'";
                })
                .collect(Collectors.joining(", "));
        replaceWhere(table, rows, RawTables.DS + " IN (" + list + ")", RawTables.DS);
    }

    /** Adds rows to a table (creating it if need be) in one transaction, deleting nothing. */
    public void append(String table, Dataset<Row> rows, String... partitionBy) {
        rows.write()
                .format("delta")
                .mode(SaveMode.Append)
                .partitionBy(partitionBy)
                .save(path(table));
    }

    /**
     * Rows written by the table's latest commit, from Delta's operation metrics (no scan); empty when the commit has
     * no such metric (metrics turned off). Meant for the writer that just committed.
     */
    public OptionalLong rowsWrittenByLastCommit(String table) {
        Row last = DeltaTable.forPath(spark, path(table))
                .history(1)
                .select("operationMetrics")
                .first();
        Map<String, String> metrics = last.isNullAt(0) ? Map.of() : last.getJavaMap(0);
        String rows = metrics.get("numOutputRows");
        return rows == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(rows));
    }

    /** The table's latest Delta version; empty when the table does not exist. */
    public OptionalLong version(String table) {
        if (!exists(table)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(DeltaTable.forPath(spark, path(table))
                .history(1)
                .select("version")
                .first()
                .getLong(0));
    }

    /** Puts the table back to an earlier version in one new commit (Delta RESTORE); later history is kept. */
    public void restore(String table, long version) {
        DeltaTable.forPath(spark, path(table)).restoreToVersion(version);
    }

    /** Deletes a table's directory, as if it had never been written. */
    public void drop(String table) {
        Path p = new Path(path(table));
        try {
            p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete table '" + table + "' at " + p, e);
        }
    }

    /**
     * Adds to an existing table the columns of {@code like} it lacks (an empty append with schema merging), so that
     * a predicate or a write can name them. Does nothing when the table does not exist or has them all.
     */
    public void addMissingColumns(String table, Dataset<Row> like, String... partitionBy) {
        if (!exists(table)) {
            return;
        }
        List<String> have = List.of(read(table).columns());
        if (Arrays.stream(like.columns()).allMatch(have::contains)) {
            return;
        }
        like.limit(0)
                .write()
                .format("delta")
                .mode(SaveMode.Append)
                .option("mergeSchema", "true")
                .partitionBy(partitionBy)
                .save(path(table));
    }

    /**
     * Replaces the rows matching {@code predicate} (a SQL condition, best on partition columns; data columns make Delta
     * rewrite the files holding matches) in one transaction.
     */
    public void replaceWhere(String table, Dataset<Row> rows, String predicate, String... partitionBy) {
        rows.write()
                .format("delta")
                .mode(SaveMode.Overwrite)
                .option("replaceWhere", predicate)
                .partitionBy(partitionBy)
                .save(path(table));
    }
}
