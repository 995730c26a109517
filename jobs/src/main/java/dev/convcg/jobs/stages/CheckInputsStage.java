package dev.convcg.jobs.stages;

import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.InputsMissingException;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that the run date's upstream log partitions exist: impressions, engagements and the pin and user snapshots
 * must have rows for the day, and the conversions table must exist (a day may legitimately bring no conversion
 * report). Fails with {@link InputsMissingException} (exit code 3) naming what is missing, so a scheduler waits.
 */
public final class CheckInputsStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(CheckInputsStage.class);
    static final List<String> REQUIRED_DAILY = List.of(RawTables.IMPRESSIONS, RawTables.ENGAGEMENTS, RawTables.PINS,
            RawTables.USERS);

    @Override
    public String name() {
        return "check-inputs";
    }

    @Override
    public StageReport run(StageContext ctx) {
        String ds = ctx.runDate().toString();
        StageReport report = new StageReport();
        List<String> missing = new ArrayList<>();
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
        LOG.info("inputs for {} are present", ds);
        return report;
    }
}
