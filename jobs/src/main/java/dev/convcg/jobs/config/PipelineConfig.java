package dev.convcg.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.convcg.core.eval.Bootstrap;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.ingest.ImportSettings;
import dev.convcg.core.schema.ConversionType;
import dev.convcg.core.schema.Surface;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.training.TrainingDataSettings;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import java.io.File;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The whole configuration, bound once at start-up into immutable records. pipeline-core and model only ever see
 * their own settings records, never the config library.
 */
public record PipelineConfig(
        Optional<LocalDate> runDate,
        boolean skipComplete,
        String storageRoot,
        SparkSettings spark,
        SimulationSettings simulate,
        ImportSource importSource,
        ImportSettings importSettings,
        TrainingDataSettings trainingData,
        ModelConfig model,
        int contentEmbeddingDim,
        int maxHashBuckets,
        int hashBucketsLimit,
        List<String> excludedFeatures,
        TrainSettings train,
        EvaluationSettings evaluate,
        Scorer scorer,
        EmbeddingSettings.InferEmbeddings inferEmbeddings,
        EmbeddingSettings.ForgetUsers forgetUsers,
        boolean engagementRetriever,
        Config source) {

    /**
     * What multiplies the query and pin blocks of evaluate's exact top-K ({@code evaluate.scorer}): LIBTORCH (the
     * engine the project ships, one thread per task) or BLAS (netlib: a native BLAS when the machine has one, else
     * its Java implementation).
     */
    public enum Scorer {
        LIBTORCH,
        BLAS
    }

    /** Suffix of the engagement retriever's model store and embedding root (beside the conversion model's). */
    public static final String ENGAGEMENT_RETRIEVER_SUFFIX = "-engagement-only";

    /**
     * The configuration of the click-trained engagement retriever that {@code train} and {@code infer-embeddings}
     * build and publish beside the conversion model when {@code engagement-retriever.enabled} (the retriever a team
     * already has, and the {@code engagement_only} row of every report): the same data, architecture and schedule,
     * trained on clicks only (and the served or sampled negatives), one head, no example weights, no advertiser loss,
     * no re-engagement bias; its own model store and embedding root, with this file's suffix. The one place these
     * overrides are made.
     */
    public PipelineConfig engagementRetrieverConfig() {
        Map<String, Object> o = Map.of(
                "convcg.engagement-retriever.enabled",
                false,
                "convcg.train.model-store",
                train.modelStore() + ENGAGEMENT_RETRIEVER_SUFFIX,
                "convcg.train.event-types",
                List.of("CLICK", "IMPRESSION", "SAMPLED"),
                "convcg.model.heads.mode",
                "UNIFIED",
                "convcg.model.use-example-weights",
                false,
                "convcg.model.advertiser-loss.enabled",
                false,
                "convcg.model.reengagement.enabled",
                false,
                "convcg.infer-embeddings.output-root",
                inferEmbeddings.outputRoot() + ENGAGEMENT_RETRIEVER_SUFFIX,
                "convcg.infer-embeddings.model-version",
                "");
        Config overrides = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : o.entrySet()) {
            overrides = overrides.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return bind(overrides.withFallback(source));
    }

    /** Where Spark runs and with what extra settings. An empty master means "as given by spark-submit". */
    public record SparkSettings(String master, String appName, int shufflePartitions, Map<String, String> conf) {}

    /**
     * How the train stage runs; {@code trainer} carries the optimisation settings (its checkpoint directory and
     * devices are set per run).
     */
    public record TrainSettings(
            int windowDays,
            int validationDays,
            TrainerConfig trainer,
            boolean warmStart,
            int earlyStoppingPatience,
            double earlyStoppingMinDelta,
            boolean restoreBest,
            int sampledRecallK,
            int sampledConversions,
            int sampledCandidates,
            boolean durationWeights,
            List<String> eventTypes,
            String modelStore,
            ReengagementCalibrationSettings reengagementCalibration) {}

    /**
     * The refit of the re-engagement biases on the held-out positives over the full catalog after training
     * (train.reengagement-calibration; {@code ReengagementCalibration}).
     *
     * @param enabled off: serve the biases training learned
     * @param maxRows held-out positives sampled for the refit
     * @param ridge   pull towards the learned biases (logit units², per unit of row weight)
     * @param recallK K of the before/after recall the refit logs
     * @param popularityPrior also fit a score per popularity bin of the pins, which serving adds
     *                        ({@code PopularityPrior}; counted over training-data.feature-window-days)
     */
    public record ReengagementCalibrationSettings(
            boolean enabled, int maxRows, double ridge, int recallK, boolean popularityPrior) {}

    /**
     * The file the importer reads, how, and how its days enter the raw tables.
     *
     * @param columns column names of a headerless CSV, in file order
     * @param mode    REPLACE_DAYS: the days the file's accepted rows occupy are replaced; APPEND: the rows are added
     *                to those days (for several files of the same days)
     */
    public record ImportSource(
            String input, String format, boolean csvHeader, String csvDelimiter, List<String> columns, Mode mode) {
        public enum Mode {
            REPLACE_DAYS,
            APPEND
        }
    }

    public static PipelineConfig load(File configFile, Map<String, String> overrides) {
        return bind(ConfigLoader.load(configFile, overrides));
    }

    public static PipelineConfig bind(Config config) {
        Settings root = new Settings(config, ConfigLoader.ROOT);
        String runDate = root.string("run-date");
        Optional<LocalDate> date = runDate.isBlank() ? Optional.empty() : Optional.of(root.date("run-date"));
        String storageRoot = root.section("storage").string("root");
        if (storageRoot.isBlank()) {
            throw new InvalidConfigException(root.key("storage.root") + " is empty: expected a directory or URI");
        }
        Settings model = root.section("model");
        ModelConfig modelConfig = model(model);
        String modelStore = root.section("train").string("model-store");
        return new PipelineConfig(
                date,
                root.bool("skip-complete"),
                storageRoot,
                spark(root.section("spark")),
                simulate(root.section("simulate")),
                importSource(root.section("import-events")),
                importSettings(root.section("import-events")),
                trainingData(root.section("training-data")),
                modelConfig,
                model.positiveInt("content-embedding-dim"),
                model.positiveInt("max-hash-buckets"),
                model.positiveInt("hash-buckets-limit"),
                excludedFeatures(model, modelConfig),
                train(root.section("train"), modelStore.isBlank() ? StorageLayout.models(storageRoot) : modelStore),
                evaluate(root.section("evaluate")),
                root.section("evaluate").enumValue("scorer", Scorer.class),
                EmbeddingSettings.inferEmbeddings(root.section("infer-embeddings"), storageRoot),
                EmbeddingSettings.forgetUsers(root.section("forget-users")),
                root.section("engagement-retriever").bool("enabled"),
                config);
    }

    /**
     * model.excluded-features: names of default features, none twice, leaving each tower a feature, the pin_id table
     * the history sequences read, and the sequences the re-engagement bias reads.
     */
    private static List<String> excludedFeatures(Settings model, ModelConfig modelConfig) {
        List<String> names = model.strings("excluded-features");
        String key = model.key("excluded-features") + " = " + names + ": ";
        if (new HashSet<>(names).size() != names.size()) {
            throw new InvalidConfigException(key + "a name appears twice");
        }
        if (modelConfig.reengagement().enabled()) {
            names.stream()
                    .filter(modelConfig.reengagement().sequences()::contains)
                    .findFirst()
                    .ifPresent(n -> {
                        throw new InvalidConfigException(key + "'" + n
                                + "' is read by model.reengagement.sequences; exclude it there too or keep it");
                    });
        }
        try {
            FeatureSchema.defaults().without(names);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(key + e.getMessage());
        }
        return List.copyOf(names);
    }

    private static SparkSettings spark(Settings s) {
        Map<String, String> conf = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : s.raw().getConfig("conf").entrySet()) {
            conf.put(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
        }
        return new SparkSettings(
                s.string("master"), s.string("app-name"), s.positiveInt("shuffle-partitions"), Map.copyOf(conf));
    }

    private static TrainingDataSettings trainingData(Settings s) {
        Settings weights = s.section("conversion-weights");
        Map<ConversionType, Double> conversionWeights = new EnumMap<>(ConversionType.class);
        for (String type : weights.raw().root().keySet()) {
            try {
                conversionWeights.put(ConversionType.valueOf(type), weights.number(type));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(
                        weights.key(type) + ": unknown conversion type; expected " + List.of(ConversionType.values()));
            }
        }
        Settings click = s.section("click-weight");
        Settings hard = s.section("hard-negatives");
        Settings sampled = s.section("sampled-negatives");
        double[] splits = s.raw().getDoubleList("price-splits").stream()
                .mapToDouble(Double::doubleValue)
                .toArray();
        return s.bind(() -> new TrainingDataSettings(
                s.positiveInt("click-through-window-days"),
                s.positiveInt("view-through-window-days"),
                s.positiveInt("lookback-days"),
                conversionWeights,
                click.enumValue("shape", TrainingDataSettings.ClickWeightShape.class),
                click.number("intercept"),
                click.number("slope"),
                click.longValue("t-max-ms"),
                click.number("min"),
                click.number("max"),
                s.number("save-weight"),
                hard.fraction("rate"),
                hard.nonNegativeInt("cap-per-user-day"),
                s.positiveInt("history-length"),
                s.positiveInt("feature-window-days"),
                s.number("ctr-prior-mean"),
                s.number("cvr-prior-mean"),
                s.number("prior-strength"),
                splits,
                s.fraction("quarantine-threshold"),
                s.longValue("seed"),
                new TrainingDataSettings.SampledNegativeSettings(
                        sampled.enumValue("distribution", TrainingDataSettings.NegativeSampling.class),
                        sampled.nonNegativeInt("per-positive")),
                s.enumValue("same-day-repeats", TrainingDataSettings.SameDayRepeats.class)));
    }

    private static ModelConfig model(Settings s) {
        Settings tower = s.section("tower");
        Settings temp = s.section("temperature");
        Settings heads = s.section("heads");
        Settings hard = s.section("hard-negatives");
        Settings adv = s.section("advertiser-loss");
        Settings reengagement = s.section("reengagement");
        List<Integer> widths = new ArrayList<>();
        for (String w : tower.strings("mlp-widths")) {
            try {
                widths.add(Integer.parseInt(w));
            } catch (NumberFormatException e) {
                throw new InvalidConfigException(
                        tower.key("mlp-widths") + " contains \"" + w + "\": expected integers");
            }
        }
        return s.bind(() -> new ModelConfig(
                s.positiveInt("embedding-dim"),
                new ModelConfig.TowerConfig(
                        tower.enumValue("arrangement", ModelConfig.Arrangement.class),
                        tower.nonNegativeInt("cross-layers"),
                        tower.nonNegativeInt("cross-rank"),
                        widths),
                new ModelConfig.TemperatureConfig(
                        (float) temp.number("initial"), (float) temp.number("min"), (float) temp.number("max")),
                new ModelConfig.HeadConfig(
                        heads.enumValue("mode", ModelConfig.HeadMode.class),
                        (float) heads.number("conversion-weight"),
                        (float) heads.number("engagement-weight")),
                s.bool("logq-correction"),
                new ModelConfig.HardNegativeConfig(hard.bool("enabled"), hard.nonNegativeInt("max-count")),
                new ModelConfig.AdvertiserLossConfig(adv.bool("enabled"), (float) adv.number("weight")),
                s.bool("use-example-weights"),
                new ModelConfig.ReengagementConfig(reengagement.bool("enabled"), reengagement.strings("sequences")),
                s.number("pin-bias")));
    }

    private static TrainSettings train(Settings s, String modelStore) {
        Settings sched = s.section("schedule");
        Settings stop = s.section("early-stopping");
        Settings recall = s.section("sampled-recall");
        TrainerConfig.ScheduleConfig schedule = sched.bind(() -> new TrainerConfig.ScheduleConfig(
                sched.enumValue("kind", TrainerConfig.ScheduleKind.class), sched.nonNegativeInt("warmup-steps"),
                sched.positiveInt("decay-steps"), (float) sched.fraction("min-lr-fraction"),
                sched.positiveInt("step-every"), (float) sched.fraction("step-factor")));
        TrainerConfig trainer = s.bind(() -> new TrainerConfig(
                s.enumValue("optimizer", TrainerConfig.Optimizer.class),
                (float) s.number("learning-rate"),
                (float) s.number("weight-decay"),
                schedule,
                (float) s.number("grad-clip-norm"),
                (int) s.longValue("seed"),
                s.positiveInt("batch-size"),
                s.positiveInt("epochs"),
                s.nonNegativeInt("checkpoint-every-steps"),
                "",
                s.positiveInt("keep-checkpoints"),
                true,
                s.string("devices"),
                s.bool("fallback-to-cpu"),
                s.nonNegativeInt("intra-op-threads"),
                s.positiveInt("log-every-n-steps")));
        int window = s.positiveInt("window-days");
        int validation = s.nonNegativeInt("validation-days");
        if (validation >= window) {
            throw new InvalidConfigException(s.key("validation-days") + " = " + validation
                    + ": expected fewer than train.window-days (" + window + ")");
        }
        return new TrainSettings(
                window,
                validation,
                trainer,
                s.bool("warm-start"),
                stop.nonNegativeInt("patience"),
                stop.number("min-delta"),
                stop.bool("restore-best"),
                recall.positiveInt("k"),
                recall.positiveInt("conversions"),
                recall.positiveInt("candidates"),
                s.bool("duration-weights"),
                eventTypes(s),
                modelStore,
                reengagementCalibration(s.section("reengagement-calibration")));
    }

    private static ReengagementCalibrationSettings reengagementCalibration(Settings s) {
        return new ReengagementCalibrationSettings(
                s.bool("enabled"),
                s.positiveInt("max-rows"),
                s.nonNegative("ridge"),
                s.positiveInt("recall-k"),
                s.bool("popularity-prior"));
    }

    private static List<String> eventTypes(Settings s) {
        List<String> allowed = List.of("ADD_TO_CART", "CHECKOUT", "CLICK", "SAVE", "IMPRESSION", "SAMPLED");
        List<String> types = s.strings("event-types");
        for (String t : types) {
            if (!allowed.contains(t)) {
                throw new InvalidConfigException(
                        s.key("event-types") + " contains \"" + t + "\": expected any of " + allowed);
            }
        }
        if (types.isEmpty()) {
            throw new InvalidConfigException(s.key("event-types") + " is empty: expected any of " + allowed);
        }
        return List.copyOf(types);
    }

    private static SimulationSettings simulate(Settings s) {
        LocalDate start = s.date("start-date");
        long seed = s.longValue("seed");
        int days = s.positiveInt("days");
        int users = s.positiveInt("users");
        int pins = s.positiveInt("pins");
        int advertisers = s.positiveInt("advertisers");
        int categories = s.positiveInt("categories");
        int topicDim = s.positiveInt("topic-dim");
        double impressions = s.number("impressions-per-user-day");
        double active = s.fraction("active-user-rate");
        double correlation = s.fraction("intent-correlation");
        double duplicates = s.fraction("duplicate-report-rate");
        double malformed = s.fraction("malformed-rate");
        int partitions = s.positiveInt("partitions");
        SimulationSettings.Behaviour behaviour = s.bind(() -> new SimulationSettings.Behaviour(
                s.number("conversion-logit-shift"),
                s.number("advertiser-quality-sd"),
                s.fraction("return-rate"),
                s.number("organic-per-day"),
                s.number("view-through-penalty")));
        return s.bind(() -> new SimulationSettings(
                seed,
                start,
                days,
                users,
                pins,
                advertisers,
                categories,
                topicDim,
                impressions,
                active,
                correlation,
                duplicates,
                malformed,
                partitions,
                behaviour));
    }

    private static ImportSource importSource(Settings s) {
        String format = s.string("format");
        if (!List.of("csv", "parquet").contains(format)) {
            throw new InvalidConfigException(s.key("format") + " = \"" + format + "\": expected csv or parquet");
        }
        String delimiter = s.string("csv-delimiter");
        if (delimiter.isEmpty()) {
            throw new InvalidConfigException(
                    s.key("csv-delimiter") + " is empty: expected a separator such as \",\" or \"\\t\"");
        }
        List<String> columns = s.strings("columns");
        if (new HashSet<>(columns).size() != columns.size()) {
            throw new InvalidConfigException(s.key("columns") + " = " + columns + ": expected distinct column names");
        }
        return new ImportSource(
                s.string("input"),
                format,
                s.bool("csv-header"),
                delimiter,
                columns,
                s.enumValue("mode", ImportSource.Mode.class));
    }

    private static ImportSettings importSettings(Settings s) {
        Map<String, List<ImportSettings.RawEvent>> values = new LinkedHashMap<>();
        Settings events = s.section("event-values");
        for (String value : events.raw().root().keySet()) {
            String path = ConfigUtil.joinPath(value);
            List<ImportSettings.RawEvent> mapped = new ArrayList<>();
            for (String target : events.strings(path)) {
                try {
                    mapped.add(ImportSettings.RawEvent.valueOf(target));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(events.key(path) + " contains \"" + target + "\": expected any of "
                            + List.of(ImportSettings.RawEvent.values()));
                }
            }
            values.put(value, mapped);
        }
        ImportSettings.TimestampUnit unit = s.enumValue("timestamp-unit", ImportSettings.TimestampUnit.class);
        ImportSettings.WithinDayOrder order = s.enumValue("within-day-order", ImportSettings.WithinDayOrder.class);
        Surface surface = s.enumValue("surface", Surface.class);
        String zoneName = s.string("zone");
        ZoneId zone;
        try {
            zone = ZoneId.of(zoneName);
        } catch (DateTimeException e) {
            throw new InvalidConfigException(s.key("zone") + " = \"" + zoneName
                    + "\": expected a java.time zone id such as UTC, Asia/Shanghai or +08:00");
        }
        LocalDate from = s.string("from").isBlank() ? null : s.date("from");
        LocalDate to = s.string("to").isBlank() ? null : s.date("to");
        int year = s.nonNegativeInt("default-year");
        int maxDays = s.nonNegativeInt("max-days-before-run-date");
        boolean hashIds = s.bool("hash-ids");
        return s.bind(() -> new ImportSettings(
                new ImportSettings.Columns(
                        s.string("user-id"),
                        s.string("pin-id"),
                        s.string("advertiser-id"),
                        s.string("category"),
                        s.string("price"),
                        s.string("event-type"),
                        s.string("timestamp")),
                unit,
                s.string("timestamp-pattern"),
                zone,
                year,
                order,
                hashIds,
                values,
                surface,
                from,
                to,
                maxDays));
    }

    private static EvaluationSettings evaluate(Settings s) {
        Set<EvaluationSettings.Baseline> baselines = new LinkedHashSet<>();
        for (String b : s.strings("baselines")) {
            try {
                baselines.add(EvaluationSettings.Baseline.valueOf(
                        b.toUpperCase(Locale.ROOT).replace('-', '_')));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(s.key("baselines") + " contains \"" + b + "\": expected any of "
                        + Arrays.stream(EvaluationSettings.Baseline.values())
                                .map(x -> x.name().toLowerCase(Locale.ROOT))
                                .toList());
            }
        }
        Settings a = s.section("als");
        EvaluationSettings.AlsSettings als = s.bind(() -> new EvaluationSettings.AlsSettings(
                a.positiveInt("rank"),
                a.number("reg-param"),
                a.number("alpha"),
                a.positiveInt("iterations"),
                a.longValue("seed"),
                a.number("conversion-weight"),
                a.positiveInt("refit-every-days")));
        Settings iv = s.section("intervals");
        Bootstrap.Settings intervals = s.bind(() ->
                new Bootstrap.Settings(iv.nonNegativeInt("replicates"), iv.number("level"), iv.longValue("seed")));
        return s.bind(() -> new EvaluationSettings(
                s.positiveInt("eval-days"),
                s.positiveInt("training-days"),
                s.ints("ks"),
                s.ints("curve-ks"),
                s.positiveInt("query-block-size"),
                s.positiveInt("item-block-size"),
                baselines,
                als,
                s.nonNegativeInt("max-users"),
                intervals,
                s.section("online-ab").nonNegativeInt("k")));
    }

    /** Keys whose values never reach the logs (credentials passed through spark.conf, say). */
    static final Pattern SECRET =
            Pattern.compile("(?i).*(secret|password|passwd|token|credential|access\\.key|private\\.key).*");

    /** The effective configuration as HOCON, for the logs, with secret-looking values replaced by "***". */
    public String render() {
        Config shown = source.getConfig(ConfigLoader.ROOT);
        for (Map.Entry<String, ConfigValue> e : shown.entrySet()) {
            if (SECRET.matcher(e.getKey()).matches()) {
                shown = shown.withValue(e.getKey(), ConfigValueFactory.fromAnyRef("***"));
            }
        }
        return shown.root()
                .render(ConfigRenderOptions.defaults()
                        .setOriginComments(false)
                        .setComments(false)
                        .setJson(false));
    }
}
