package dev.convcg.tools.ops;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.xxhash64;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StorageLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Compares the outputs of two runs of the pipeline (two storage roots): every Delta table under {@code tables/}
 * present in either root, row for row, and the model LATEST points to in {@code models/}. Prints one line per item
 * and exits 1 when anything differs (0 when everything matches, 2 on a bad command line).
 *
 * <p>Tables: same schema, same row count, and the same multiset of rows; a row is identified by a 64-bit hash of its
 * JSON form (columns in name order), and the hashes are compared with {@code exceptAll} both ways, so duplicates
 * count. Models: the same LATEST version, and every number of {@code training.json} (losses, recall, counts) within a
 * relative tolerance (default 1e-6), except wall-clock fields ({@code *seconds*}, rates per second, the step's phase
 * times and the trainer's input-wait share); {@code model.params} is reported as identical or not but a byte
 * difference alone is not a mismatch (floating-point results may depend on the thread layout).
 *
 * <pre>CompareOutputs EXPECTED_ROOT ACTUAL_ROOT [--tolerance 1e-6]</pre>
 */
public final class CompareOutputs {
    private CompareOutputs() {}

    /** One compared item and its verdict. */
    public record Result(String item, String expected, String actual, String detail, boolean match) {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length != 2 && !(args.length == 4 && args[2].equals("--tolerance"))) {
            System.err.println("usage: CompareOutputs EXPECTED_ROOT ACTUAL_ROOT [--tolerance 1e-6]");
            return 2;
        }
        double tolerance = args.length == 4 ? Double.parseDouble(args[3]) : 1e-6;
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("compare-outputs")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .config("spark.sql.session.timeZone", "UTC")
                .getOrCreate();
        try {
            List<Result> results = new ArrayList<>(compareTables(spark, Path.of(args[0]), Path.of(args[1])));
            results.addAll(compareEmbeddings(spark, Path.of(args[0]), Path.of(args[1])));
            results.addAll(compareModels(Path.of(args[0]), Path.of(args[1]), tolerance));
            results.addAll(compareReports(Path.of(args[0]), Path.of(args[1]), tolerance));
            System.out.println(render(args[0], args[1], results));
            return results.stream().allMatch(Result::match) && !results.isEmpty() ? 0 : 1;
        } finally {
            spark.stop();
        }
    }

    /** Every Delta table present under either root's tables/ directory. */
    public static List<Result> compareTables(SparkSession spark, Path expectedRoot, Path actualRoot) {
        TreeSet<String> names = new TreeSet<>(deltaTables(expectedRoot));
        names.addAll(deltaTables(actualRoot));
        List<Result> out = new ArrayList<>();
        for (String name : names) {
            Path e = expectedRoot.resolve(StorageLayout.TABLES).resolve(name);
            Path a = actualRoot.resolve(StorageLayout.TABLES).resolve(name);
            if (!isDelta(e) || !isDelta(a)) {
                out.add(new Result(
                        "table " + name,
                        isDelta(e) ? "present" : "absent",
                        isDelta(a) ? "present" : "absent",
                        "only in one run",
                        false));
                continue;
            }
            out.add(compareRows(
                    "table " + name,
                    spark.read().format("delta").load(e.toString()),
                    spark.read().format("delta").load(a.toString())));
        }
        return out;
    }

    /**
     * The published embedding tables (Parquet, {@code embeddings/<table>/ds=<day>/}), compared like the Delta tables;
     * staging and trash directories are not read (Spark skips names starting with {@code _}).
     */
    public static List<Result> compareEmbeddings(SparkSession spark, Path expectedRoot, Path actualRoot) {
        TreeSet<String> names = new TreeSet<>(subdirs(expectedRoot.resolve(StorageLayout.EMBEDDINGS)));
        names.addAll(subdirs(actualRoot.resolve(StorageLayout.EMBEDDINGS)));
        List<Result> out = new ArrayList<>();
        for (String name : names) {
            Path e = expectedRoot.resolve(StorageLayout.EMBEDDINGS).resolve(name);
            Path a = actualRoot.resolve(StorageLayout.EMBEDDINGS).resolve(name);
            if (!Files.isDirectory(e) || !Files.isDirectory(a)) {
                out.add(new Result(
                        "embeddings " + name,
                        Files.isDirectory(e) ? "present" : "absent",
                        Files.isDirectory(a) ? "present" : "absent",
                        "only in one run",
                        false));
                continue;
            }
            out.add(compareRows(
                    "embeddings " + name,
                    spark.read().parquet(e.toString()),
                    spark.read().parquet(a.toString())));
        }
        return out;
    }

    /** Same schema, same row count, same multiset of rows. */
    static Result compareRows(String item, Dataset<Row> ed, Dataset<Row> ad) {
        if (!ed.schema().equals(ad.schema())) {
            return new Result(item, ed.schema().simpleString(), ad.schema().simpleString(), "schemas differ", false);
        }
        Dataset<Row> eh = rowHashes(ed).cache();
        Dataset<Row> ah = rowHashes(ad).cache();
        try {
            long en = eh.count();
            long an = ah.count();
            long missing = eh.exceptAll(ah).count();
            long extra = ah.exceptAll(eh).count();
            boolean match = en == an && missing == 0 && extra == 0;
            return new Result(
                    item,
                    en + " rows",
                    an + " rows",
                    match
                            ? "same rows (" + ed.columns().length + " columns)"
                            : missing + " expected rows missing, " + extra + " unexpected rows",
                    match);
        } finally {
            eh.unpersist();
            ah.unpersist();
        }
    }

    /** Every {@code reports/<ds>/metrics.json}: the same numbers within the tolerance, wall-clock fields skipped. */
    public static List<Result> compareReports(Path expectedRoot, Path actualRoot, double tolerance) {
        TreeSet<String> days = new TreeSet<>(subdirs(expectedRoot.resolve(StorageLayout.REPORTS)));
        days.addAll(subdirs(actualRoot.resolve(StorageLayout.REPORTS)));
        List<Result> out = new ArrayList<>();
        for (String day : days) {
            Path e = expectedRoot.resolve(StorageLayout.REPORTS).resolve(day).resolve("metrics.json");
            Path a = actualRoot.resolve(StorageLayout.REPORTS).resolve(day).resolve("metrics.json");
            if (!Files.isRegularFile(e) || !Files.isRegularFile(a)) {
                out.add(new Result(
                        "report " + day,
                        Files.isRegularFile(e) ? "present" : "absent",
                        Files.isRegularFile(a) ? "present" : "absent",
                        "metrics.json only in one run",
                        false));
                continue;
            }
            out.add(jsonResult("report " + day + " metrics.json", readJson(e), readJson(a), tolerance));
        }
        return out;
    }

    static Result jsonResult(String item, JsonElement e, JsonElement a, double tolerance) {
        List<String> diffs = new ArrayList<>();
        double[] worst = {0};
        int[] numbers = {0};
        compareJson("", e, a, tolerance, diffs, worst, numbers);
        return new Result(
                item,
                numbers[0] + " numbers",
                numbers[0] + " numbers",
                diffs.isEmpty()
                        ? String.format("all within %.0e (largest relative difference %.2e)", tolerance, worst[0])
                        : diffs.size() + " differ: " + String.join("; ", diffs.subList(0, Math.min(5, diffs.size())))
                                + (diffs.size() > 5 ? " ..." : ""),
                diffs.isEmpty());
    }

    private static List<String> subdirs(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("_"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One column {@code h}: a hash of each row's JSON form, columns in name order. */
    static Dataset<Row> rowHashes(Dataset<Row> rows) {
        String[] names = rows.columns().clone();
        Arrays.sort(names);
        Column[] cols = Arrays.stream(names).map(n -> col("`" + n + "`")).toArray(Column[]::new);
        return rows.select(xxhash64(to_json(struct(cols))).as("h"));
    }

    /** The model LATEST names in each root's models/ directory: same version and training metrics. */
    public static List<Result> compareModels(Path expectedRoot, Path actualRoot, double tolerance) {
        Path em = expectedRoot.resolve(StorageLayout.MODELS);
        Path am = actualRoot.resolve(StorageLayout.MODELS);
        String ev = latest(em);
        String av = latest(am);
        if (ev == null && av == null) {
            return List.of();
        }
        List<Result> out = new ArrayList<>();
        boolean sameVersion = ev != null && ev.equals(av);
        out.add(new Result(
                "model LATEST",
                String.valueOf(ev),
                String.valueOf(av),
                sameVersion ? "same version" : "versions differ",
                sameVersion));
        if (!sameVersion) {
            return out;
        }
        TreeSet<String> versions = new TreeSet<>(subdirs(em.resolve(ModelStore.VERSIONS)));
        versions.addAll(subdirs(am.resolve(ModelStore.VERSIONS)));
        for (String v : versions) {
            Path ed = em.resolve(ModelStore.VERSIONS).resolve(v);
            Path ad = am.resolve(ModelStore.VERSIONS).resolve(v);
            if (!Files.isDirectory(ed) || !Files.isDirectory(ad)) {
                out.add(new Result(
                        "model " + v,
                        Files.isDirectory(ed) ? "present" : "absent",
                        Files.isDirectory(ad) ? "present" : "absent",
                        "version only in one run",
                        false));
                continue;
            }
            out.add(jsonResult(
                    "model " + v + " training.json",
                    readJson(ed.resolve("training.json")),
                    readJson(ad.resolve("training.json")),
                    tolerance));
            String eh = sha256(ed.resolve("model.params"));
            String ah = sha256(ad.resolve("model.params"));
            out.add(new Result(
                    "model " + v + " params",
                    shortHash(eh),
                    shortHash(ah),
                    eh != null && eh.equals(ah) ? "byte-identical" : "bytes differ (informational)",
                    true));
        }
        return out;
    }

    /** Walks two JSON trees; numbers within the relative tolerance, everything else equal; wall-clock fields skipped. */
    static void compareJson(
            String path, JsonElement e, JsonElement a, double tol, List<String> diffs, double[] worst, int[] numbers) {
        if (path.contains("seconds")
                || path.contains("elapsed")
                || path.contains("created")
                || path.contains("_at") && !path.contains("_at_")
                || path.endsWith("per_s")
                || path.endsWith("per_second")
                || path.contains("step_phase_ms")
                || path.endsWith("wait_share")) {
            return;
        }
        if (e == null || a == null || e.isJsonNull() || a.isJsonNull()) {
            if (!(isNull(e) && isNull(a))) {
                diffs.add(path + ": " + e + " vs " + a);
            }
            return;
        }
        if (e.isJsonObject() && a.isJsonObject()) {
            JsonObject eo = e.getAsJsonObject();
            JsonObject ao = a.getAsJsonObject();
            TreeSet<String> keys = new TreeSet<>(eo.keySet());
            keys.addAll(ao.keySet());
            for (String k : keys) {
                compareJson(path.isEmpty() ? k : path + "." + k, eo.get(k), ao.get(k), tol, diffs, worst, numbers);
            }
        } else if (e.isJsonArray() && a.isJsonArray()) {
            if (e.getAsJsonArray().size() != a.getAsJsonArray().size()) {
                diffs.add(path + ": " + e.getAsJsonArray().size() + " vs "
                        + a.getAsJsonArray().size() + " elements");
                return;
            }
            for (int i = 0; i < e.getAsJsonArray().size(); i++) {
                compareJson(
                        path + "[" + i + "]",
                        e.getAsJsonArray().get(i),
                        a.getAsJsonArray().get(i),
                        tol,
                        diffs,
                        worst,
                        numbers);
            }
        } else if (e.isJsonPrimitive()
                && a.isJsonPrimitive()
                && e.getAsJsonPrimitive().isNumber()
                && a.getAsJsonPrimitive().isNumber()) {
            numbers[0]++;
            double x = e.getAsDouble();
            double y = a.getAsDouble();
            double rel = x == y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));
            worst[0] = Math.max(worst[0], rel);
            if (!(rel <= tol)) {
                diffs.add(String.format("%s: %s vs %s (relative %.2e)", path, x, y, rel));
            }
        } else if (!e.equals(a)) {
            diffs.add(path + ": " + e + " vs " + a);
        }
    }

    private static boolean isNull(JsonElement e) {
        return e == null || e.isJsonNull();
    }

    static String render(String expected, String actual, List<Result> results) {
        int w0 = 20;
        int w1 = 14;
        int w2 = 14;
        for (Result r : results) {
            w0 = Math.max(w0, r.item().length());
            w1 = Math.max(w1, Math.min(40, r.expected().length()));
            w2 = Math.max(w2, Math.min(40, r.actual().length()));
        }
        String fmt = "%-" + w0 + "s  %-" + w1 + "s  %-" + w2 + "s  %-5s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append("expected: ")
                .append(expected)
                .append('\n')
                .append("actual:   ")
                .append(actual)
                .append('\n');
        sb.append(String.format(fmt, "item", "expected", "actual", "", "detail"));
        for (Result r : results) {
            sb.append(String.format(
                    fmt, r.item(), clip(r.expected()), clip(r.actual()), r.match() ? "OK" : "DIFF", r.detail()));
        }
        long bad = results.stream().filter(r -> !r.match()).count();
        sb.append(
                results.isEmpty()
                        ? "nothing to compare: no Delta table and no model in either root"
                        : bad == 0
                                ? "ALL MATCH (" + results.size() + " items)"
                                : bad + " of " + results.size() + " items DIFFER");
        return sb.toString();
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    private static List<String> deltaTables(Path root) {
        Path tables = root.resolve(StorageLayout.TABLES);
        if (!Files.isDirectory(tables)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(tables)) {
            return s.filter(CompareOutputs::isDelta)
                    .map(p -> p.getFileName().toString())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isDelta(Path table) {
        return Files.isDirectory(table.resolve("_delta_log"));
    }

    private static String latest(Path store) {
        Path f = store.resolve(ModelStore.LATEST);
        try {
            return Files.isRegularFile(f) ? Files.readString(f).trim() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonElement readJson(Path f) {
        try {
            return JsonParser.parseString(Files.readString(f));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    private static String sha256(Path f) {
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shortHash(String h) {
        return h == null ? "absent" : "sha256 " + h.substring(0, 12);
    }
}
