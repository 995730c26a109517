package dev.convcg.jobs.stages;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.DataQualitySummary;
import dev.convcg.core.training.RawValidation;
import dev.convcg.core.training.TrainingDataBuilder;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.core.training.TrainingDataSettings;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.io.TextFiles;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the training examples of the last {@code training-data.lookback-days} days up to the run date from the raw
 * logs (see {@link TrainingDataBuilder}), with everything reported so far: those day partitions of
 * {@code training_examples} and of the feature snapshots are replaced in one transaction each, so late conversions
 * re-label earlier days and a re-run of a day is idempotent. The quarantine is written first; the stage then fails, before
 * any example is written, if a table's quarantined share is above the threshold (its data-quality summary, without
 * the example counts, is still written). The summary's example counts are read from the examples as written.
 */
public final class BuildTrainingDataStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(BuildTrainingDataStage.class);

    @Override
    public String name() {
        return RawValidation.STAGE;
    }

    /** Where the data-quality summary of a run goes, beside the examples table. */
    public static String summaryPath(StageContext ctx, LocalDate runDate) {
        return ctx.tables().path(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE + "_quality") + "/" + runDate + ".json";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        TrainingDataSettings s = ctx.config().trainingData();
        LocalDate d = ctx.runDate();
        String from = TrainingDataBuilder.inputStart(d, s).toString();
        Map<String, Dataset<Row>> raw = new LinkedHashMap<>();
        for (String table : RawTables.ALL) {
            raw.put(table, ctx.tables().readDays(table, from, d.toString()));
        }
        LOG.info(
                "building examples {}..{} from raw logs {}..{}", TrainingDataBuilder.firstExampleDay(d, s), d, from, d);
        TrainingDataBuilder.TrainingData td = TrainingDataBuilder.build(raw, d, s);
        try {
            ctx.step("write quarantine", () -> {
                ctx.tables().addMissingColumns(Quarantine.TABLE, td.quarantine(), "stage", "run_ds");
                ctx.tables()
                        .replaceWhere(
                                Quarantine.TABLE,
                                td.quarantine(),
                                "stage = '" + RawValidation.STAGE + "' AND run_ds = '" + d + "'",
                                "stage",
                                "run_ds");
                return null;
            });
            DataQualitySummary inputs =
                    ctx.step("data-quality summary of the inputs", () -> DataQualitySummary.ofInputs(td));
            try {
                inputs.requireQuarantineShareAtMost(s.quarantineThreshold());
            } catch (RuntimeException e) {
                writeSummary(ctx, d, inputs);
                throw e;
            }
            ctx.step("write " + TrainingDataSchemas.TRAINING_EXAMPLES_TABLE, () -> {
                ctx.tables()
                        .replaceWhere(
                                TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
                                td.examples(),
                                td.examplesReplaceWhere(),
                                RawTables.DS);
                return null;
            });
            DataQualitySummary summary = ctx.step(
                    "data-quality summary of the examples written",
                    () -> inputs.withExamples(ctx.tables()
                            .readDays(
                                    TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
                                    td.firstExampleDay().toString(),
                                    d.toString())));
            writeSummary(ctx, d, summary);
            ctx.step("write feature snapshots", () -> {
                ctx.tables()
                        .replaceWhere(
                                TrainingDataSchemas.USER_FEATURES_TABLE,
                                td.userFeatures(),
                                td.snapshotsReplaceWhere(),
                                RawTables.DS);
                ctx.tables()
                        .replaceWhere(
                                TrainingDataSchemas.PIN_FEATURES_TABLE,
                                td.pinFeatures(),
                                td.snapshotsReplaceWhere(),
                                RawTables.DS);
                return null;
            });
            StageReport report = new StageReport();
            report.output(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE, summary.exampleCount());
            return report;
        } finally {
            td.release();
        }
    }

    private static void writeSummary(StageContext ctx, LocalDate d, DataQualitySummary summary) {
        String json = summary.toJson();
        TextFiles.write(ctx.spark(), summaryPath(ctx, d), json);
        LOG.info("data-quality summary ({}): {}", summaryPath(ctx, d), json);
    }
}
