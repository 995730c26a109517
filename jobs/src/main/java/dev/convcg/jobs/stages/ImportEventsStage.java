package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.ingest.EventImporter;
import dev.convcg.core.ingest.ImportSettings;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig.ImportSource;
import dev.convcg.jobs.io.EventFile;
import dev.convcg.jobs.io.WriteJournal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a real event log (CSV or Parquet) into the raw tables through the mapping in {@code import-events}. The
 * shape of the input is checked first (the file exists and has rows, every mapped column is in it). Then every row
 * is mapped or quarantined, the quarantine is written (replacing only earlier rejects of the same input under this
 * run date), and the accepted rows replace exactly the day partitions they occupy, or are added to them in append
 * mode. The five raw tables change together: the write is recorded in a {@link WriteJournal}, and an import that was
 * interrupted (killed between two tables) is rolled back when the stage next runs, before anything is read. An input
 * that does not fit its configuration fails with {@link InvalidConfigException} (exit code 2).
 */
public final class ImportEventsStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ImportEventsStage.class);
    private static final String KEY = "convcg.import-events.";

    @Override
    public String name() {
        return EventImporter.STAGE;
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        WriteJournal journal =
                new WriteJournal(ctx.spark(), ctx.tables(), ctx.config().storageRoot());
        journal.pending(name()).ifPresent(journal::rollBack);
        ImportSource src = ctx.config().importSource();
        ImportSettings settings = ctx.config().importSettings();
        EventFile file = readable(src, () -> ctx.step("open " + src.input(), () -> EventFile.open(ctx.spark(), src)));
        requireMappedColumns(file, settings);
        String runDs = ctx.runDate().toString();
        EventImporter.Result result = EventImporter.map(file.read(), settings, ctx.runDate(), file.path(), file.hash());
        try {
            EventImporter.Summary summary =
                    readable(src, () -> ctx.step("map and count", () -> EventImporter.summarize(result)));
            long in = summary.rows();
            long quarantined = summary.quarantinedRows();
            LOG.info(
                    "read {} rows from {} (sha256 {}): {} mapped, {} quarantined, {} exact duplicate rows (kept); "
                            + "accepted days {} (window {} .. {})",
                    in,
                    file.path(),
                    file.hash(),
                    summary.accepted(),
                    quarantined,
                    summary.duplicateRows(),
                    span(summary.days()),
                    result.window().first(),
                    result.window().last());
            if (in == 0) {
                throw new InvalidConfigException(KEY + "input = " + file.path()
                        + (src.csvHeader() && src.format().equals("csv") ? " has a header and no rows" : " is empty"));
            }
            ctx.step("write quarantine", () -> {
                ctx.tables().addMissingColumns(Quarantine.TABLE, result.quarantine(), "stage", "run_ds");
                ctx.tables()
                        .replaceWhere(
                                Quarantine.TABLE,
                                result.quarantine(),
                                "stage = '" + EventImporter.STAGE + "' AND run_ds = '" + runDs + "' AND input_hash = '"
                                        + file.hash() + "'",
                                "stage",
                                "run_ds");
                return null;
            });
            if (quarantined > 0) {
                LOG.info("quarantined by reason: {}", summary.quarantined());
            }
            if (in != summary.accepted() + quarantined) {
                throw new IllegalStateException("row conservation broken: " + in + " in, " + summary.accepted()
                        + " mapped, " + quarantined + " quarantined");
            }
            String where = " (the rejected rows are in the quarantine: stage = '" + EventImporter.STAGE
                    + "', run_ds = '" + runDs + "', input_hash = '" + file.hash() + "')";
            if (summary.allOutsideWindow()) {
                throw new InvalidConfigException(KEY + "input = " + file.path() + ": "
                        + EventImporter.explainAllOutsideWindow(summary, settings, ctx.runDate()) + where);
            }
            if (summary.accepted() == 0) {
                throw new InvalidConfigException(KEY + "input = " + file.path() + ": no row could be mapped; "
                        + quarantined + " rows quarantined by reason " + summary.quarantined() + where);
            }
            if (summary.droppedTimesOfDay() > 0) {
                LOG.warn(
                        "{}within-day-order = FUNNEL replaced the time of day of {} rows that had one: FUNNEL is meant "
                                + "for logs whose times are dates only; NONE keeps the times",
                        KEY,
                        summary.droppedTimesOfDay());
            }
            StageReport report = new StageReport().input(EventImporter.SOURCE, in);
            journal.begin(
                    name(),
                    runDs,
                    file.path() + " (sha256 " + file.hash() + ")",
                    summary.days(),
                    List.copyOf(result.rawTables().keySet()));
            for (Map.Entry<String, Dataset<Row>> e : result.rawTables().entrySet()) {
                Dataset<Row> written = ctx.step(
                        (src.mode() == ImportSource.Mode.APPEND ? "append " : "write ") + e.getKey() + " "
                                + span(summary.days()),
                        () -> write(ctx, src.mode(), e.getKey(), e.getValue(), summary.days()));
                report.output(
                        e.getKey(),
                        ctx.tables().rowsWrittenByLastCommit(e.getKey()).orElseGet(written::count));
            }
            journal.commit(name());
            report.output(Quarantine.TABLE, quarantined);
            report.count("duplicate_rows", summary.duplicateRows());
            return report;
        } finally {
            result.release();
        }
    }

    /**
     * REPLACE_DAYS replaces each day partition the file occupies. APPEND adds the events to those days and adds to
     * each day's pin and user snapshot only the pins and users it does not hold yet. A file of more days than
     * shuffle partitions is rebalanced by day first, so that each day is written as few files of a reasonable size
     * rather than one file per day and task (123 instead of 984 for the Tmall log); a file of few days skips that
     * shuffle. Returns the rows written.
     */
    private static Dataset<Row> write(
            StageContext ctx, ImportSource.Mode mode, String table, Dataset<Row> rows, List<String> days) {
        if (mode == ImportSource.Mode.REPLACE_DAYS) {
            ctx.tables().replaceDayList(table, byDay(ctx, rows, days), days);
            return rows;
        }
        String key = table.equals(RawTables.PINS) ? "pin_id" : table.equals(RawTables.USERS) ? "user_id" : null;
        if (key != null && ctx.tables().exists(table)) {
            Dataset<Row> held = ctx.tables()
                    .read(table)
                    .filter(col(RawTables.DS).isin(days.toArray()))
                    .select(col(key), col(RawTables.DS));
            rows = rows.join(
                    held,
                    rows.col(key)
                            .equalTo(held.col(key))
                            .and(rows.col(RawTables.DS).equalTo(held.col(RawTables.DS))),
                    "left_anti");
        }
        ctx.tables().append(table, byDay(ctx, rows, days), RawTables.DS);
        return rows;
    }

    private static Dataset<Row> byDay(StageContext ctx, Dataset<Row> rows, List<String> days) {
        int partitions = Integer.parseInt(ctx.spark().conf().get("spark.sql.shuffle.partitions"));
        return days.size() > partitions ? rows.hint("rebalance", col(RawTables.DS)) : rows;
    }

    /**
     * Runs a step that reads the input; a file Spark cannot read as the configured format (a truncated or corrupt
     * gzip stream, a CSV file read as Parquet) becomes one line naming the key, the file and the reader's reason.
     */
    private static <T> T readable(ImportSource src, Callable<T> read) throws Exception {
        try {
            return read.call();
        } catch (Exception e) {
            boolean unreadable = false;
            Throwable reason = e;
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                unreadable |= t instanceof SparkThrowable st
                        && st.getCondition() != null
                        && st.getCondition().startsWith("FAILED_READ_FILE");
                reason = t;
            }
            if (!unreadable) {
                throw e;
            }
            throw new InvalidConfigException(
                    KEY + "input = " + src.input() + " cannot be read as " + src.format()
                            + " (" + KEY + "format): " + reason.getClass().getSimpleName() + ": "
                            + String.valueOf(reason.getMessage())
                                    .lines()
                                    .findFirst()
                                    .orElse(""),
                    e);
        }
    }

    /** Fails with one line per configuration when a mapped column is not in the file. */
    private static void requireMappedColumns(EventFile file, ImportSettings settings) {
        List<String> missing = new ArrayList<>();
        settings.columns().byKey().forEach((key, column) -> {
            if (!file.columns().contains(column)) {
                missing.add(KEY + key + " = \"" + column + "\"");
            }
        });
        if (!missing.isEmpty()) {
            throw new InvalidConfigException(String.join(", ", missing) + ": " + file.path()
                    + " has no such column; its " + "columns (" + file.columnsOrigin() + ") are " + file.columns());
        }
    }

    private static String span(List<String> days) {
        return days.isEmpty()
                ? "none"
                : days.size() == 1
                        ? days.get(0)
                        : days.get(0) + ".." + days.get(days.size() - 1) + " (" + days.size() + " days)";
    }
}
