package dev.convcg.tools.bench;

import static org.apache.spark.sql.functions.col;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.convcg.core.eval.BlockScorer;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.training.TrainingDataBuilder;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.ModelStore;
import dev.convcg.jobs.io.StageMarkers;
import dev.convcg.jobs.stages.Evaluation;
import dev.convcg.jobs.stages.TrainStage;
import dev.convcg.model.bench.TrainingBenchmark;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.features.FeatureSchema;
import dev.ludovic.netlib.blas.BLAS;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The nightly chain at several daily volumes of the same simulated world (200k pins, 4k advertisers, 20 impressions
 * per user and day; only the number of users grows), timed stage by stage, with each compute stage's ratio to its
 * physical limit measured in the same JVM. Not a test: {@code scripts/bench.sh nightly [IMPRESSIONS_PER_DAY,...]
 * [PLOT.png]}; docs/benchmarks.md says how to read it.
 *
 * <p>Per scale it simulates {@value #DAYS} days S, S+1, S+2; runs a cold day S+1 (build-training-data, train,
 * infer-embeddings) so that the measured nightly of S+2 is a steady-state one: it re-labels the days in its lookback,
 * trains incrementally from S+1's model ({@code train.warm-start}), publishes smoothed embeddings and evaluates S+1's
 * embeddings on S+2's held-out positives ({@code evaluate.eval-days = 1}) with every baseline.
 */
public final class NightlyScaleBenchmark {
    static final int DAYS = 3;

    private NightlyScaleBenchmark() {}

    /** One measured stage: what it processed, how long, how much memory and spill, and its ratio to its limit. */
    record StageFigures(
            String stage,
            double seconds,
            long rows,
            String rowsOf,
            long liveHeap,
            long heapPeak,
            long rssPeak,
            long spillBytes,
            double ratio,
            String ratioOf) {}

    /** All stages of one scale. */
    record ScaleFigures(
            long impressionsPerDay, double simulateSeconds, double coldDaySeconds, List<StageFigures> stages) {
        double nightlySeconds() {
            return stages.stream().mapToDouble(StageFigures::seconds).sum();
        }
    }

    public static void main(String[] args) throws Exception {
        List<Long> scales = new ArrayList<>();
        for (String s : (args.length > 0 ? args[0] : "1000000,3000000,10000000").split(",")) {
            scales.add(Long.parseLong(s.trim().replace("_", "")));
        }
        Path plot = args.length > 1 ? Path.of(args[1]) : null;
        Path base = Files.createTempDirectory("convcg-bench-nightly");
        PipelineConfig first = config(base, scales.get(0));
        SparkSession spark = SparkSessions.create(first.spark());
        SpillListener spill = new SpillListener();
        spark.sparkContext().addSparkListener(spill);
        MemoryWatch memory = new MemoryWatch();
        Limits limits = Limits.measure(first);
        System.out.printf(
                Locale.ROOT,
                "%nlimits, libtorch matmul on all %d cores in this JVM: training GEMMs %.1f GFLOP/s,"
                        + " inference GEMMs %.1f GFLOP/s, evaluation sgemm %.1f GFLOP/s%n",
                cores(),
                limits.training / 1e9,
                limits.inference / 1e9,
                limits.evaluation / 1e9);
        System.out.printf(
                Locale.ROOT,
                "one top-K block on one thread: Spark's BLAS (%s) %.1f GFLOP/s, the configured "
                        + "evaluate.scorer (%s) %.1f GFLOP/s%n",
                BLAS.getInstance().getClass().getSimpleName(),
                limits.sparkBlas / 1e9,
                first.scorer(),
                limits.scorer / 1e9);

        List<ScaleFigures> results = new ArrayList<>();
        for (long n : scales) {
            results.add(runScale(spark, base, n, limits, spill, memory));
            print(results);
        }
        memory.close();
        if (plot != null) {
            plot(results, plot);
            System.out.println("plot: " + plot);
        }
        spark.stop();
        ModelStore.deleteRecursively(base);
    }

    static PipelineConfig config(Path base, long impressionsPerDay) {
        return PipelineConfig.load(
                null, overrides(base.resolve("n" + impressionsPerDay), impressionsPerDay, null, false));
    }

    private static Map<String, String> overrides(Path root, long impressionsPerDay, LocalDate runDate, boolean warm) {
        Map<String, String> sets = BenchWorld.overrides(root, impressionsPerDay * DAYS, DAYS);
        sets.put("training-data.lookback-days", String.valueOf(DAYS));
        sets.put("train.window-days", String.valueOf(DAYS));
        sets.put("train.warm-start", String.valueOf(warm));
        sets.put("evaluate.eval-days", "1");
        sets.put("evaluate.training-days", "2");
        sets.put("skip-complete", "false");
        if (runDate != null) {
            sets.put("run-date", runDate.toString());
        }
        return sets;
    }

    private static ScaleFigures runScale(
            SparkSession spark, Path base, long n, Limits limits, SpillListener spill, MemoryWatch memory)
            throws IOException {
        Path root = base.resolve("n" + n);
        LocalDate s = config(base, n).simulate().startDate();
        LocalDate cold = s.plusDays(1);
        LocalDate day = s.plusDays(2);
        System.out.printf(Locale.ROOT, "%n=== %,d impressions a day: simulate %d days under %s%n", n, DAYS, root);
        double simulate = time(() -> check(
                Main.run("simulate", PipelineConfig.load(null, overrides(root, n, day, false)), spark), "simulate"));
        PipelineConfig coldConfig = PipelineConfig.load(null, overrides(root, n, cold, false));
        double coldDay = time(() -> {
            for (String stage : List.of("build-training-data", "train", "infer-embeddings")) {
                check(Main.run(stage, coldConfig, spark), stage + " " + cold);
            }
        });
        PipelineConfig config = PipelineConfig.load(null, overrides(root, n, day, true));
        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        StageMarkers markers = new StageMarkers(config.storageRoot());
        List<StageFigures> stages = new ArrayList<>();
        for (String stage : Main.NIGHTLY) {
            double bare = stage.equals("build-training-data") ? bareCopySeconds(spark, tables, config, root) : 0;
            spill.reset();
            memory.reset();
            double sec = time(() -> check(Main.run(stage, config, spark), stage + " " + day));
            String summary = Files.readString(markers.marker(stage, day));
            long spilled = spill.bytes();
            long heap = memory.heapPeak();
            long live = memory.livePeak();
            long rss = memory.rssPeak();
            StageFigures f = switch (stage) {
                case "build-training-data" -> {
                    long rows = rawInputRows(tables, config, day);
                    yield new StageFigures(
                            stage,
                            sec,
                            rows,
                            "raw rows read",
                            live,
                            heap,
                            rss,
                            spilled,
                            sec / bare,
                            "x the bare read+write of the same partitions ("
                                    + String.format(Locale.ROOT, "%.1f s", bare) + "; goal <= 2)");
                }
                case "train" -> {
                    JsonObject metrics = trainingMetrics(config, root);
                    long examples = examplesTrained(metrics);
                    // The stage trains the engagement retriever too; its examples count at the conversion model's cost.
                    long total = examples
                            + (config.engagementRetriever()
                                    ? examplesTrained(trainingMetrics(config.engagementRetrieverConfig(), root))
                                    : 0);
                    double flops = total * trainingFlopsPerExample(config);
                    yield new StageFigures(
                            stage,
                            sec,
                            total,
                            "examples trained (all epochs, both retrievers)",
                            live,
                            heap,
                            rss,
                            spilled,
                            flops / sec / limits.training,
                            "of libtorch matmul on the model GEMM shapes (goal >= 0.5); "
                                    + "conversion model: "
                                    + inTrainingSteps(
                                            metrics,
                                            examples,
                                            examples * trainingFlopsPerExample(config),
                                            limits.training,
                                            config.train().trainer().batchSize()));
                }
                case "infer-embeddings" -> {
                    long pins = outputRows(summary, "pin_embeddings");
                    long users = outputRows(summary, "user_embeddings");
                    double flops =
                            pins * inferenceFlopsPerRow(config, true) + users * inferenceFlopsPerRow(config, false);
                    yield new StageFigures(
                            stage,
                            sec,
                            pins + users,
                            "pin and user embeddings",
                            live,
                            heap,
                            rss,
                            spilled,
                            flops / sec / limits.inference,
                            "of libtorch matmul on the tower GEMM shapes");
                }
                case "evaluate" -> {
                    double flops = evaluationFlops(spark, tables, config, day);
                    yield new StageFigures(
                            stage,
                            sec,
                            inputRows(summary, "held_out_events"),
                            "held-out events",
                            live,
                            heap,
                            rss,
                            spilled,
                            flops / sec / limits.evaluation,
                            "of sgemm rate for the scoring FLOPs; the stage also fits ALS (the engagement retriever is trained by train)");
                }
                default ->
                    new StageFigures(
                            stage,
                            sec,
                            sumInputs(summary),
                            "raw rows checked",
                            live,
                            heap,
                            rss,
                            spilled,
                            Double.NaN,
                            "");
            };
            stages.add(f);
            System.out.printf(
                    Locale.ROOT,
                    "  %-20s %8.1f s  %,14d %s  live heap %s (peak %s)  RSS peak %s  spill %s%n",
                    stage,
                    sec,
                    f.rows(),
                    f.rowsOf(),
                    mib(live),
                    mib(heap),
                    mib(rss),
                    mib(spilled));
        }
        return new ScaleFigures(n, simulate, coldDay, stages);
    }

    /** Reads and writes back, as Delta, every raw partition build-training-data reads: the ETL's floor. */
    private static double bareCopySeconds(SparkSession spark, DeltaTables tables, PipelineConfig config, Path root) {
        LocalDate day = config.runDate().orElseThrow();
        String from = TrainingDataBuilder.inputStart(day, config.trainingData()).toString();
        DeltaTables copy = new DeltaTables(spark, root.resolve("bare-copy").toString());
        return time(() -> {
            for (String t : RawTables.ALL) {
                copy.replaceAll(t, tables.readDays(t, from, day.toString()), RawTables.DS);
            }
        });
    }

    private static long rawInputRows(DeltaTables tables, PipelineConfig config, LocalDate day) {
        String from = TrainingDataBuilder.inputStart(day, config.trainingData()).toString();
        long rows = 0;
        for (String t : RawTables.ALL) {
            rows += tables.readDays(t, from, day.toString()).count();
        }
        return rows;
    }

    private static long examplesTrained(JsonObject metrics) {
        long examples = 0;
        for (var e : metrics.getAsJsonArray("epochs")) {
            examples += e.getAsJsonObject().get("examples").getAsLong();
        }
        return examples;
    }

    private static JsonObject trainingMetrics(PipelineConfig config, Path root) throws IOException {
        Path store = config.train().modelStore().isBlank()
                ? root.resolve("models")
                : Path.of(config.train().modelStore());
        String version = Files.readString(store.resolve("LATEST")).trim();
        JsonObject record = JsonParser.parseString(Files.readString(
                        store.resolve("versions").resolve(version).resolve("training.json")))
                .getAsJsonObject();
        return record.getAsJsonObject("metrics");
    }

    /**
     * The training ratio over the trainer's steps alone (no Spark shuffle, input wait, validation or artifact
     * writing), with the step's time by phase: where the stage's training time goes.
     */
    private static String inTrainingSteps(JsonObject metrics, long examples, double flops, double limit, int batch) {
        if (!metrics.has("step_phase_ms")) {
            return "no step phases recorded";
        }
        double stepMs = 0;
        StringBuilder phases = new StringBuilder();
        for (var e : metrics.getAsJsonObject("step_phase_ms").entrySet()) {
            stepMs += e.getValue().getAsDouble();
            phases.append(String.format(
                    Locale.ROOT, " %s %.1f", e.getKey(), e.getValue().getAsDouble()));
        }
        double stepSeconds = Math.ceil((double) examples / batch) * stepMs / 1000;
        return String.format(
                Locale.ROOT,
                "%.3f over the training steps alone (%.1f s; ms/step:%s)",
                flops / stepSeconds / limit,
                stepSeconds,
                phases);
    }

    /** Forward plus backward (2x forward) GEMM FLOPs per training example, hard negatives at their cap. */
    static double trainingFlopsPerExample(PipelineConfig config) {
        ModelConfig model = config.model();
        int b = config.train().trainer().batchSize();
        int h = model.hardNegatives().enabled() ? model.hardNegatives().maxCount() : 0;
        FeatureSchema schema = TrainStage.schema(config);
        return 3 * gemmFlops(TrainingBenchmark.forwardGemms(model, schema, b, h)) / b;
    }

    static double inferenceFlopsPerRow(PipelineConfig config, boolean pin) {
        FeatureSchema schema = TrainStage.schema(config);
        int b = config.inferEmbeddings().batchSize();
        return gemmFlops(TrainingBenchmark.towerForwardGemms(config.model(), pin ? schema.pin() : schema.user(), b))
                / b;
    }

    /**
     * Scoring FLOPs of the stage's exact top-K: 2 x queries x catalog x dimension per model. The two-towers score one
     * query per (user, surface); ALS and the oracle one per user; popularity none.
     */
    private static double evaluationFlops(
            SparkSession spark, DeltaTables tables, PipelineConfig config, LocalDate day) {
        long users = tables.readDays(TrainingDataSchemas.TRAINING_EXAMPLES_TABLE, day.toString(), day.toString())
                .filter(col("task").isin(RecallMetrics.POSITIVE_TASKS.toArray()))
                .select("user_id")
                .distinct()
                .count();
        if (config.evaluate().maxUsers() > 0) {
            users = Math.min(users, config.evaluate().maxUsers());
        }
        LocalDate t = day.minusDays(config.evaluate().evalDays());
        long catalog = tables.readDays(RawTables.PINS, t.toString(), t.toString())
                .select("pin_id")
                .distinct()
                .count();
        int oracleDim = tables.read(Simulator.TRUTH_PINS)
                        .select("topic")
                        .head()
                        .getList(0)
                        .size()
                + 1;
        double perUserPin = 2.0
                * (2 * 3 * config.model().embeddingDim()
                        + config.evaluate().als().rank()
                        + oracleDim);
        return perUserPin * users * catalog;
    }

    private static double gemmFlops(List<TrainingBenchmark.Gemm> gemms) {
        return gemms.stream().mapToDouble(TrainingBenchmark.Gemm::flops).sum();
    }

    private static final Pattern ENTRY = Pattern.compile("([A-Za-z_:0-9.-]+):(\\d+)");

    private static long outputRows(String summary, String table) {
        return entries(summary.substring(summary.indexOf(" out=")), table);
    }

    private static long inputRows(String summary, String table) {
        return entries(summary.substring(summary.indexOf(" in="), summary.indexOf(" out=")), table);
    }

    private static long sumInputs(String summary) {
        return entries(summary.substring(summary.indexOf(" in="), summary.indexOf(" out=")), null);
    }

    private static long entries(String part, String table) {
        long sum = 0;
        Matcher m = ENTRY.matcher(part);
        while (m.find()) {
            if (table == null || m.group(1).equals(table)) {
                sum += Long.parseLong(m.group(2));
            }
        }
        return sum;
    }

    /** The limits the compute stages are held against, measured once in this JVM before the runs. */
    record Limits(double training, double inference, double evaluation, double sparkBlas, double scorer) {
        static Limits measure(PipelineConfig config) {
            ModelConfig model = config.model();
            FeatureSchema schema = TrainStage.schema(config);
            int b = config.train().trainer().batchSize();
            int h = model.hardNegatives().enabled() ? model.hardNegatives().maxCount() : 0;
            double training = TrainingBenchmark.matmulFlops(TrainingBenchmark.forwardGemms(model, schema, b, h), 8);
            int ib = config.inferEmbeddings().batchSize();
            double inference =
                    TrainingBenchmark.matmulFlops(TrainingBenchmark.towerForwardGemms(model, schema.pin(), ib), 8);
            EvaluationSettings e = config.evaluate();
            double evaluation = TrainingBenchmark.matmulFlops(
                    List.of(new TrainingBenchmark.Gemm(e.queryBlockSize(), model.embeddingDim(), e.itemBlockSize(), 1)),
                    8);
            int m = e.queryBlockSize();
            int d = model.embeddingDim();
            int n = e.itemBlockSize();
            return new Limits(
                    training,
                    inference,
                    evaluation,
                    blockFlops(BlockScorer.BLAS_SGEMM, m, d, n),
                    blockFlops(Evaluation.scorer(config), m, d, n));
        }
    }

    /**
     * Single-thread FLOP/s of a top-K block product (netlib: native, Vector API or plain Java; or libtorch), the copy
     * of the scores into the task's array included.
     */
    static double blockFlops(BlockScorer scorer, int m, int d, int n) {
        float[] q = new float[m * d];
        float[] c = new float[n * d];
        float[] out = new float[m * n];
        Arrays.fill(q, 0.5f);
        Arrays.fill(c, 0.25f);
        try (BlockScorer.Scan scan = scorer.open(new float[][] {c}, d)) {
            for (int i = 0; i < 5; i++) {
                scan.score(0, q, m, out);
            }
            int reps = 0;
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < 3_000_000_000L) {
                scan.score(0, q, m, out);
                reps++;
            }
            return 2.0 * m * n * d * reps / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Bytes spilled (memory and disk) by Spark tasks since the last reset. */
    static final class SpillListener extends SparkListener {
        private final AtomicLong bytes = new AtomicLong();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.taskMetrics() != null) {
                bytes.addAndGet(end.taskMetrics().memoryBytesSpilled()
                        + end.taskMetrics().diskBytesSpilled());
            }
        }

        void reset() {
            bytes.set(0);
        }

        long bytes() {
            return bytes.get();
        }
    }

    /**
     * Per stage: the largest live heap (old generation after a collection: what the stage holds, not what the
     * collector let accumulate), the peak heap in use including garbage, and the peak process RSS (libtorch and
     * Spark's off-heap pages included), sampled every 100 ms.
     */
    static final class MemoryWatch implements AutoCloseable {
        private final AtomicLong rssPeak = new AtomicLong();
        private final AtomicLong livePeak = new AtomicLong();
        private final Thread sampler;
        private volatile boolean running = true;

        MemoryWatch() {
            sampler = new Thread(
                    () -> {
                        while (running) {
                            rssPeak.accumulateAndGet(rss(), Math::max);
                            livePeak.accumulateAndGet(liveHeap(), Math::max);
                            try {
                                Thread.sleep(100);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "rss-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        void reset() {
            System.gc();
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                p.resetPeakUsage();
            }
            rssPeak.set(rss());
            livePeak.set(liveHeap());
        }

        long livePeak() {
            return Math.max(livePeak.get(), liveHeap());
        }

        private static long liveHeap() {
            long sum = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP && p.getName().contains("Old") && p.getCollectionUsage() != null) {
                    sum += p.getCollectionUsage().getUsed();
                }
            }
            return sum;
        }

        long heapPeak() {
            long sum = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                    sum += p.getPeakUsage().getUsed();
                }
            }
            return sum;
        }

        long rssPeak() {
            return Math.max(rssPeak.get(), rss());
        }

        private static long rss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return 0;
            }
            return 0;
        }

        @Override
        public void close() {
            running = false;
            sampler.interrupt();
        }
    }

    private static void print(List<ScaleFigures> results) {
        System.out.printf(
                Locale.ROOT,
                "%n| impressions/day | stage | wall s | rows | rows/s | live heap | heap peak | RSS peak | spill | ratio to limit |%n");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (ScaleFigures r : results) {
            for (StageFigures f : r.stages()) {
                System.out.printf(
                        Locale.ROOT,
                        "| %,d | %s | %.1f | %,d %s | %,.0f | %s | %s | %s | %s | %s |%n",
                        r.impressionsPerDay(),
                        f.stage(),
                        f.seconds(),
                        f.rows(),
                        f.rowsOf(),
                        f.rows() / f.seconds(),
                        mib(f.liveHeap()),
                        mib(f.heapPeak()),
                        mib(f.rssPeak()),
                        mib(f.spillBytes()),
                        Double.isNaN(f.ratio())
                                ? "—"
                                : String.format(Locale.ROOT, "%.3f (%s)", f.ratio(), f.ratioOf()));
            }
            System.out.printf(
                    Locale.ROOT,
                    "| %,d | **nightly** | **%.1f** | | | | | | | (simulate %.1f s, cold day %.1f s, not in the nightly) |%n",
                    r.impressionsPerDay(),
                    r.nightlySeconds(),
                    r.simulateSeconds(),
                    r.coldDaySeconds());
        }
        ScaleFigures lo = results.get(0);
        ScaleFigures hi = results.get(results.size() - 1);
        if (results.size() > 1) {
            System.out.printf(
                    Locale.ROOT,
                    "cost growth: %,d -> %,d impressions/day (%.1fx) costs %.2fx (goal: at most %.1fx)%n",
                    lo.impressionsPerDay(),
                    hi.impressionsPerDay(),
                    (double) hi.impressionsPerDay() / lo.impressionsPerDay(),
                    hi.nightlySeconds() / lo.nightlySeconds(),
                    1.1 * hi.impressionsPerDay() / lo.impressionsPerDay());
        }
    }

    private static void plot(List<ScaleFigures> results, Path out) throws IOException {
        XYChart chart = new XYChartBuilder()
                .width(800)
                .height(500)
                .title("Nightly stage wall time vs daily impressions")
                .xAxisTitle("impressions per day (millions)")
                .yAxisTitle("wall time (s)")
                .build();
        chart.getStyler()
                .setXAxisLogarithmic(true)
                .setYAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.InsideNW);
        double[] x =
                results.stream().mapToDouble(r -> r.impressionsPerDay() / 1e6).toArray();
        Map<String, double[]> series = new LinkedHashMap<>();
        for (int i = 0; i < results.size(); i++) {
            for (StageFigures f : results.get(i).stages()) {
                series.computeIfAbsent(f.stage(), k -> new double[results.size()])[i] = Math.max(f.seconds(), 0.1);
            }
        }
        series.put(
                "nightly (sum)",
                results.stream().mapToDouble(ScaleFigures::nightlySeconds).toArray());
        series.forEach((name, y) -> chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE));
        Files.createDirectories(out.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,d MiB", bytes / (1024 * 1024));
    }

    private static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void check(int code, String what) {
        if (code != Main.EXIT_OK) {
            throw new IllegalStateException(what + " failed with exit code " + code);
        }
    }
}
