package dev.convcg.tools.bench;

import static org.apache.spark.sql.functions.col;

import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.TrainingDataBuilder;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Times {@code build-training-data} for one day of simulated logs (default 10M impressions) against a bare
 * read-and-write of the same input (every raw partition the stage reads, read and written back as Delta) in the same
 * JVM, and prints rows/s and the ratio. As a floor for the joins, it also times one shuffle join that every run needs
 * (the day's engagements joined to their impressions, written as Delta), and it prints the stage's longest Spark
 * stages. It deletes its temporary storage at the end. Not a test: {@code scripts/bench.sh training-data [IMPRESSIONS]}.
 */
public final class TrainingDataBenchmark {
    private TrainingDataBenchmark() {}

    public static void main(String[] args) throws Exception {
        long impressions = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        Path root = Files.createTempDirectory("convcg-bench-training-data");
        Map<String, String> sets = BenchWorld.overrides(root, impressions, 1);
        sets.put("training-data.lookback-days", "1");
        PipelineConfig config = PipelineConfig.load(null, sets);
        SparkSession spark = SparkSessions.create(config.spark());
        LocalDate day = config.simulate().startDate();
        sets.put("run-date", day.toString());
        config = PipelineConfig.load(null, sets);
        check(Main.run("simulate", config, spark), "simulate");

        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        String from = TrainingDataBuilder.inputStart(day, config.trainingData()).toString();
        long inputRows = 0;
        for (String t : RawTables.ALL) {
            inputRows += tables.readDays(t, from, day.toString()).count();
        }

        long c0 = System.nanoTime();
        DeltaTables copy = new DeltaTables(spark, root.resolve("copy").toString());
        for (String t : RawTables.ALL) {
            copy.replaceAll(t, tables.readDays(t, from, day.toString()), RawTables.DS);
        }
        double copySeconds = (System.nanoTime() - c0) / 1e9;

        long j0 = System.nanoTime();
        Dataset<Row> engaged = tables.readDays(RawTables.ENGAGEMENTS, from, day.toString())
                .select(
                        col("impression_id"),
                        col("type").as("event_type"),
                        col("ts").as("event_ts"));
        copy.replaceAll(
                "engaged_impressions",
                engaged.join(tables.readDays(RawTables.IMPRESSIONS, from, day.toString()), "impression_id"),
                RawTables.DS);
        double joinSeconds = (System.nanoTime() - j0) / 1e9;

        SparkStageTimes stageTimes = new SparkStageTimes();
        spark.sparkContext().addSparkListener(stageTimes);
        long b0 = System.nanoTime();
        check(Main.run("build-training-data", config, spark), "build-training-data");
        double buildSeconds = (System.nanoTime() - b0) / 1e9;
        long examples = tables.read("training_examples").count();
        spark.sparkContext().removeSparkListener(stageTimes);

        System.out.printf(
                "%ntraining-data benchmark: %d cores, one day of %,d impressions%n",
                Runtime.getRuntime().availableProcessors(),
                tables.readDays(RawTables.IMPRESSIONS, from, day.toString()).count());
        System.out.printf("  input rows (all raw tables)   %,d%n", inputRows);
        System.out.printf(
                "  bare read + write of them     %.1f s (%,.0f rows/s)%n", copySeconds, inputRows / copySeconds);
        System.out.printf(
                "  one shuffle join, written     %.1f s (engagements joined to their impressions on impression_id: %.2f x the bare copy)%n",
                joinSeconds, joinSeconds / copySeconds);
        System.out.printf(
                "  build-training-data           %.1f s (%,.0f input rows/s), %,d examples written%n",
                buildSeconds, inputRows / buildSeconds, examples);
        System.out.printf("  ratio stage / bare copy       %.2f (goal <= 2)%n", buildSeconds / copySeconds);
        System.out.printf("%nbuild-training-data, by Spark stage: %s", stageTimes.longest(15));
        spark.stop();
        ModelStore.deleteRecursively(root);
    }

    private static void check(int code, String stage) {
        if (code != Main.EXIT_OK) {
            throw new IllegalStateException(stage + " failed with exit code " + code);
        }
    }
}
