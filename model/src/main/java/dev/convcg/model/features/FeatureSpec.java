package dev.convcg.model.features;

import dev.convcg.model.config.Checks;

/**
 * One input feature of a tower; a list of these per tower is the feature hashing spec that the
 * model artifact carries.
 *
 * <p>Tensor layout produced for a batch of B rows (see {@link FeatureTensors}): ID → int64 (B)
 * bucket rows; ID_SEQUENCE → int64 (B, maxLength) rows and float32 (B, maxLength) mask; NUMERIC
 * → float32 (B, 1); VECTOR → float32 (B, dim) and float32 (B, 1) presence flag.
 *
 * @param name column / feature name (also the table name of ID and ID_SEQUENCE features)
 * @param kind ID, ID_SEQUENCE, NUMERIC or VECTOR
 * @param buckets embedding-table rows (ID, ID_SEQUENCE); 0 otherwise
 * @param dim embedding dimension (ID, ID_SEQUENCE) or input vector length (VECTOR); 1 for NUMERIC
 * @param seed hashing seed (ID, ID_SEQUENCE)
 * @param hashed true: splitmix64 bucket; false: {@code floorMod(id, buckets)} for small codes
 *     such as hour of day
 * @param maxLength sequence positions kept (ID_SEQUENCE), most recent first
 * @param pooling MEAN or ATTENTION (ID_SEQUENCE)
 * @param sharedTable name of the ID/ID_SEQUENCE feature whose table this feature reads, or null
 * @param log1p NUMERIC only: feed {@code log(1 + max(x, 0))} instead of x (for counts)
 */
public record FeatureSpec(
        String name,
        FeatureKind kind,
        int buckets,
        int dim,
        long seed,
        boolean hashed,
        int maxLength,
        Pooling pooling,
        String sharedTable,
        boolean log1p) {

    public FeatureSpec {
        Checks.require(name != null && !name.isBlank(), "feature.name", name, "a non-blank name");
        Checks.notNull("feature[" + name + "].kind", kind);
        switch (kind) {
            case ID, ID_SEQUENCE -> {
                Checks.positive("feature[" + name + "].buckets", buckets);
                Checks.positive("feature[" + name + "].dim", dim);
                if (kind == FeatureKind.ID_SEQUENCE) {
                    Checks.positive("feature[" + name + "].maxLength", maxLength);
                    Checks.notNull("feature[" + name + "].pooling", pooling);
                }
            }
            case NUMERIC -> Checks.require(dim == 1, "feature[" + name + "].dim", dim, "1");
            case VECTOR -> Checks.positive("feature[" + name + "].dim", dim);
        }
    }

    /** Hashed id feature with its own table. */
    public static FeatureSpec id(String name, int buckets, int dim) {
        return new FeatureSpec(
                name, FeatureKind.ID, buckets, dim, FeatureHashing.seedOf(name), true, 0, null, null, false);
    }

    /** Small dense code (0..buckets-1) looked up without hashing, e.g. hour of day. */
    public static FeatureSpec code(String name, int buckets, int dim) {
        return new FeatureSpec(name, FeatureKind.ID, buckets, dim, 0L, false, 0, null, null, false);
    }

    /** Hashed id sequence with its own table. */
    public static FeatureSpec sequence(String name, int buckets, int dim, int maxLength, Pooling pooling) {
        return new FeatureSpec(
                name,
                FeatureKind.ID_SEQUENCE,
                buckets,
                dim,
                FeatureHashing.seedOf(name),
                true,
                maxLength,
                pooling,
                null,
                false);
    }

    /** Id sequence reading the table of {@code owner} (same buckets, dim and seed). */
    public static FeatureSpec sequenceSharing(String name, FeatureSpec owner, int maxLength, Pooling pooling) {
        return new FeatureSpec(
                name,
                FeatureKind.ID_SEQUENCE,
                owner.buckets(),
                owner.dim(),
                owner.seed(),
                owner.hashed(),
                maxLength,
                pooling,
                owner.name(),
                false);
    }

    public static FeatureSpec numeric(String name, boolean log1p) {
        return new FeatureSpec(name, FeatureKind.NUMERIC, 0, 1, 0L, false, 0, null, null, log1p);
    }

    /** Fixed-length float vector; a missing (null) vector becomes zeros plus presence flag 0. */
    public static FeatureSpec vector(String name, int dim) {
        return new FeatureSpec(name, FeatureKind.VECTOR, 0, dim, 0L, false, 0, null, null, false);
    }

    /** Name of the embedding table this feature reads (ID and ID_SEQUENCE only). */
    public String tableName() {
        return sharedTable != null ? sharedTable : name;
    }

    /** Width this feature contributes to the tower input vector. */
    public int outputWidth() {
        return kind == FeatureKind.VECTOR ? dim + 1 : dim;
    }

    /** Number of tensors this feature contributes to a tower's input list. */
    public int arity() {
        return (kind == FeatureKind.ID_SEQUENCE || kind == FeatureKind.VECTOR) ? 2 : 1;
    }
}
