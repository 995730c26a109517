package dev.convcg.modelspark.train;

import static org.apache.spark.sql.functions.approx_count_distinct;

import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feature schema a training run uses: the model's default features adjusted to the data's shape
 * ({@link #of}), then its hashed-id tables sized to the window's distinct ids ({@link #sizedToData}).
 */
public final class TrainingSchema {
    /** Most share of a table's ids that may share a row with another id before the table grows to the data. */
    public static final double MAX_ID_COLLISION_SHARE = 0.5;

    private static final Logger LOG = LoggerFactory.getLogger(TrainingSchema.class);

    private TrainingSchema() {}

    /**
     * The default features without {@code excluded}, with content vectors {@code contentEmbeddingDim} wide, hashed-id
     * tables of at most {@code maxBuckets} rows, and the history sequences {@code historyLength} long (the sequences
     * the training data holds are read whole).
     */
    public static FeatureSchema of(int contentEmbeddingDim, int maxBuckets, int historyLength, List<String> excluded) {
        FeatureSchema d = FeatureSchema.defaults().without(excluded);
        return new FeatureSchema(
                adjust(d.user(), contentEmbeddingDim, maxBuckets, historyLength),
                adjust(d.pin(), contentEmbeddingDim, maxBuckets, historyLength));
    }

    private static List<FeatureSpec> adjust(
            List<FeatureSpec> specs, int contentDim, int maxBuckets, int historyLength) {
        return specs.stream()
                .map(s -> switch (s.kind()) {
                    case VECTOR -> FeatureSpec.vector(s.name(), contentDim);
                    case ID, ID_SEQUENCE -> {
                        int length = s.kind() == FeatureKind.ID_SEQUENCE && s.sharedTable() != null
                                ? historyLength
                                : s.maxLength();
                        int buckets = s.hashed() && s.buckets() > maxBuckets ? maxBuckets : s.buckets();
                        yield buckets == s.buckets() && length == s.maxLength()
                                ? s
                                : new FeatureSpec(
                                        s.name(),
                                        s.kind(),
                                        buckets,
                                        s.dim(),
                                        s.seed(),
                                        s.hashed(),
                                        length,
                                        s.pooling(),
                                        s.sharedTable(),
                                        s.log1p());
                    }
                    case NUMERIC -> s;
                })
                .toList();
    }

    /**
     * The schema with its hashed-id tables (user_id, pin_id, advertiser_id) sized to the window's data. Logs each
     * table's rows, the window's distinct ids and the expected share of them that share a row with another id
     * ({@code 1 − e^(−n/m)} for n ids in m rows). A table whose configured size leaves more than
     * {@value #MAX_ID_COLLISION_SHARE} of its ids sharing a row (a model that cannot tell most pins apart) grows to the
     * power of two at which at most 10% share, with every feature that reads it. A warm start keeps the parent's
     * sizes, which its parameters have.
     *
     * @param maxHashBuckets the configured most rows, named in the log (model.max-hash-buckets)
     * @param limit          most rows a table may grow to (model.hash-buckets-limit)
     * @throws TableLimitException when a table would need more than {@code limit} rows
     */
    public static FeatureSchema sizedToData(
            Dataset<Row> examples,
            FeatureSchema schema,
            int maxHashBuckets,
            int limit,
            Optional<FeatureSchema> parent) {
        List<String> ids = List.of("user_id", "pin_id", "advertiser_id");
        Row n = examples.agg(
                        approx_count_distinct(ids.get(0)),
                        approx_count_distinct(ids.get(1)),
                        approx_count_distinct(ids.get(2)))
                .first();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String name = ids.get(i);
            FeatureSpec table = schema.tables().get(name);
            long distinct = n.getLong(i);
            if (table == null || distinct == 0 || !table.hashed()) {
                continue;
            }
            int rows = parent.map(p -> p.tables().get(name))
                    .map(FeatureSpec::buckets)
                    .orElse(table.buckets());
            double shared = 1 - Math.exp(-(double) distinct / rows);
            if (shared > MAX_ID_COLLISION_SHARE && parent.isEmpty()) {
                long needed = Long.highestOneBit((long) Math.ceil(-distinct / Math.log(1 - 0.1))) * 2;
                if (needed > limit) {
                    throw new TableLimitException(String.format(
                            Locale.ROOT,
                            "convcg.model.hash-buckets-limit = %d "
                                    + "is too small for the data: the %s table needs %d rows for about %d distinct ids (at most "
                                    + "10%% of them sharing a row); raise model.hash-buckets-limit to at least %d",
                            limit,
                            name,
                            needed,
                            distinct,
                            needed));
                }
                LOG.warn(
                        "{} table: model.max-hash-buckets = {} gives {} rows for about {} distinct ids in the window, "
                                + "so about {}% of them would share a row; the table takes {} rows (the data's size, at most "
                                + "10% sharing)",
                        name, maxHashBuckets, rows, distinct, String.format(Locale.ROOT, "%.1f", 100 * shared), needed);
                rows = (int) needed;
                shared = 1 - Math.exp(-(double) distinct / rows);
            } else if (shared > MAX_ID_COLLISION_SHARE) {
                LOG.warn(
                        "{} table: the warm-start parent's {} rows leave about {}% of the window's {} distinct ids "
                                + "sharing a row; train cold (train.warm-start = false) to size it to the data",
                        name, rows, String.format(Locale.ROOT, "%.1f", 100 * shared), distinct);
            }
            LOG.info(
                    "{} table: {} rows for about {} distinct ids in the window; about {}% of them share a row",
                    name, rows, distinct, String.format(Locale.ROOT, "%.1f", 100 * shared));
            if (rows != table.buckets()) {
                sizes.put(name, rows);
            }
        }
        return sizes.isEmpty()
                ? schema
                : new FeatureSchema(resized(schema.user(), sizes), resized(schema.pin(), sizes));
    }

    /** The specs with the tables in {@code sizes} (owners and the features sharing them) at their new row counts. */
    private static List<FeatureSpec> resized(List<FeatureSpec> specs, Map<String, Integer> sizes) {
        return specs.stream()
                .map(s -> {
                    Integer rows = sizes.get(s.sharedTable() != null ? s.sharedTable() : s.name());
                    return rows == null
                            ? s
                            : new FeatureSpec(
                                    s.name(),
                                    s.kind(),
                                    rows,
                                    s.dim(),
                                    s.seed(),
                                    s.hashed(),
                                    s.maxLength(),
                                    s.pooling(),
                                    s.sharedTable(),
                                    s.log1p());
                })
                .toList();
    }

    /** A hashed-id table the data needs is larger than the configured limit: a configuration error. */
    public static final class TableLimitException extends IllegalArgumentException {
        public TableLimitException(String message) {
            super(message);
        }
    }
}
