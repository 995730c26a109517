package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.sim.Simulator;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.io.TextTable;
import dev.convcg.jobs.io.WriteJournal;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the simulated raw tables and the ground-truth side tables, replacing any previous simulation (the world is
 * a function of the settings, so a rerun writes the same data). The raw tables change together through a
 * {@link WriteJournal}. Ends with a per-table, per-day summary.
 */
public final class SimulateStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(SimulateStage.class);

    @Override
    public String name() {
        return "simulate";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        SimulationSettings s = ctx.config().simulate();
        Simulator sim = new Simulator(ctx.spark(), s);
        WriteJournal journal =
                new WriteJournal(ctx.spark(), ctx.tables(), ctx.config().storageRoot());
        journal.pending(name()).ifPresent(journal::rollBack);
        StageReport report = new StageReport();
        LOG.info(
                "simulating {} days from {}: {} users, {} pins, {} advertisers, ~{} impressions/day",
                s.days(),
                s.startDate(),
                s.users(),
                s.pins(),
                s.advertisers(),
                Math.round(s.users() * s.activeUserRate() * s.impressionsPerUserDay()));
        journal.begin(name(), ctx.runDate().toString(), "the simulated world", List.of(), RawTables.ALL);
        for (String table : RawTables.ALL) {
            ctx.step("write " + table, () -> {
                ctx.tables().replaceAll(table, sim.table(table), RawTables.DS);
                return null;
            });
        }
        ctx.step("write ground truth", () -> {
            ctx.tables().replaceAll(Simulator.TRUTH_USERS, sim.truthUsers());
            ctx.tables().replaceAll(Simulator.TRUTH_PINS, sim.truthPins());
            return null;
        });
        journal.commit(name());
        Dataset<Row> perDay = null;
        for (String table : RawTables.ALL) {
            Dataset<Row> counts = ctx.tables()
                    .read(table)
                    .groupBy(RawTables.DS)
                    .agg(count(lit(1)).as(table));
            perDay = perDay == null ? counts : perDay.join(counts, new String[] {RawTables.DS}, "full_outer");
        }
        Dataset<Row> summary = perDay.orderBy(RawTables.DS).na().fill(0);
        LOG.info("rows written per day:\n{}", TextTable.render(summary, s.days() + 8));
        Row totals = summary.agg(
                        sum(RawTables.IMPRESSIONS),
                        sum(RawTables.ENGAGEMENTS),
                        sum(RawTables.CONVERSIONS),
                        sum(RawTables.PINS),
                        sum(RawTables.USERS))
                .first();
        for (int i = 0; i < RawTables.ALL.size(); i++) {
            report.output(RawTables.ALL.get(i), totals.getLong(i));
        }
        Row rates = ctx.tables()
                .read(RawTables.ENGAGEMENTS)
                .agg(
                        sum(when(col("type").equalTo("CLICK"), 1).otherwise(0)),
                        sum(when(col("type").equalTo("SAVE"), 1).otherwise(0)))
                .first();
        LOG.info(
                "clicks {} ({} per impression), saves {}, conversion reports {} ({} per click)",
                rates.getLong(0),
                String.format("%.4f", rates.getLong(0) / (double) totals.getLong(0)),
                rates.getLong(1),
                totals.getLong(2),
                String.format("%.4f", totals.getLong(2) / (double) Math.max(1, rates.getLong(0))));
        return report;
    }
}
