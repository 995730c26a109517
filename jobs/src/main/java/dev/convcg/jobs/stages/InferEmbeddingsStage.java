package dev.convcg.jobs.stages;

import static dev.convcg.core.embeddings.EmbeddingColumns.*;
import static org.apache.spark.sql.functions.*;

import dev.convcg.core.embeddings.EmbeddingSmoother;
import dev.convcg.core.embeddings.LineageRule;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.EmbeddingSettings.InferEmbeddings;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.jobs.io.TextTable;
import dev.convcg.modelspark.inference.EmbeddingInference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the day's pin and user embeddings: the served model (LATEST, or {@code infer-embeddings.model-version})
 * embeds the pins of the day's {@code pin_features} snapshot and the users of its {@code user_features} snapshot
 * (once per configured surface) on the executors; the fresh embeddings are smoothed against the latest earlier
 * published day ({@link EmbeddingSmoother}) and written atomically ({@link EmbeddingStore}). The lineage rule is
 * checked for both tables before any inference runs, so a refused run costs nothing and writes nothing.
 */
public final class InferEmbeddingsStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(InferEmbeddingsStage.class);

    @Override
    public String name() {
        return "infer-embeddings";
    }

    /** What to smooth a table against. */
    private record History(LineageRule.Decision decision, Optional<LocalDate> previousDay, long previousRows) {}

    /**
     * Publishes the conversion model's embeddings and, when {@code engagement-retriever.enabled}, the engagement
     * retriever's beside them (its own model store and embedding root, {@link PipelineConfig#engagementRetrieverConfig}).
     */
    @Override
    public StageReport run(StageContext ctx) throws Exception {
        return Retrievers.both(ctx, "engagement retriever's embeddings", InferEmbeddingsStage::publishModel);
    }

    private static StageReport publishModel(StageContext ctx) throws Exception {
        InferEmbeddings s = ctx.config().inferEmbeddings();
        LocalDate ds = ctx.runDate();
        ModelStore models = new ModelStore(Path.of(ctx.config().train().modelStore()));
        String version = s.modelVersion().isBlank()
                ? models.latestVersion()
                        .orElseThrow(
                                () -> new IllegalStateException(
                                        "model store " + models.root()
                                                + " has no LATEST model: run the train stage first, or set infer-embeddings.model-version"))
                : s.modelVersion();
        Path artifactDir = models.artifactDir(version);
        if (!Files.isDirectory(artifactDir)) {
            throw new IllegalStateException(
                    "model version '" + version + "' is not in the model store: no directory " + artifactDir);
        }
        ModelStore.TrainingRecord record = models.record(version);
        EmbeddingStore out = new EmbeddingStore(ctx.spark(), s.outputRoot());
        EmbeddingSmoother smoother = new EmbeddingSmoother(s.smoothing());
        LOG.info(
                "publishing embeddings of {} for ds={} with model {} (lineage {}), {} alpha={} retention={}d, to {}",
                "pins and users",
                ds,
                version,
                record.lineageId(),
                s.smoothing().mode(),
                s.smoothing().alpha(),
                s.smoothing().retentionDays(),
                out.root());

        History pinHistory = history(out, StorageLayout.PIN_EMBEDDINGS, ds, version, record.lineageId(), s, smoother);
        History userHistory = history(out, StorageLayout.USER_EMBEDDINGS, ds, version, record.lineageId(), s, smoother);

        StageReport report = new StageReport();
        Dataset<Row> pins = ctx.tables()
                .readDays(TrainingDataSchemas.PIN_FEATURES_TABLE, ds.toString(), ds.toString())
                .drop(RawTables.DS);
        Dataset<Row> users = ctx.tables()
                .readDays(TrainingDataSchemas.USER_FEATURES_TABLE, ds.toString(), ds.toString())
                .drop(RawTables.DS);
        long pinCount = checkSnapshot(ctx, pins, TrainingDataSchemas.PIN_FEATURES_TABLE, "pin_id", ds);
        long userCount = checkSnapshot(ctx, users, TrainingDataSchemas.USER_FEATURES_TABLE, "user_id", ds);
        publish(
                ctx,
                out,
                smoother,
                s,
                StorageLayout.PIN_EMBEDDINGS,
                pins,
                List.of("pin_id"),
                false,
                pinCount,
                artifactDir,
                version,
                record.lineageId(),
                pinHistory,
                report);
        publish(
                ctx,
                out,
                smoother,
                s,
                StorageLayout.USER_EMBEDDINGS,
                withUserContext(ctx, users, s),
                List.of("user_id", "surface"),
                true,
                userCount * s.userSurfaces().size(),
                artifactDir,
                version,
                record.lineageId(),
                userHistory,
                report);
        return report;
    }

    private static History history(
            EmbeddingStore out,
            String table,
            LocalDate ds,
            String version,
            String lineage,
            InferEmbeddings s,
            EmbeddingSmoother smoother) {
        Optional<LocalDate> latest = out.latestBefore(table, ds);
        if (latest.isPresent() && !latest.get().isAfter(LocalDate.parse(smoother.retentionCutoff(ds)))) {
            LOG.info(
                    "{}: the latest published day {} is outside the {}-day retention window: starting afresh",
                    table,
                    latest.get(),
                    s.smoothing().retentionDays());
            latest = Optional.empty();
        }
        Optional<LocalDate> prev = latest;
        Optional<EmbeddingStore.Manifest> m = prev.flatMap(d -> out.manifest(table, d));
        LineageRule.Decision decision = LineageRule.decide(
                table,
                version,
                lineage,
                m.map(EmbeddingStore.Manifest::lineageId),
                m.map(x -> "ds=" + x.ds() + ", model " + x.modelVersion() + " at " + out.dayPath(table, prev.get()))
                        .orElse("none"),
                s.reset());
        if (decision == LineageRule.Decision.RESET) {
            LOG.warn(
                    "{}: infer-embeddings.reset = true: discarding the published history{}; rows are marked smoothing"
                            + " = RESET",
                    table,
                    m.map(x -> " (ds=" + x.ds() + ", lineage " + x.lineageId() + ")")
                            .orElse(""));
        }
        LOG.info(
                "{}: {} against {}",
                table,
                decision,
                prev.map(LocalDate::toString).orElse("no earlier day"));
        return new History(decision, prev, m.map(EmbeddingStore.Manifest::rows).orElse(0L));
    }

    /** Rows of the day's snapshot; fails on a missing day or null keys rather than publish a partial table. */
    private static long checkSnapshot(StageContext ctx, Dataset<Row> rows, String table, String key, LocalDate ds) {
        Row c = rows.agg(count(lit(1)), sum(when(col(key).isNull(), 1).otherwise(0)))
                .first();
        if (c.getLong(0) == 0) {
            throw new IllegalStateException(table + " has no rows for ds=" + ds + " at "
                    + ctx.tables().path(table) + ": run build-training-data for that day first");
        }
        if (!c.isNullAt(1) && c.getLong(1) > 0) {
            throw new IllegalStateException(table + " ds=" + ds + " has " + c.getLong(1) + " rows with a null " + key
                    + ": the snapshot is corrupt; fix it rather than publish embeddings without those rows");
        }
        return c.getLong(0);
    }

    /** Each user once per configured surface, at the configured hour, with no query: the user tower's context. */
    static Dataset<Row> withUserContext(StageContext ctx, Dataset<Row> users, InferEmbeddings s) {
        List<Row> surfaces =
                s.userSurfaces().stream().map(x -> RowFactory.create(x.name())).toList();
        Dataset<Row> context =
                ctx.spark().createDataFrame(surfaces, new StructType().add("surface", DataTypes.StringType, false));
        return users.crossJoin(context)
                .withColumn("hour_of_day", lit(s.userHourOfDay()))
                .withColumn("query_tokens", array().cast("array<string>"));
    }

    private static void publish(
            StageContext ctx,
            EmbeddingStore out,
            EmbeddingSmoother smoother,
            InferEmbeddings s,
            String table,
            Dataset<Row> entities,
            List<String> keys,
            boolean userTower,
            long n,
            Path artifactDir,
            String version,
            String lineage,
            History h,
            StageReport report)
            throws Exception {
        LocalDate ds = ctx.runDate();
        Dataset<Row> fresh = EmbeddingInference.embed(
                        entities, keys, userTower, artifactDir, s.encoder(), table, n, ds.toString())
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long t0 = System.nanoTime();
            long embedded = ctx.step("embed " + table, fresh::count);
            double sec = (System.nanoTime() - t0) / 1e9;
            LOG.info(
                    "{}: {} fresh embeddings in {} s ({} rows/s)",
                    table,
                    embedded,
                    String.format("%.1f", sec),
                    String.format("%.0f", embedded / Math.max(sec, 1e-9)));
            Dataset<Row> previous = h.decision() == LineageRule.Decision.CONTINUE
                    ? out.readDay(table, h.previousDay().get())
                    : null;
            Dataset<Row> published = smoother.smooth(fresh, previous, keys, ds, lineage, h.decision());
            EmbeddingStore.Manifest m = ctx.step(
                    "smooth and publish " + table,
                    () -> out.publish(
                            table,
                            ds,
                            published,
                            new EmbeddingStore.Manifest(
                                    table,
                                    ds.toString(),
                                    version,
                                    lineage,
                                    h.decision() == LineageRule.Decision.RESET
                                            ? RESET
                                            : s.smoothing().mode().name(),
                                    0,
                                    0,
                                    null,
                                    "infer-embeddings")));
            Dataset<Row> byKind = out.readDay(table, ds)
                    .groupBy(SMOOTHING, CARRIED_OVER)
                    .count()
                    .orderBy(SMOOTHING, CARRIED_OVER)
                    .cache();
            long averaged = 0;
            for (Row r : byKind.collectAsList()) {
                if (!r.getBoolean(1) && !NONE.equals(r.getString(0)) && !RESET.equals(r.getString(0))) {
                    averaged += r.getLong(2);
                }
            }
            long dropped = h.decision() == LineageRule.Decision.CONTINUE
                    ? h.previousRows() - averaged - m.carriedOver()
                    : h.previousRows();
            LOG.info(
                    "{} ds={}: {} rows ({} fresh, {} smoothed with the previous day, {} carried over, {} of the "
                            + "previous {} rows dropped by retention or reset)\n{}",
                    table,
                    ds,
                    m.rows(),
                    embedded,
                    averaged,
                    m.carriedOver(),
                    dropped,
                    h.previousRows(),
                    TextTable.render(byKind, 20));
            byKind.unpersist();
            String features = table.equals(StorageLayout.PIN_EMBEDDINGS)
                    ? TrainingDataSchemas.PIN_FEATURES_TABLE
                    : TrainingDataSchemas.USER_FEATURES_TABLE;
            report.input(features, n).output(table, m.rows());
        } finally {
            fresh.unpersist();
        }
    }
}
