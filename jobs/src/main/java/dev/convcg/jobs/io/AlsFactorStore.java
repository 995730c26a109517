package dev.convcg.jobs.io;

import com.google.gson.Gson;
import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.EvaluationSettings.AlsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The ALS baseline's fitted factors, kept so that a nightly {@code evaluate} refits ALS only every
 * {@code evaluate.als.refit-every-days} (docs/evaluation.md). Layout under {@code <storage.root>/baselines/als}:
 * {@code ds=<last training day>/users}, {@code /pins} (Parquet: id, embedding) and {@code /_FIT.json} (settings,
 * window, rows), the fit assembled beside its place and renamed into it, so a reader sees whole fits or none.
 */
public final class AlsFactorStore {
    /** A fit's settings, window and row counts, beside its factors. */
    static final String FIT_FILE = "_FIT.json";

    private final SparkSession spark;
    private final Path root;

    public AlsFactorStore(SparkSession spark, String storageRoot) {
        this.spark = spark;
        this.root = new Path(StorageLayout.under(storageRoot, StorageLayout.ALS_BASELINE));
    }

    /** What a stored fit was fitted on and with. */
    public record Fit(String settings, String trainFrom, String trainTo, long users, long pins) {}

    /** The identity of a fit's settings (everything that changes the factors; not the cadence). */
    public static String identity(AlsSettings s) {
        return String.format(
                Locale.ROOT,
                "rank=%d reg-param=%s alpha=%s iterations=%d seed=%d conversion-weight=%s",
                s.rank(),
                s.regParam(),
                s.alpha(),
                s.iterations(),
                s.seed(),
                s.conversionWeight());
    }

    /**
     * The most recent stored fit with these settings whose training window ends on {@code trainTo} or fewer than
     * {@code refitEveryDays} days before it (never after it: a fit must not have seen the evaluated days).
     */
    public Optional<Stored> reusable(AlsSettings s, LocalDate trainTo) {
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(root)) {
                return Optional.empty();
            }
            String identity = identity(s);
            Optional<Stored> best = Optional.empty();
            for (FileStatus d : fs.listStatus(root)) {
                String name = d.getPath().getName();
                Path fit = new Path(d.getPath(), FIT_FILE);
                if (!d.isDirectory() || !name.startsWith("ds=") || !fs.exists(fit)) {
                    continue;
                }
                LocalDate day = LocalDate.parse(name.substring(3));
                Fit f;
                try (var in = fs.open(fit)) {
                    f = new Gson().fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), Fit.class);
                }
                if (day.isAfter(trainTo)
                        || !day.plusDays(s.refitEveryDays()).isAfter(trainTo)
                        || !identity.equals(f.settings())) {
                    continue;
                }
                Stored candidate = new Stored(day, f, d.getPath().toString());
                best = best.isEmpty() || best.get().day().isBefore(day) ? Optional.of(candidate) : best;
            }
            return best;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    /** A fit found on storage. */
    public record Stored(LocalDate day, Fit fit, String path) {
        public Baselines.Embeddings read(SparkSession spark) {
            return new Baselines.Embeddings(
                    spark.read().parquet(path + "/users"), spark.read().parquet(path + "/pins"));
        }
    }

    /** Writes a fit for the window {@code trainFrom..trainTo}, replacing one of the same day, and returns it read back. */
    public Stored store(AlsSettings s, LocalDate trainFrom, LocalDate trainTo, Baselines.Embeddings e) {
        Path target = new Path(root, "ds=" + trainTo);
        Path staging = new Path(root, "_staging/ds=" + trainTo + "-" + UUID.randomUUID());
        e.users().write().parquet(staging + "/users");
        e.pins().write().parquet(staging + "/pins");
        Fit fit = new Fit(
                identity(s),
                trainFrom.toString(),
                trainTo.toString(),
                spark.read().parquet(staging + "/users").count(),
                spark.read().parquet(staging + "/pins").count());
        TextFiles.write(spark, staging + "/" + FIT_FILE, new Gson().toJson(fit));
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            fs.delete(target, true);
            if (!fs.rename(staging, target)) {
                throw new IOException("rename " + staging + " -> " + target + " failed");
            }
        } catch (IOException x) {
            throw new UncheckedIOException("cannot store the ALS fit at " + target, x);
        }
        return new Stored(trainTo, fit, target.toString());
    }

    /**
     * Removes every stored fit (they hold users' factors by user id; {@code forget-users} calls this, and the next
     * {@code evaluate} refits). Returns how many fits were removed.
     */
    public int deleteAll() {
        int n = days().size();
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            fs.delete(root, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
        return n;
    }

    /** Every stored fit, oldest first (for tests and operators). */
    public List<LocalDate> days() {
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(root)) {
                return List.of();
            }
            return Arrays.stream(fs.listStatus(root))
                    .map(d -> d.getPath().getName())
                    .filter(n -> n.startsWith("ds="))
                    .map(n -> LocalDate.parse(n.substring(3)))
                    .sorted(Comparator.naturalOrder())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }
}
