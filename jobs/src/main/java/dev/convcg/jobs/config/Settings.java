package dev.convcg.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Typed reads of one config section. Every failure, from the config library or from a settings record's own
 * validation, becomes an {@link InvalidConfigException} that names the full key, the value and what is allowed.
 */
public final class Settings {
    private final Config config;
    private final String path;

    public Settings(Config root, String path) {
        this.path = path;
        try {
            this.config = root.getConfig(path);
        } catch (ConfigException e) {
            throw new InvalidConfigException(path + ": " + e.getMessage(), e);
        }
    }

    public Settings section(String key) {
        return new Settings(config.atPath(path), path + "." + key);
    }

    public String key(String k) {
        return path + "." + k;
    }

    public String string(String k) {
        return read(k, config::getString, "a string");
    }

    public boolean bool(String k) {
        return read(k, config::getBoolean, "true or false");
    }

    public int positiveInt(String k) {
        int v = read(k, config::getInt, "an integer");
        if (v <= 0) {
            throw invalid(k, v, "a positive integer");
        }
        return v;
    }

    public int nonNegativeInt(String k) {
        int v = read(k, config::getInt, "an integer");
        if (v < 0) {
            throw invalid(k, v, "an integer >= 0");
        }
        return v;
    }

    public long longValue(String k) {
        return read(k, config::getLong, "an integer");
    }

    public double number(String k) {
        return read(k, config::getDouble, "a number");
    }

    public double nonNegative(String k) {
        double v = number(k);
        if (!(v >= 0)) {
            throw invalid(k, v, "a number >= 0");
        }
        return v;
    }

    public double fraction(String k) {
        double v = number(k);
        if (!(v >= 0 && v <= 1)) {
            throw invalid(k, v, "a number in [0, 1]");
        }
        return v;
    }

    public LocalDate date(String k) {
        String v = string(k);
        try {
            return LocalDate.parse(v);
        } catch (DateTimeParseException e) {
            throw invalid(k, "\"" + v + "\"", "a date yyyy-MM-dd");
        }
    }

    public List<String> strings(String k) {
        return read(k, config::getStringList, "a list of strings");
    }

    public List<Integer> ints(String k) {
        return read(k, config::getIntList, "a list of integers");
    }

    public <E extends Enum<E>> E enumValue(String k, Class<E> type) {
        String v = string(k);
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw invalid(k, "\"" + v + "\"", "one of " + Arrays.toString(type.getEnumConstants()));
        }
    }

    public Config raw() {
        return config;
    }

    /**
     * Builds a settings record, turning its validation error into one naming the HOCON key the user wrote. A record
     * labels a field {@code record.fieldName} or {@code record.nested.fieldName} (e.g. {@code trainer.learningRate});
     * the label after its first segment, in kebab case, is the key in this section ({@code learning-rate}) when the
     * section has it, else the label is kept under this section.
     */
    public <T> T bind(Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(keyed(e.getMessage()), e);
        }
    }

    /**
     * The validation message with its leading field label replaced by the section's key for it: the label, then its
     * suffixes after each leading segment, in kebab case, the first this section has; else the label under the section.
     */
    String keyed(String message) {
        int end = message.indexOf(' ');
        String label = end < 0 ? message : message.substring(0, end);
        String kebab = label.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        for (String candidate = kebab; ; candidate = candidate.substring(candidate.indexOf('.') + 1)) {
            if (config.hasPathOrNull(candidate)) {
                return key(candidate) + message.substring(label.length());
            }
            if (candidate.indexOf('.') < 0) {
                break;
            }
        }
        return path + "." + message;
    }

    private <T> T read(String k, Function<String, T> getter, String allowed) {
        try {
            return getter.apply(k);
        } catch (ConfigException.Missing e) {
            throw new InvalidConfigException(key(k) + " is missing: expected " + allowed, e);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            Object shown = config.hasPathOrNull(k) && !config.getIsNull(k)
                    ? config.getValue(k).render()
                    : "null";
            throw new InvalidConfigException(key(k) + " = " + shown + ": expected " + allowed, e);
        }
    }

    private InvalidConfigException invalid(String k, Object value, String allowed) {
        return new InvalidConfigException(key(k) + " = " + value + ": expected " + allowed);
    }
}
