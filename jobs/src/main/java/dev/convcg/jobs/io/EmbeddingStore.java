package dev.convcg.jobs.io;

import static org.apache.spark.sql.functions.*;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.convcg.core.embeddings.EmbeddingColumns;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The published embedding tables: Parquet directories {@code <root>/<table>/ds=<day>/}, each completed by a
 * {@value #MARKER} written last. Parquet has no transactions, so a day is written to
 * {@code <root>/<table>/_staging/ds=<day>-<uuid>} and renamed into place only once complete: a failed or killed run
 * never touches an existing {@code ds=} directory, and re-running a day replaces it. Readers take a day only when
 * its marker is there. Names starting with {@code _} are skipped by Spark's partition discovery, so reading the
 * table root never sees staging data. On object stores (S3) a directory rename is a copy, not atomic: the marker,
 * written after the rename, is then what tells a complete day (docs/embeddings.md).
 */
public final class EmbeddingStore {
    public static final String MARKER = "_PUBLISHED.json";
    private static final String STAGING = "_staging";
    private static final String TRASH = "_trash";
    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingStore.class);

    private final SparkSession spark;
    private final String root;
    private final FileSystem fs;

    public EmbeddingStore(SparkSession spark, String root) {
        this.spark = spark;
        this.root = root.replaceAll("/+$", "");
        try {
            this.fs = new Path(this.root).getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the filesystem of " + root, e);
        }
    }

    /**
     * What a published day holds, written as {@value #MARKER} beside the Parquet files.
     *
     * @param table        pin_embeddings or user_embeddings
     * @param ds           the day
     * @param modelVersion model that produced the day's fresh embeddings
     * @param lineageId    its lineage: the day's rows may only be averaged with a model of the same lineage
     * @param smoothing    mode configured for the run (rows say what each got)
     * @param rows         rows written
     * @param carriedOver  rows carried over from an earlier day
     * @param writtenAt    ISO-8601 instant
     * @param note         what wrote it (infer-embeddings, or forget-users with the count removed)
     */
    public record Manifest(
            String table,
            String ds,
            String modelVersion,
            String lineageId,
            String smoothing,
            long rows,
            long carriedOver,
            String writtenAt,
            String note) {}

    public String root() {
        return root;
    }

    public String tablePath(String table) {
        return root + "/" + table;
    }

    public String dayPath(String table, LocalDate ds) {
        return tablePath(table) + "/ds=" + ds;
    }

    /** Days with a complete (marked) directory, oldest first. */
    public List<LocalDate> publishedDays(String table) {
        List<LocalDate> days = new ArrayList<>();
        try {
            Path dir = new Path(tablePath(table));
            if (!fs.exists(dir)) {
                return days;
            }
            for (FileStatus s : fs.listStatus(dir)) {
                String name = s.getPath().getName();
                if (!s.isDirectory() || !name.startsWith("ds=")) {
                    continue;
                }
                try {
                    LocalDate d = LocalDate.parse(name.substring(3));
                    if (fs.exists(new Path(s.getPath(), MARKER))) {
                        days.add(d);
                    } else {
                        LOG.warn("{} has no {}: an unfinished publish, ignored", s.getPath(), MARKER);
                    }
                } catch (DateTimeParseException e) {
                    LOG.warn("{}: not a ds=yyyy-MM-dd directory, ignored", s.getPath());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + tablePath(table), e);
        }
        days.sort(null);
        return days;
    }

    /** The latest published day strictly before {@code ds}. */
    public Optional<LocalDate> latestBefore(String table, LocalDate ds) {
        return publishedDays(table).stream().filter(d -> d.isBefore(ds)).reduce((a, b) -> b);
    }

    public Optional<Manifest> manifest(String table, LocalDate ds) {
        Path marker = new Path(dayPath(table, ds), MARKER);
        try {
            if (!fs.exists(marker)) {
                return Optional.empty();
            }
            try (var in = fs.open(marker)) {
                return Optional.of(
                        GSON.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), Manifest.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + marker, e);
        }
    }

    /** The rows of a published day (without a ds column: the day is the directory). */
    public Dataset<Row> readDay(String table, LocalDate ds) {
        if (manifest(table, ds).isEmpty()) {
            throw new IllegalStateException(
                    table + " has no published day " + ds + " at " + dayPath(table, ds) + " (no " + MARKER + ")");
        }
        return spark.read().parquet(dayPath(table, ds));
    }

    /**
     * Writes {@code rows} as the day {@code ds} of {@code table}: staging directory, then rename into place, then
     * the marker. On failure the staging directory is removed and any existing directory of that day is left as
     * it was. Returns the marker written (rows and carried-over counts filled in).
     */
    public Manifest publish(String table, LocalDate ds, Dataset<Row> rows, Manifest manifest) {
        Path staging = new Path(tablePath(table) + "/" + STAGING + "/ds=" + ds + "-" + UUID.randomUUID());
        Path target = new Path(dayPath(table, ds));
        try {
            removeLeftovers(new Path(tablePath(table) + "/" + STAGING), "ds=" + ds + "-");
            rows.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString());
            Row counts = spark.read()
                    .parquet(staging.toString())
                    .agg(
                            count(lit(1)),
                            sum(when(col(EmbeddingColumns.CARRIED_OVER), 1).otherwise(0)))
                    .first();
            Manifest done = new Manifest(
                    table,
                    ds.toString(),
                    manifest.modelVersion(),
                    manifest.lineageId(),
                    manifest.smoothing(),
                    counts.getLong(0),
                    counts.isNullAt(1) ? 0 : counts.getLong(1),
                    Instant.now().toString(),
                    manifest.note());
            Path trash = null;
            if (fs.exists(target)) {
                trash = new Path(tablePath(table) + "/" + TRASH + "/ds=" + ds + "-" + UUID.randomUUID());
                fs.mkdirs(trash.getParent());
                rename(target, trash);
            }
            try {
                rename(staging, target);
            } catch (IOException e) {
                if (trash != null) {
                    rename(trash, target);
                }
                throw e;
            }
            writeMarker(target, done);
            if (trash != null) {
                fs.delete(trash, true);
            }
            LOG.info(
                    "published {} ds={}: {} rows ({} carried over) at {}",
                    table,
                    ds,
                    done.rows(),
                    done.carriedOver(),
                    target);
            return done;
        } catch (IOException e) {
            deleteQuietly(staging);
            throw new UncheckedIOException("cannot publish " + table + " ds=" + ds + " at " + target, e);
        } catch (RuntimeException e) {
            deleteQuietly(staging);
            throw e;
        }
    }

    /**
     * Removes the staging and trash leftovers of failed or killed runs of a table (they may hold rows that a
     * later publish or erasure removed). Not safe while another run publishes the same table.
     */
    public void removeScratch(String table) {
        for (String d : List.of(STAGING, TRASH)) {
            deleteQuietly(new Path(tablePath(table) + "/" + d));
        }
    }

    private void writeMarker(Path dir, Manifest m) throws IOException {
        Path tmp = new Path(dir, "_" + MARKER + ".tmp");
        try (OutputStream out = fs.create(tmp, true)) {
            out.write(GSON.toJson(m).getBytes(StandardCharsets.UTF_8));
        }
        rename(tmp, new Path(dir, MARKER));
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename " + from + " -> " + to + " failed");
        }
    }

    private void removeLeftovers(Path stagingRoot, String prefix) throws IOException {
        if (!fs.exists(stagingRoot)) {
            return;
        }
        for (FileStatus s : fs.listStatus(stagingRoot)) {
            if (s.getPath().getName().startsWith(prefix)) {
                LOG.info("removing {} left by an earlier failed run", s.getPath());
                fs.delete(s.getPath(), true);
            }
        }
    }

    private void deleteQuietly(Path p) {
        try {
            fs.delete(p, true);
        } catch (IOException e) {
            LOG.warn("cannot remove staging directory {}: {}", p, e.getMessage());
        }
    }
}
