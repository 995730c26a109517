package dev.convcg.model.features;

import dev.convcg.model.config.Checks;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The feature hashing spec of both towers: ordered feature lists for the user/context tower and
 * the pin tower. Names are unique across both towers, because ID and ID_SEQUENCE features name
 * embedding tables and tables may be shared across towers (the user's engaged / converted pin
 * sequences read the pin tower's {@code pin_id} table by default).
 *
 * @param user user/context tower features, in input order
 * @param pin pin tower features, in input order
 */
public record FeatureSchema(List<FeatureSpec> user, List<FeatureSpec> pin) {

    public FeatureSchema {
        Checks.nonEmpty("features.user", user);
        Checks.nonEmpty("features.pin", pin);
        user = List.copyOf(user);
        pin = List.copyOf(pin);
        Map<String, FeatureSpec> byName = new LinkedHashMap<>();
        for (FeatureSpec s : concat(user, pin)) {
            Checks.require(
                    byName.put(s.name(), s) == null, "features.name", s.name(), "names unique across both towers");
        }
        for (FeatureSpec s : concat(user, pin)) {
            if (s.sharedTable() == null) {
                continue;
            }
            FeatureSpec owner = byName.get(s.sharedTable());
            Checks.require(
                    owner != null
                            && owner.sharedTable() == null
                            && (owner.kind() == FeatureKind.ID || owner.kind() == FeatureKind.ID_SEQUENCE),
                    "feature[" + s.name() + "].sharedTable",
                    s.sharedTable(),
                    "the name of an ID or ID_SEQUENCE feature that owns its table");
            Checks.require(
                    owner.buckets() == s.buckets()
                            && owner.dim() == s.dim()
                            && owner.seed() == s.seed()
                            && owner.hashed() == s.hashed(),
                    "feature[" + s.name() + "].sharedTable",
                    s.sharedTable(),
                    "a table with the same buckets, dim, seed and hashing");
        }
    }

    /**
     * Defaults matching the {@code training_examples} columns. Categorical strings arrive as
     * xxhash64 longs; {@code hour_of_day} and {@code pin_price_bucket} are small codes.
     */
    public static FeatureSchema defaults() {
        FeatureSpec pinId = FeatureSpec.id("pin_id", 1 << 17, 32);
        List<FeatureSpec> user = List.of(
                FeatureSpec.id("user_id", 1 << 17, 32),
                FeatureSpec.id("user_country", 1024, 16),
                FeatureSpec.id("surface", 64, 8),
                FeatureSpec.code("hour_of_day", 24, 8),
                FeatureSpec.sequence("query_tokens", 1 << 16, 32, 8, Pooling.MEAN),
                FeatureSpec.sequenceSharing("user_engaged_pins", pinId, 20, Pooling.MEAN),
                FeatureSpec.sequenceSharing("user_converted_pins", pinId, 20, Pooling.MEAN),
                FeatureSpec.numeric("user_clicks_28d", true),
                FeatureSpec.numeric("user_saves_28d", true),
                FeatureSpec.numeric("user_conversions_28d", true));
        List<FeatureSpec> pin = List.of(
                pinId,
                FeatureSpec.id("advertiser_id", 1 << 16, 16),
                FeatureSpec.id("pin_category", 4096, 16),
                FeatureSpec.code("pin_price_bucket", 32, 8),
                FeatureSpec.numeric("pin_ctr", false),
                FeatureSpec.numeric("pin_cvr", false),
                FeatureSpec.vector("pin_content_embedding", 64));
        return new FeatureSchema(user, pin);
    }

    /**
     * This schema without the named features (each must be one of its features). The result is validated like any
     * schema: each tower keeps a feature and a shared table keeps its owner.
     */
    public FeatureSchema without(Collection<String> excluded) {
        Set<String> known = new TreeSet<>(names());
        for (String n : excluded) {
            Checks.require(known.contains(n), "excluded feature", "'" + n + "'", "any of " + known);
        }
        return new FeatureSchema(
                user.stream().filter(f -> !excluded.contains(f.name())).toList(),
                pin.stream().filter(f -> !excluded.contains(f.name())).toList());
    }

    /** Width of the user tower's input vector x0. */
    public int userInputDim() {
        return width(user);
    }

    /** Width of the pin tower's input vector x0. */
    public int pinInputDim() {
        return width(pin);
    }

    /** Table name → owning spec (buckets, dim), in first-appearance order (user, then pin). */
    public Map<String, FeatureSpec> tables() {
        Map<String, FeatureSpec> tables = new LinkedHashMap<>();
        for (FeatureSpec s : concat(user, pin)) {
            if ((s.kind() == FeatureKind.ID || s.kind() == FeatureKind.ID_SEQUENCE) && s.sharedTable() == null) {
                tables.put(s.name(), s);
            }
        }
        return tables;
    }

    /** All feature names of both towers. */
    public Set<String> names() {
        Set<String> names = new HashSet<>();
        concat(user, pin).forEach(s -> names.add(s.name()));
        return names;
    }

    private static int width(List<FeatureSpec> specs) {
        return specs.stream().mapToInt(FeatureSpec::outputWidth).sum();
    }

    private static List<FeatureSpec> concat(List<FeatureSpec> a, List<FeatureSpec> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }
}
