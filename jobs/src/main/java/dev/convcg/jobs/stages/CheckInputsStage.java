package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.InputsMissingException;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.io.WriteJournal;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that the run date's upstream log partitions exist and agree: impressions, engagements and the pin and user
 * snapshots must have rows for the day, the conversions table must exist (a day may legitimately bring no conversion
 * report), no import or simulation may be pending in the {@link WriteJournal} (interrupted between two tables), and
 * the day's tables must refer to each other: engagements to impressions of the day or the day before, impressions to
 * the day's pin and user snapshots. A day whose tables come from different writes (a half-written day left by a
 * version without the journal) fails that last check, naming the tables that disagree. Fails with
 * {@link InputsMissingException} (exit code 3) naming what is missing, so a scheduler waits.
 */
public final class CheckInputsStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(CheckInputsStage.class);
    /** Share of a day's rows allowed to refer to a row missing from the table they refer to (late or lost logs). */
    static final double MAX_DANGLING_SHARE = 0.01;

    static final List<String> JOURNALED_STAGES = List.of("import-events", "simulate");
    static final List<String> REQUIRED_DAILY =
            List.of(RawTables.IMPRESSIONS, RawTables.ENGAGEMENTS, RawTables.PINS, RawTables.USERS);

    @Override
    public String name() {
        return "check-inputs";
    }

    @Override
    public StageReport run(StageContext ctx) {
        String ds = ctx.runDate().toString();
        StageReport report = new StageReport();
        List<String> missing = new ArrayList<>();
        WriteJournal journal =
                new WriteJournal(ctx.spark(), ctx.tables(), ctx.config().storageRoot());
        for (String stage : JOURNALED_STAGES) {
            journal.pending(stage)
                    .ifPresent(e -> missing.add(journal.describe(e) + "; rerun " + stage
                            + ", which rolls the interrupted write back first"));
        }
        if (!missing.isEmpty()) {
            throw new InputsMissingException("inputs for " + ds + " are not consistent: " + String.join("; ", missing));
        }
        for (String table : RawTables.ALL) {
            if (!ctx.tables().exists(table)) {
                missing.add(table + " (no table at " + ctx.tables().path(table) + ")");
                continue;
            }
            long rows = ctx.tables().readDays(table, ds, ds).count();
            report.input(table, rows);
            if (rows == 0 && REQUIRED_DAILY.contains(table)) {
                missing.add(table + " ds=" + ds + " (no rows)");
            }
        }
        if (!missing.isEmpty()) {
            throw new InputsMissingException("inputs for " + ds + " are missing: " + String.join(", ", missing));
        }
        String dayBefore = ctx.runDate().minusDays(1).toString();
        List<String> disagree = new ArrayList<>();
        dangling(ctx, RawTables.ENGAGEMENTS, "impression_id", RawTables.IMPRESSIONS, dayBefore, disagree, report);
        dangling(ctx, RawTables.IMPRESSIONS, "pin_id", RawTables.PINS, ds, disagree, report);
        dangling(ctx, RawTables.IMPRESSIONS, "user_id", RawTables.USERS, ds, disagree, report);
        if (!disagree.isEmpty()) {
            throw new InputsMissingException("inputs for " + ds + " disagree (the day looks half-written: reimport "
                    + "it): " + String.join("; ", disagree));
        }
        LOG.info("inputs for {} are present", ds);
        return report;
    }

    /**
     * Counts the day's rows of {@code child} whose {@code key} is not among the {@code parent} rows of
     * [{@code parentFrom}, run date]; adds a line to {@code disagree} when more than {@link #MAX_DANGLING_SHARE} do.
     */
    private static void dangling(
            StageContext ctx,
            String child,
            String key,
            String parent,
            String parentFrom,
            List<String> disagree,
            StageReport report) {
        String ds = ctx.runDate().toString();
        Dataset<Row> rows = ctx.tables().readDays(child, ds, ds).select(key).filter(col(key).isNotNull());
        Dataset<Row> keys =
                ctx.tables().readDays(parent, parentFrom, ds).select(key).distinct();
        Row r = rows.join(keys, rows.col(key).equalTo(keys.col(key)), "left_outer")
                .agg(count(lit(1)), count(when(keys.col(key).isNull(), 1)))
                .first();
        long total = r.getLong(0);
        long missing = r.getLong(1);
        report.count("dangling_" + child + "_" + key, missing);
        if (total > 0 && missing > MAX_DANGLING_SHARE * total) {
            disagree.add(String.format(
                    "%,d of %,d %s rows of %s: %s not in %s %s",
                    missing, total, child, ds, key, parent, parentFrom.equals(ds) ? ds : parentFrom + ".." + ds));
        }
    }
}
