package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.jobs.Stage;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.EmbeddingSettings.ForgetUsers;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.io.AlsFactorStore;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.StorageLayout;
import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Erasure: removes the given users from every published {@code user_embeddings} day (each day rewritten atomically,
 * like a publish) and deletes their rows from the configured Delta tables (training examples, feature snapshots,
 * raw logs, the quarantine of rejected rows), then vacuums those tables with zero retention so the rows also leave the
 * disk. Logs the rows removed per table. Do not run it while {@code infer-embeddings} runs: both replace user_embeddings days.
 */
public final class ForgetUsersStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ForgetUsersStage.class);
    private static final String VACUUM_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled";
    private static final String LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism";

    @Override
    public String name() {
        return "forget-users";
    }

    @Override
    public StageReport run(StageContext ctx) throws Exception {
        ForgetUsers f = ctx.config().forgetUsers();
        Set<Long> ids = new LinkedHashSet<>(f.userIds());
        if (!f.userIdsFile().isBlank()) {
            ids.addAll(readIds(ctx, f.userIdsFile()));
        }
        if (ids.isEmpty()) {
            throw new IllegalStateException(
                    "no user ids to forget: set forget-users.user-ids = [..] or " + "forget-users.user-ids-file");
        }
        LOG.info("forgetting {} user(s) in user_embeddings and tables {}", ids.size(), f.tables());
        Column forgotten = col("user_id").isin(ids.toArray());
        StageReport report = new StageReport();
        for (String table : f.tables()) {
            if (!ctx.tables().exists(table)) {
                LOG.info("{}: no table at {}, skipped", table, ctx.tables().path(table));
                continue;
            }
            Dataset<Row> rows = ctx.tables().read(table);
            Column theirs;
            if (table.equals(Quarantine.TABLE)) {
                theirs = Quarantine.ofUsers(ids, List.of(rows.columns()));
            } else if (rows.schema().getFieldIndex("user_id").isEmpty()) {
                throw new InvalidConfigException("forget-users.tables lists '" + table + "' but it has no user_id "
                        + "column: remove it from the list");
            } else {
                theirs = forgotten;
            }
            long removed = ctx.step("delete from " + table, () -> {
                long n = rows.filter(theirs).count();
                if (n > 0) {
                    DeltaTable.forPath(ctx.spark(), ctx.tables().path(table)).delete(theirs);
                    if (f.vacuum()) {
                        vacuum(ctx, table);
                    }
                }
                return n;
            });
            LOG.info("{}: removed {} rows", table, removed);
            report.output(table, removed);
        }
        int alsFits = new AlsFactorStore(ctx.spark(), ctx.config().storageRoot()).deleteAll();
        LOG.info(
                "{}: removed {} stored ALS fit(s) (users' factors; the next evaluate refits)",
                StorageLayout.ALS_BASELINE,
                alsFits);
        report.output(StorageLayout.ALS_BASELINE, alsFits);
        report.output(
                StorageLayout.USER_EMBEDDINGS,
                forgetEmbeddings(
                        ctx,
                        new EmbeddingStore(
                                ctx.spark(), ctx.config().inferEmbeddings().outputRoot()),
                        forgotten));
        if (ctx.config().engagementRetriever()) {
            String root =
                    ctx.config().engagementRetrieverConfig().inferEmbeddings().outputRoot();
            report.output(
                    Retrievers.ENGAGEMENT_REPORT_PREFIX + StorageLayout.USER_EMBEDDINGS,
                    forgetEmbeddings(ctx, new EmbeddingStore(ctx.spark(), root), forgotten));
        }
        return report;
    }

    /** Rewrites every published user_embeddings day of {@code out} that holds a forgotten user; rows removed. */
    private static long forgetEmbeddings(StageContext ctx, EmbeddingStore out, Column forgotten) throws Exception {
        long removedEmbeddings = 0;
        for (LocalDate d : out.publishedDays(StorageLayout.USER_EMBEDDINGS)) {
            Dataset<Row> day = out.readDay(StorageLayout.USER_EMBEDDINGS, d);
            long n = day.filter(forgotten).count();
            if (n == 0) {
                continue;
            }
            EmbeddingStore.Manifest m =
                    out.manifest(StorageLayout.USER_EMBEDDINGS, d).orElseThrow();
            ctx.step(
                    "rewrite user_embeddings ds=" + d + " under " + out.root(),
                    () -> out.publish(
                            StorageLayout.USER_EMBEDDINGS,
                            d,
                            day.filter(not(forgotten)),
                            new EmbeddingStore.Manifest(
                                    m.table(),
                                    m.ds(),
                                    m.modelVersion(),
                                    m.lineageId(),
                                    m.smoothing(),
                                    0,
                                    0,
                                    null,
                                    m.note() + "; forget-users removed " + n + " rows")));
            LOG.info("user_embeddings ds={} under {}: removed {} rows", d, out.root(), n);
            removedEmbeddings += n;
        }
        out.removeScratch(StorageLayout.USER_EMBEDDINGS);
        return removedEmbeddings;
    }

    /**
     * VACUUM with zero retention. Delta lists the table's files with one task per
     * {@value #LISTING_PARALLELISM} (10,000 by default: minutes of empty tasks on a small table), so unless that is
     * set explicitly it is lowered to four tasks per core for the vacuum.
     */
    private static void vacuum(StageContext ctx, String table) {
        var conf = ctx.spark().conf();
        String check = conf.get(VACUUM_CHECK, "true");
        boolean listingSet = conf.contains(LISTING_PARALLELISM);
        conf.set(VACUUM_CHECK, "false");
        if (!listingSet) {
            conf.set(
                    LISTING_PARALLELISM,
                    String.valueOf(4 * ctx.spark().sparkContext().defaultParallelism()));
        }
        try {
            DeltaTable.forPath(ctx.spark(), ctx.tables().path(table)).vacuum(0.0);
        } finally {
            conf.set(VACUUM_CHECK, check);
            if (!listingSet) {
                conf.unset(LISTING_PARALLELISM);
            }
        }
    }

    /** One id per line; blank lines and '#' comments skipped; anything else fails naming the line. */
    static List<Long> readIds(StageContext ctx, String file) {
        Path p = new Path(file);
        List<Long> ids = new ArrayList<>();
        try {
            FileSystem fs = p.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
            if (!fs.exists(p)) {
                throw new IllegalStateException("forget-users.user-ids-file = " + file + ": no such file");
            }
            String[] lines;
            try (var in = fs.open(p)) {
                lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n");
            }
            for (int i = 0; i < lines.length; i++) {
                String l = lines[i].trim();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                try {
                    ids.add(Long.parseLong(l));
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("forget-users.user-ids-file " + file + " line " + (i + 1) + ": \""
                            + l + "\" is not an integer user id");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return ids;
    }
}
