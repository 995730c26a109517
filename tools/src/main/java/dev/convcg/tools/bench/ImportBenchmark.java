package dev.convcg.tools.bench;

import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.ModelStore;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Times {@code import-events} on a generated Taobao-shaped CSV (default 1M events over 7 days: 89% pv, 6% cart,
 * 3% fav, 2% buy, 0.1% unknown behaviour; headerless, epoch seconds) against a bare Spark read of the same file
 * written back as one Delta table in the same JVM, and prints both times and their ratio. The bare copy runs before
 * and after the import (the later one, on a warm JVM, is the ratio's base), then prints the import's longest Spark
 * stages. It deletes its temporary files at the end. Not a test: {@code scripts/bench.sh import [EVENTS]}.
 */
public final class ImportBenchmark {
    private ImportBenchmark() {}

    public static void main(String[] args) throws Exception {
        long events = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000L;
        int days = 7;
        LocalDate runDate = LocalDate.of(2017, 12, 3);
        Path root = Files.createTempDirectory("convcg-bench-import");
        Path csv = root.resolve("events.csv");
        long g0 = System.nanoTime();
        generate(csv, events, days, runDate);
        double generateSeconds = (System.nanoTime() - g0) / 1e9;

        Map<String, String> sets = new LinkedHashMap<>();
        sets.put("storage.root", "\"" + root.resolve("store") + "\"");
        sets.put("import-events.input", "\"" + csv + "\"");
        sets.put("run-date", runDate.toString());
        PipelineConfig config = PipelineConfig.load(null, sets);
        SparkSession spark = SparkSessions.create(config.spark());

        double bareBefore = bareCopy(spark, csv, root.resolve("bare-1"));
        SparkStageTimes stageTimes = new SparkStageTimes();
        spark.sparkContext().addSparkListener(stageTimes);
        long i0 = System.nanoTime();
        int code = Main.run("import-events", config, spark);
        double importSeconds = (System.nanoTime() - i0) / 1e9;
        spark.sparkContext().removeSparkListener(stageTimes);
        if (code != Main.EXIT_OK) {
            throw new IllegalStateException("import-events failed with exit code " + code);
        }
        double bareAfter = bareCopy(spark, csv, root.resolve("bare-2"));

        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        StringBuilder perTable = new StringBuilder();
        for (String t : RawTables.ALL) {
            perTable.append(
                    String.format("  %-12s %,12d rows%n", t, tables.read(t).count()));
        }
        long quarantined = tables.read("quarantine").count();
        System.out.printf(
                "%nimport benchmark: %d cores, %,d events over %d days (%,d bytes of CSV, generated in %.1f s)%n%s",
                Runtime.getRuntime().availableProcessors(), events, days, Files.size(csv), generateSeconds, perTable);
        System.out.printf("  quarantine   %,12d rows%n", quarantined);
        System.out.printf(
                "  bare read + Delta write   %.1f s before, %.1f s after the import%n", bareBefore, bareAfter);
        System.out.printf(
                "  import-events             %.1f s (%,.0f events/s)%n", importSeconds, events / importSeconds);
        System.out.printf("  ratio import / bare copy  %.2f (bare copy after the import)%n", importSeconds / bareAfter);
        System.out.printf(
                "  goal                      1M events in < 60 s: %s%n",
                events >= 1_000_000L && importSeconds < 60 ? "MET" : "see figures");
        System.out.printf("%nimport-events, by Spark stage: %s", stageTimes.longest(12));
        spark.stop();
        ModelStore.deleteRecursively(root);
    }

    /** Reads the CSV as the importer does (strings) and writes it as one unpartitioned Delta table. */
    private static double bareCopy(SparkSession spark, Path csv, Path out) {
        StructType schema = new StructType();
        for (String c : new String[] {"user_id", "item_id", "category_id", "behavior", "timestamp"}) {
            schema = schema.add(c, DataTypes.StringType, true);
        }
        long t0 = System.nanoTime();
        spark.read().schema(schema).csv(csv.toString()).write().format("delta").save(out.toString());
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void generate(Path csv, long events, int days, LocalDate runDate) throws Exception {
        SplittableRandom rng = new SplittableRandom(7);
        long users = Math.max(1, events / 100);
        long end = runDate.plusDays(1).atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        long start = end - days * 86_400L;
        try (BufferedWriter w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            for (long i = 0; i < events; i++) {
                long item = (long) Math.floor(Math.pow(rng.nextDouble(), 2) * 200_000);
                double u = rng.nextDouble();
                String behavior =
                        u < 0.001 ? "like" : u < 0.891 ? "pv" : u < 0.951 ? "cart" : u < 0.981 ? "fav" : "buy";
                w.write(Long.toString(1 + rng.nextLong(users)));
                w.write(',');
                w.write(Long.toString(item));
                w.write(',');
                w.write(Long.toString(item % 1_000));
                w.write(',');
                w.write(behavior);
                w.write(',');
                w.write(Long.toString(start + rng.nextLong(end - start)));
                w.write('\n');
            }
        }
    }
}
