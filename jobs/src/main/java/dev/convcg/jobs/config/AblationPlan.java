package dev.convcg.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.convcg.jobs.io.StorageLayout;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs of an ablation, built in one place from {@code evaluate.ablation}: every variant (a set of config
 * overrides, {@code default} first, then by name; {@code only} keeps some) once per seed, each with its own
 * configuration: the base one with the variant's overrides, the seed, a cold start, no engagement retriever, and its
 * own scratch model store and embedding root under {@link StorageLayout#ablationRun}.
 */
public final class AblationPlan {
    private AblationPlan() {}

    /**
     * One variant trained with one seed.
     *
     * @param dir scratch root of the run's model store and embeddings (a local path)
     */
    public record Run(String variant, int seed, String dir, PipelineConfig config) {}

    /** The runs for the ablation of {@code runDate}, in order: variants, then seeds. */
    public static List<Run> of(PipelineConfig base, LocalDate runDate) {
        Config ablation = base.source().getConfig("convcg.evaluate.ablation");
        Map<String, ConfigObject> variants = variants(ablation.getObject("variants"));
        List<String> only = ablation.getStringList("only");
        for (String name : only) {
            if (!variants.containsKey(name)) {
                throw new InvalidConfigException("convcg.evaluate.ablation.only names \"" + name
                        + "\", which is not a variant; variants: " + variants.keySet());
            }
        }
        if (!only.isEmpty()) {
            variants.keySet().retainAll(only);
        }
        List<Run> runs = new ArrayList<>();
        for (Map.Entry<String, ConfigObject> v : variants.entrySet()) {
            for (int seed : ablation.getIntList("seeds")) {
                String dir = StorageLayout.ablationRun(base.storageRoot(), runDate, v.getKey(), seed);
                runs.add(new Run(v.getKey(), seed, dir, variantConfig(base, v.getValue(), seed, dir)));
            }
        }
        return runs;
    }

    /** Variants in a stable order: {@code default} first, then by name. */
    private static Map<String, ConfigObject> variants(ConfigObject o) {
        Map<String, ConfigObject> out = new LinkedHashMap<>();
        if (o.containsKey("default")) {
            out.put("default", (ConfigObject) o.get("default"));
        }
        o.keySet().stream()
                .sorted()
                .filter(k -> !k.equals("default"))
                .forEach(k -> out.put(k, (ConfigObject) o.get(k)));
        return out;
    }

    /** The base configuration with one variant's overrides, a seed, and scratch storage for the run's outputs. */
    private static PipelineConfig variantConfig(PipelineConfig base, ConfigObject overrides, int seed, String dir) {
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, ConfigValue> e : overrides.entrySet()) {
            c = c.withValue("convcg." + e.getKey().replace("\"", ""), e.getValue());
        }
        Map<String, Object> run = Map.of(
                "convcg.train.seed",
                seed,
                "convcg.engagement-retriever.enabled",
                false,
                "convcg.train.warm-start",
                false,
                "convcg.train.model-store",
                StorageLayout.models(dir),
                "convcg.infer-embeddings.output-root",
                StorageLayout.embeddings(dir),
                "convcg.infer-embeddings.model-version",
                "",
                "convcg.infer-embeddings.reset",
                true);
        for (Map.Entry<String, Object> e : run.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return PipelineConfig.bind(c.withFallback(base.source()).resolve());
    }
}
