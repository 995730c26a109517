package dev.convcg.jobs;

import dev.convcg.jobs.config.AblationPlan;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.StageMarkers;
import dev.convcg.jobs.io.TextFiles;
import dev.convcg.jobs.stages.AblationReportStage;
import dev.convcg.jobs.stages.BuildTrainingDataStage;
import dev.convcg.jobs.stages.CheckInputsStage;
import dev.convcg.jobs.stages.EvaluateStage;
import dev.convcg.jobs.stages.ForgetUsersStage;
import dev.convcg.jobs.stages.ImportEventsStage;
import dev.convcg.jobs.stages.InferEmbeddingsStage;
import dev.convcg.jobs.stages.SimulateStage;
import dev.convcg.jobs.stages.TrainStage;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of every stage: {@code Main STAGE [--config FILE] [--set key=value]...}. Binds the configuration (failing
 * fast on a bad key or value), starts Spark, runs the stage and ends with one summary line. Exit codes: 0 success,
 * 1 the stage failed, 2 bad command line or configuration, including an input whose shape does not fit it (a stage
 * throws {@link InvalidConfigException}: an empty file, a mapped column the file lacks). Several stages joined by
 * {@code --then} ({@code STAGE [options] --then STAGE [options]...}) run in order on one Spark session in one JVM, each
 * with its own options, stopping at the first that does not succeed (its exit code); the scripts chain their stages
 * this way so that a run pays for one JVM and one Spark start.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_INPUTS_MISSING = 3;
    /** The nightly chain exits with this plus the failed stage's position in {@link #NIGHTLY} (11, 12, ...). */
    public static final int EXIT_NIGHTLY_STAGE_BASE = 10;

    /** The stages of one nightly run, in order. */
    public static final List<String> NIGHTLY =
            List.of("check-inputs", "build-training-data", "train", "infer-embeddings", "evaluate");

    static final Map<String, Supplier<Stage>> STAGES = new LinkedHashMap<>();
    /** The stage that measures an ablation's runs (the last step of {@code ablate} before {@code evaluate}). */
    static final String ABLATION_REPORT = "ablation-report";
    /** Commands that run a chain of stages: the nightly chain, and the ablation ({@link #runAblation}). */
    static final List<String> CHAINS = List.of("nightly", "ablate");

    static {
        STAGES.put("check-inputs", CheckInputsStage::new);
        STAGES.put("simulate", SimulateStage::new);
        STAGES.put("import-events", ImportEventsStage::new);
        STAGES.put("build-training-data", BuildTrainingDataStage::new);
        STAGES.put("train", TrainStage::new);
        STAGES.put("infer-embeddings", InferEmbeddingsStage::new);
        STAGES.put("evaluate", EvaluateStage::new);
        STAGES.put(ABLATION_REPORT, AblationReportStage::new);
        STAGES.put("forget-users", ForgetUsersStage::new);
    }

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The separator of the stages of one command line ({@code STAGE [options] --then STAGE [options]...}). */
    public static final String THEN = "--then";

    /**
     * Parses the command line, runs its stage (or its stages in order on one session), returns the exit code. Every
     * stage's command line and configuration is checked before the first one runs.
     */
    public static int run(String[] args) {
        List<String> stages = new ArrayList<>();
        List<PipelineConfig> configs = new ArrayList<>();
        try {
            for (String[] step : steps(args)) {
                Invocation inv = Invocation.parse(step);
                PipelineConfig config = PipelineConfig.load(inv.configFile(), inv.overrides());
                if (!configs.isEmpty() && !config.spark().equals(configs.get(0).spark())) {
                    throw new IllegalArgumentException("stage " + (configs.size() + 1) + " (" + inv.stage()
                            + ") has other spark settings than the first (" + config.spark() + " against "
                            + configs.get(0).spark() + "): stages joined by " + THEN + " share one Spark session");
                }
                stages.add(inv.stage());
                configs.add(config);
            }
        } catch (InvalidConfigException | IllegalArgumentException e) {
            LOG.error("{}", e.getMessage());
            System.err.println("error: " + e.getMessage());
            return EXIT_USAGE;
        }
        SparkSession spark = SparkSessions.create(configs.get(0).spark());
        for (int i = 0; i < stages.size(); i++) {
            int code = run(stages.get(i), configs.get(i), spark);
            if (code != EXIT_OK) {
                if (stages.size() > 1) {
                    LOG.error(
                            "stage {} of {} ({}) ended with exit code {}; the stages after it did not run",
                            i + 1,
                            stages.size(),
                            stages.get(i),
                            code);
                }
                return code;
            }
        }
        return EXIT_OK;
    }

    /** The command line split at every {@link #THEN}; an empty part is an error. */
    static List<String[]> steps(String[] args) {
        List<String[]> steps = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals(THEN)) {
                if (i == from && (args.length > 0)) {
                    throw new IllegalArgumentException(THEN + " must stand between two stages");
                }
                steps.add(Arrays.copyOfRange(args, from, i));
                from = i + 1;
            }
        }
        return steps;
    }

    /**
     * Runs one stage (or {@code nightly}) on an existing session; tests and the nightly chain share one session. With
     * {@code skip-complete}, a stage whose success marker for the day exists is skipped; the marker is written after
     * the stage succeeds.
     */
    public static int run(String stageName, PipelineConfig config, SparkSession spark) {
        if (stageName.equals("nightly")) {
            return runNightly(config, spark);
        }
        if (stageName.equals("ablate")) {
            return runAblation(config, spark);
        }
        Stage stage = STAGES.get(stageName).get();
        LocalDate runDate = config.runDate().orElseGet(() -> defaultRunDate(stageName, config));
        StageMarkers markers = new StageMarkers(config.storageRoot());
        if (config.skipComplete() && markers.complete(stageName, runDate)) {
            LOG.info(
                    "SUMMARY stage={} run-date={} status=SKIPPED reason=complete marker={}",
                    stageName,
                    runDate,
                    markers.marker(stageName, runDate));
            return EXIT_OK;
        }
        LOG.info("stage {} run-date {} storage {}\n{}", stageName, runDate, config.storageRoot(), config.render());
        return execute(
                stageName,
                stage,
                new StageContext(spark, config, new DeltaTables(spark, config.storageRoot()), runDate),
                markers);
    }

    /** Runs a stage, logs its SUMMARY line and maps its outcome to an exit code; marks it complete when given markers. */
    private static int execute(String stageName, Stage stage, StageContext ctx, StageMarkers markers) {
        LocalDate runDate = ctx.runDate();
        PipelineConfig config = ctx.config();
        SparkSession spark = ctx.spark();
        long t0 = System.nanoTime();
        try {
            StageReport report = stage.run(ctx);
            String summary = String.format(
                    "stage=%s run-date=%s status=OK elapsed=%s %s",
                    stageName, runDate, seconds(System.nanoTime() - t0), report.summary());
            if (markers != null) {
                markers.markComplete(stageName, runDate, summary);
            }
            LOG.info("SUMMARY {}", summary);
            return EXIT_OK;
        } catch (InputsMissingException e) {
            LOG.error(
                    "SUMMARY stage={} run-date={} status=INPUTS_MISSING elapsed={} error={}",
                    stageName,
                    runDate,
                    seconds(System.nanoTime() - t0),
                    e.getMessage());
            return EXIT_INPUTS_MISSING;
        } catch (InvalidConfigException e) {
            System.err.println("error: " + e.getMessage());
            LOG.error(
                    "SUMMARY stage={} run-date={} status=INVALID elapsed={} error={}",
                    stageName,
                    runDate,
                    seconds(System.nanoTime() - t0),
                    e.getMessage());
            return EXIT_USAGE;
        } catch (Exception e) {
            LOG.debug("stage " + stageName + " failed", e);
            String trace = saveStackTrace(spark, config, stageName, runDate, e);
            LOG.error(
                    "SUMMARY stage={} run-date={} status=FAILED elapsed={} error={}{} (stack trace: {})",
                    stageName,
                    runDate,
                    seconds(System.nanoTime() - t0),
                    firstLine(e),
                    rootCause(e),
                    trace);
            return EXIT_FAILED;
        }
    }

    /**
     * The nightly chain for one day: {@link #NIGHTLY} in order on one session, each stage skipped when complete
     * (unless {@code skip-complete = false}, i.e. {@code --force}). Exit codes: 0 all done; 2 a configuration or
     * input-shape error (a retry cannot fix it); 3 inputs missing; 10 + position of the failed stage otherwise (11 build-training-data, 12 train, 13 infer-embeddings, 14 evaluate).
     */
    static int runNightly(PipelineConfig config, SparkSession spark) {
        long t0 = System.nanoTime();
        LocalDate runDate = config.runDate().orElseGet(() -> defaultRunDate("nightly", config));
        for (int i = 0; i < NIGHTLY.size(); i++) {
            String stage = NIGHTLY.get(i);
            if (!STAGES.containsKey(stage)) {
                LOG.warn("nightly: stage {} is not part of this build; skipping it", stage);
                continue;
            }
            int code = run(stage, config, spark);
            if (code == EXIT_INPUTS_MISSING) {
                LOG.error("SUMMARY stage=nightly run-date={} status=INPUTS_MISSING at={}", runDate, stage);
                return code;
            }
            if (code == EXIT_USAGE) {
                LOG.error("SUMMARY stage=nightly run-date={} status=INVALID at={}", runDate, stage);
                return code;
            }
            if (code != EXIT_OK) {
                LOG.error(
                        "SUMMARY stage=nightly run-date={} status=FAILED at={} elapsed={}",
                        runDate,
                        stage,
                        seconds(System.nanoTime() - t0));
                return EXIT_NIGHTLY_STAGE_BASE + i;
            }
        }
        LOG.info("SUMMARY stage=nightly run-date={} status=OK elapsed={}", runDate, seconds(System.nanoTime() - t0));
        return EXIT_OK;
    }

    /**
     * The ablation of a run date D (evaluation days after T = D - evaluate.eval-days): each run of the
     * {@link AblationPlan} (a variant with a seed) trains and embeds on T into its own scratch store, unmarked (a run
     * is scratch, not the day's model); then {@code ablation-report} measures every run on the held-out events and
     * writes {@code reports/D/ablation.json}, and {@code evaluate} renders the report with it. Stops at the first
     * failure with that stage's exit code.
     */
    static int runAblation(PipelineConfig config, SparkSession spark) {
        LocalDate runDate = config.runDate().orElseGet(() -> defaultRunDate("ablate", config));
        LocalDate t = runDate.minusDays(config.evaluate().evalDays());
        DeltaTables tables = new DeltaTables(spark, config.storageRoot());
        List<AblationPlan.Run> runs;
        try {
            runs = AblationPlan.of(config, runDate);
        } catch (InvalidConfigException e) {
            LOG.error("SUMMARY stage=ablate run-date={} status=INVALID error={}", runDate, e.getMessage());
            return EXIT_USAGE;
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < runs.size(); i++) {
            AblationPlan.Run r = runs.get(i);
            LOG.info(
                    "ablation run {}/{}: {} seed {} (trained on {}, in {})",
                    i + 1,
                    runs.size(),
                    r.variant(),
                    r.seed(),
                    t,
                    r.dir());
            StageContext ctx = new StageContext(spark, r.config(), tables, t);
            for (Stage stage : List.<Stage>of(new TrainStage(), new InferEmbeddingsStage())) {
                int code = execute(stage.name() + "-" + r.variant() + "-seed" + r.seed(), stage, ctx, null);
                if (code != EXIT_OK) {
                    return code;
                }
            }
        }
        StageContext day = new StageContext(spark, config, tables, runDate);
        for (String stage : List.of(ABLATION_REPORT, "evaluate")) {
            int code = execute(stage, STAGES.get(stage).get(), day, new StageMarkers(config.storageRoot()));
            if (code != EXIT_OK) {
                return code;
            }
        }
        LOG.info(
                "SUMMARY stage=ablate run-date={} status=OK runs={} elapsed={}",
                runDate,
                runs.size(),
                seconds(System.nanoTime() - t0));
        return EXIT_OK;
    }

    /**
     * Writes a failed stage's stack trace to {@code <storage.root>/_logs/<stage>/ds=<day>/failed-<time>.txt}, so the
     * screen shows one line and the trace is still kept; returns the file, or the trace itself if it cannot be written.
     */
    private static String saveStackTrace(
            SparkSession spark, PipelineConfig config, String stage, LocalDate runDate, Exception e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        String file = config.storageRoot().replaceAll("/+$", "") + "/_logs/" + stage + "/ds=" + runDate + "/failed-"
                + LocalDateTime.now(ZoneOffset.UTC).withNano(0).toString().replace(":", "") + ".txt";
        try {
            TextFiles.write(spark, file, trace.toString());
            return file;
        } catch (RuntimeException io) {
            return "not saved (" + io.getMessage() + "):\n" + trace;
        }
    }

    private static String firstLine(Throwable e) {
        return e.getClass().getSimpleName() + ": "
                + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? "" : "; root cause " + firstLine(root);
    }

    private static LocalDate defaultRunDate(String stage, PipelineConfig config) {
        return config.simulate().startDate().plusDays(config.simulate().days() - 1L);
    }

    static String seconds(long nanos) {
        return String.format("%.1fs", nanos / 1e9);
    }

    /** A parsed command line. */
    record Invocation(String stage, File configFile, Map<String, String> overrides) {
        static Invocation parse(String[] args) {
            if (args.length == 0 || !(STAGES.containsKey(args[0]) || CHAINS.contains(args[0]))) {
                List<String> commands = new ArrayList<>(STAGES.keySet());
                commands.addAll(CHAINS);
                throw new IllegalArgumentException(
                        (args.length == 0 ? "no stage given" : "unknown stage '" + args[0] + "'")
                                + "; usage: STAGE [--config FILE] [--set key=value]...; stages: " + commands);
            }
            File config = null;
            Map<String, String> sets = new LinkedHashMap<>();
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if ((a.equals("--config") || a.equals("--set")) && i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                switch (a) {
                    case "--config" -> config = new File(args[++i]);
                    case "--set" -> {
                        String kv = args[++i];
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("--set " + kv + ": expected key=value");
                        }
                        sets.put(
                                kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                    }
                    default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
                }
            }
            return new Invocation(args[0], config, sets);
        }
    }
}
