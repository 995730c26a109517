package dev.convcg.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Loads the layered HOCON configuration, strongest first: {@code --set key=value} overrides, {@code -Dconvcg.key=value}
 * system properties, the {@code --config} file (which may {@code include} others), then reference.conf. Keys that
 * reference.conf does not define are refused, so a typo fails fast instead of being ignored. Objects merge across
 * layers, except the maps of {@link #WHOLE_MAPS}: a mapping is taken whole from the strongest layer that sets it, so
 * a preset's or a {@code --set}'s event values replace the default ones instead of adding to them.
 */
public final class ConfigLoader {
    public static final String ROOT = "convcg";
    /** Sections whose keys are free-form (passed through to Spark, say). */
    private static final List<String> OPEN_SECTIONS =
            List.of(ROOT + ".spark.conf", ROOT + ".evaluate.ablation.variants");
    /** Maps taken whole from the strongest layer that sets them; reference.conf entries a file includes do not count. */
    static final List<String> WHOLE_MAPS = List.of(ROOT + ".import-events.event-values");

    private ConfigLoader() {}

    public static Config load(File configFile, Map<String, String> overrides) {
        Config reference = ConfigFactory.defaultReference();
        Config file = ConfigFactory.empty();
        if (configFile != null) {
            if (!configFile.isFile()) {
                throw new InvalidConfigException("--config " + configFile + ": no such file");
            }
            try {
                file = ConfigFactory.parseFile(
                        configFile, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new InvalidConfigException("--config " + e.getMessage() + " (HOCON syntax)", e);
            }
        }
        Config sets = ConfigFactory.empty();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            sets = parseOverride(e.getKey(), e.getValue()).withFallback(sets);
        }
        Config properties = ConfigFactory.parseProperties(System.getProperties());
        Config system = properties.hasPath(ROOT) ? properties.getConfig(ROOT).atPath(ROOT) : ConfigFactory.empty();
        checkKnown(file, reference, "--config " + configFile);
        checkKnown(sets, reference, "--set");
        checkKnown(system, reference, "-D");
        Config merged = sets.withFallback(system).withFallback(file).withFallback(reference);
        for (String path : WHOLE_MAPS) {
            merged = wholeFromStrongest(merged, path, List.of(sets, system, file, reference));
        }
        try {
            return merged.resolve();
        } catch (ConfigException e) {
            throw new InvalidConfigException("configuration does not resolve: " + e.getMessage(), e);
        }
    }

    /**
     * Sets {@code path} to the value of the strongest layer that sets it. A file that includes reference.conf holds
     * the reference's entries too; those are left out, so the file sets the map only with entries of its own.
     */
    private static Config wholeFromStrongest(Config merged, String path, List<Config> layersStrongestFirst) {
        for (Config layer : layersStrongestFirst) {
            ConfigValue v = find(layer.root(), ConfigUtil.splitPath(path));
            if (v == null) {
                continue;
            }
            if (v instanceof ConfigObject o && layer != layersStrongestFirst.get(layersStrongestFirst.size() - 1)) {
                for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
                    if (fromReference(e.getValue().origin())) {
                        o = o.withoutKey(e.getKey());
                    }
                }
                if (o.isEmpty()) {
                    continue;
                }
                v = o;
            }
            return merged.withValue(path, v);
        }
        return merged;
    }

    private static ConfigValue find(ConfigObject object, List<String> path) {
        ConfigValue v = object.get(path.get(0));
        if (v == null || path.size() == 1) {
            return v;
        }
        return v instanceof ConfigObject o ? find(o, path.subList(1, path.size())) : null;
    }

    private static boolean fromReference(ConfigOrigin origin) {
        return origin != null && "reference.conf".equals(origin.resource());
    }

    private static Config parseOverride(String key, String value) {
        String path = ROOT + "." + key;
        try {
            return ConfigFactory.parseString(path + " = " + value);
        } catch (ConfigException e) {
            return ConfigFactory.parseMap(Map.of(path, value));
        }
    }

    private static void checkKnown(Config given, Config reference, String source) {
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : given.entrySet()) {
            String key = e.getKey();
            boolean open = OPEN_SECTIONS.stream().anyMatch(s -> key.startsWith(s + "."));
            if (!open && !reference.hasPathOrNull(key) && !underOpenMap(reference, key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new InvalidConfigException(
                    source + ": unknown key(s) " + unknown + "; every key must be one documented in reference.conf");
        }
    }

    /** Keys inside an object-valued setting whose entries are user-chosen, such as import-events.event-values. */
    private static boolean underOpenMap(Config reference, String key) {
        String parent = key.contains(".") ? key.substring(0, key.lastIndexOf('.')) : key;
        while (parent.contains(".")) {
            if (parent.endsWith("event-values")) {
                return true;
            }
            parent = parent.substring(0, parent.lastIndexOf('.'));
        }
        return false;
    }
}
