package dev.convcg.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.ingest.ImportSettings;
import dev.convcg.core.schema.Surface;
import dev.convcg.core.sim.SimulationSettings;
import java.io.File;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole configuration, bound once at start-up into immutable records. pipeline-core and model only ever see
 * their own settings records, never the config library.
 */
public record PipelineConfig(
        Optional<LocalDate> runDate,
        String storageRoot,
        SparkSettings spark,
        SimulationSettings simulate,
        ImportSource importSource,
        ImportSettings importSettings,
        EvaluationSettings evaluate,
        Config source) {

    /** Where Spark runs and with what extra settings. An empty master means "as given by spark-submit". */
    public record SparkSettings(String master, String appName, int shufflePartitions, Map<String, String> conf) {}

    /** The file the importer reads and how. */
    public record ImportSource(String input, String format, boolean csvHeader, List<String> columns) {}

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
        return new PipelineConfig(date, storageRoot, spark(root.section("spark")), simulate(root.section("simulate")),
                importSource(root.section("import-events")), importSettings(root.section("import-events")), evaluate(root.section("evaluate")), config);
    }

    private static SparkSettings spark(Settings s) {
        Map<String, String> conf = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : s.raw().getConfig("conf").entrySet()) {
            conf.put(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
        }
        return new SparkSettings(s.string("master"), s.string("app-name"), s.positiveInt("shuffle-partitions"), Map.copyOf(conf));
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
        return s.bind(() -> new SimulationSettings(seed, start, days, users, pins, advertisers, categories, topicDim,
                impressions, active, correlation, duplicates, malformed, partitions));
    }

    private static ImportSource importSource(Settings s) {
        String format = s.string("format");
        if (!List.of("csv", "parquet").contains(format)) {
            throw new InvalidConfigException(s.key("format") + " = \"" + format + "\": expected csv or parquet");
        }
        return new ImportSource(s.string("input"), format, s.bool("csv-header"), s.strings("columns"));
    }

    private static ImportSettings importSettings(Settings s) {
        Map<String, List<ImportSettings.RawEvent>> values = new LinkedHashMap<>();
        Settings events = s.section("event-values");
        for (String value : events.raw().root().keySet()) {
            List<ImportSettings.RawEvent> mapped = new java.util.ArrayList<>();
            for (String target : events.strings(value)) {
                try {
                    mapped.add(ImportSettings.RawEvent.valueOf(target));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(events.key(value) + " contains \"" + target + "\": expected any of "
                            + List.of(ImportSettings.RawEvent.values()));
                }
            }
            values.put(value, mapped);
        }
        ImportSettings.TimestampUnit unit = s.enumValue("timestamp-unit", ImportSettings.TimestampUnit.class);
        Surface surface = s.enumValue("surface", Surface.class);
        return s.bind(() -> new ImportSettings(s.string("user-id"), s.string("pin-id"), s.string("advertiser-id"),
                s.string("category"), s.string("event-type"), s.string("timestamp"), unit, values, surface));
    }

    private static EvaluationSettings evaluate(Settings s) {
        java.util.Set<EvaluationSettings.Baseline> baselines = new java.util.LinkedHashSet<>();
        for (String b : s.strings("baselines")) {
            try {
                baselines.add(EvaluationSettings.Baseline.valueOf(b.toUpperCase(java.util.Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(s.key("baselines") + " contains \"" + b + "\": expected any of [popularity, als, oracle]");
            }
        }
        Settings a = s.section("als");
        EvaluationSettings.AlsSettings als = s.bind(() -> new EvaluationSettings.AlsSettings(a.positiveInt("rank"),
                a.number("reg-param"), a.number("alpha"), a.positiveInt("iterations"), a.longValue("seed"),
                a.number("conversion-weight")));
        return s.bind(() -> new EvaluationSettings(s.positiveInt("eval-days"), s.positiveInt("training-days"), s.ints("ks"),
                s.ints("curve-ks"), s.positiveInt("query-block-size"), s.positiveInt("item-block-size"), baselines, als));
    }

    /** The effective configuration as HOCON, for the logs. */
    public String render() {
        return source.getConfig(ConfigLoader.ROOT).root().render(
                ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false));
    }
}
