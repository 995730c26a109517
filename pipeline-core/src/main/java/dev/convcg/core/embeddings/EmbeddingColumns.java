package dev.convcg.core.embeddings;

import static org.apache.spark.sql.types.DataTypes.*;

import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Column names of the published embedding tables ({@code pin_embeddings}, {@code user_embeddings}) and of the fresh
 * embeddings the smoother takes. A published row is the entity key column(s) followed by {@link #published}; the
 * day ({@code ds}) is the directory the rows live in. Meaning of every column: docs/embeddings.md.
 */
public final class EmbeddingColumns {
    private EmbeddingColumns() {}

    /** Published, smoothed, unit-length embedding: what retrieval reads. */
    public static final String EMBEDDING = "embedding";
    /** The model's own embedding of the entity on {@link #EMBEDDING_DATE}, before smoothing. */
    public static final String FRESH_EMBEDDING = "fresh_embedding";
    /** Model version that produced {@link #FRESH_EMBEDDING}. */
    public static final String MODEL_VERSION = "model_version";
    /** Lineage (first version of the warm-start chain) of that model. */
    public static final String LINEAGE_ID = "lineage_id";
    /** Day of the newest fresh embedding folded into {@link #EMBEDDING}. */
    public static final String EMBEDDING_DATE = "embedding_date";
    /** Last day the entity was active (present in that day's feature snapshot). */
    public static final String LAST_SEEN_DS = "last_seen_ds";
    /** True when the entity had no fresh embedding on the run day and its previous row was kept as is. */
    public static final String CARRIED_OVER = "carried_over";
    /** What produced {@link #EMBEDDING}: a {@link SmoothingSettings.Mode} name, {@link #NONE} or {@link #RESET}. */
    public static final String SMOOTHING = "smoothing";
    /** Fresh rows only: arrival order inside a day; among several rows of one entity the last one wins. */
    public static final String ARRIVAL_SEQ = "arrival_seq";

    /** Smoothing value of an entity seen for the first time: the fresh embedding as is. */
    public static final String NONE = "NONE";
    /** Smoothing value after a lineage reset: the fresh embedding as is, history discarded. */
    public static final String RESET = "RESET";

    private static final DataType VECTOR = createArrayType(FloatType, false);

    /** The non-key columns of a published row, in order. */
    public static final List<StructField> PUBLISHED = List.of(
            createStructField(EMBEDDING, VECTOR, false),
            createStructField(FRESH_EMBEDDING, VECTOR, false),
            createStructField(MODEL_VERSION, StringType, false),
            createStructField(LINEAGE_ID, StringType, false),
            createStructField(EMBEDDING_DATE, StringType, false),
            createStructField(LAST_SEEN_DS, StringType, false),
            createStructField(CARRIED_OVER, BooleanType, false),
            createStructField(SMOOTHING, StringType, false));

    /** Published schema for the given key fields. */
    public static StructType published(List<StructField> keys) {
        StructType t = new StructType();
        for (StructField k : keys) {
            t = t.add(k);
        }
        for (StructField f : PUBLISHED) {
            t = t.add(f);
        }
        return t;
    }
}
