package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.ingest.EventImporter;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.io.TextTable;
import dev.convcg.jobs.config.PipelineConfig.ImportSource;
import java.util.Map;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a real event log (CSV or Parquet) into the raw tables through the mapping in {@code import-events}. The
 * imported days replace the same days of the raw tables; unmappable rows go to the quarantine with their reason.
 */
public final class ImportEventsStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ImportEventsStage.class);

    @Override
    public String name() {
        return EventImporter.STAGE;
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        ImportSource src = ctx.config().importSource();
        if (src.input().isBlank()) {
            throw new IllegalArgumentException("convcg.import-events.input is empty: set it to the file to import");
        }
        Dataset<Row> events = read(ctx, src).cache();
        String runDs = ctx.runDate().toString();
        EventImporter.Result result = EventImporter.map(events, ctx.config().importSettings(), runDs);
        long in = events.count();
        long quarantined = result.quarantine().count();
        long accepted = result.accepted().count();
        LOG.info("read {} rows from {}: {} mapped, {} quarantined", in, src.input(), accepted, quarantined);
        if (in != accepted + quarantined) {
            throw new IllegalStateException("row conservation broken: " + in + " in, " + accepted + " mapped, "
                    + quarantined + " quarantined");
        }
        StageReport report = new StageReport().input(EventImporter.SOURCE, in);
        Row span = result.accepted().agg(min(RawTables.DS), max(RawTables.DS)).first();
        if (span.isNullAt(0)) {
            throw new IllegalStateException("no row of " + src.input() + " could be mapped; see the quarantine");
        }
        String from = span.getString(0), to = span.getString(1);
        for (Map.Entry<String, Dataset<Row>> e : result.rawTables().entrySet()) {
            ctx.step("write " + e.getKey() + " " + from + ".." + to, () -> {
                ctx.tables().replaceDays(e.getKey(), e.getValue(), from, to);
                return null;
            });
            report.output(e.getKey(), ctx.tables().readDays(e.getKey(), from, to).count());
        }
        ctx.tables().replaceWhere(Quarantine.TABLE, result.quarantine(),
                "stage = '" + EventImporter.STAGE + "' AND run_ds = '" + runDs + "'", "stage", "run_ds");
        report.output(Quarantine.TABLE, quarantined);
        if (quarantined > 0) {
            LOG.info("quarantine by reason:\n{}", TextTable.render(result.quarantine().groupBy("reason").count(), 50));
        }
        events.unpersist();
        return report;
    }

    private static Dataset<Row> read(StageContext ctx, ImportSource src) {
        DataFrameReader reader = ctx.spark().read();
        if (src.format().equals("parquet")) {
            return reader.parquet(src.input());
        }
        if (src.csvHeader()) {
            return reader.option("header", "true").option("inferSchema", "false").csv(src.input());
        }
        StructType schema = new StructType();
        for (String c : src.columns()) {
            schema = schema.add(c, DataTypes.StringType, true);
        }
        return reader.schema(schema).option("mode", "PERMISSIVE").csv(src.input());
    }
}
