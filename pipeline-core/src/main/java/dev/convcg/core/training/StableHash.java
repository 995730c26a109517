package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import java.nio.charset.StandardCharsets;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.XXH64;
import org.apache.spark.unsafe.Platform;

/**
 * The one categorical-to-64-bit-id mapping of the project: XXH64 of the UTF-8 bytes with the fixed seed 42, i.e.
 * Spark's built-in {@code xxhash64} of a single string column. The model consumes only longs, so training
 * (Spark), inference and serving (plain Java, {@link #of(String)}) must map a category to the same id; null
 * maps to {@link #MISSING}.
 */
public final class StableHash {
    /** Spark's fixed {@code xxhash64} seed; never change it, every trained model depends on it. */
    public static final long SEED = 42L;
    /** Id of a missing (null) value. */
    public static final long MISSING = 0L;

    private StableHash() {}

    /** The 64-bit id of a string column. */
    public static Column of(Column value) {
        return when(value.isNull(), lit(MISSING)).otherwise(xxhash64(value.cast("string")));
    }

    /** The 64-bit ids of an array-of-strings column (e.g. query tokens), element by element. */
    public static Column ofEach(Column values) {
        return transform(values, StableHash::of);
    }

    /** The same id as {@link #of(Column)}, computed without Spark. */
    public static long of(String value) {
        if (value == null) {
            return MISSING;
        }
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        return XXH64.hashUnsafeBytes(b, Platform.BYTE_ARRAY_OFFSET, b.length, SEED);
    }
}
