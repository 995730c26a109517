package dev.convcg.tools.bench;

import dev.convcg.core.schema.RawTables;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * Times the {@code simulate} stage at a given impression volume (default 10M over 5 days) on the local machine and
 * prints wall time, rows written and rows/s. Not a test: run it with {@code scripts/bench.sh simulator [IMPRESSIONS]}.
 */
public final class SimulatorBenchmark {
    private SimulatorBenchmark() {}

    public static void main(String[] args) throws Exception {
        long impressions = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        int days = 5;
        long users = impressions / ((long) days * BenchWorld.IMPRESSIONS_PER_USER_DAY);
        Path root = Files.createTempDirectory("convcg-bench-sim");
        Map<String, String> sets = BenchWorld.overrides(root, impressions, days);
        PipelineConfig config = PipelineConfig.load(null, sets);
        SparkSession spark = SparkSessions.create(config.spark());
        long t0 = System.nanoTime();
        int code = Main.run("simulate", config, spark);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (code != Main.EXIT_OK) {
            throw new IllegalStateException("simulate failed with exit code " + code);
        }
        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        long total = 0;
        StringBuilder perTable = new StringBuilder();
        for (String t : RawTables.ALL) {
            long n = tables.read(t).count();
            total += n;
            perTable.append(String.format("  %-12s %,14d rows%n", t, n));
        }
        long written = tables.read(RawTables.IMPRESSIONS).count();
        System.out.printf(
                "%nsimulate benchmark: %d cores, %,d users x %d days%n%s",
                Runtime.getRuntime().availableProcessors(), users, days, perTable);
        System.out.printf("  wall time    %.1f s (stage, including the summary queries)%n", seconds);
        System.out.printf(
                "  impressions  %,d at %,.0f impressions/s; all rows %,d at %,.0f rows/s%n",
                written, written / seconds, total, total / seconds);
        System.out.printf(
                "  goal         10M impressions with their events in < 300 s: %s%n",
                written >= 10_000_000L * 0.95 && seconds < 300 ? "MET" : "see figures");
        spark.stop();
        ModelStore.deleteRecursively(root);
    }
}
