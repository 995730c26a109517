package dev.convcg.model.features;

import java.nio.charset.StandardCharsets;

/**
 * The one stable function that maps any 64-bit id to an embedding-table row.
 *
 * <p>{@code bucket(id, seed, n) = floorMod(splitmix64(id XOR seed), n)}, where splitmix64 is the
 * SplitMix64 output function (add the golden gamma 0x9E3779B97F4A7C15, then two xor-shift-multiply
 * rounds). It depends only on its arguments, never on the JVM, so the training job, the inference
 * stage and a re-trained model agree on every row. Feature seeds come from {@link #seedOf(String)}
 * (FNV-1a 64 of the feature name, then mixed) so two features hashing the same id land on
 * independent rows.
 */
public final class FeatureHashing {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private FeatureHashing() {}

    /** SplitMix64 output for state {@code x}: {@code mix(0) == 0xE220A8397B1DCDAFL}. */
    public static long mix(long x) {
        long z = x + GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Hashed bucket in {@code [0, buckets)}. */
    public static int bucket(long id, long seed, int buckets) {
        return (int) Math.floorMod(mix(id ^ seed), (long) buckets);
    }

    /** Bucket of a feature: hashed, or {@code floorMod(id, buckets)} for small dense codes. */
    public static int bucket(long id, FeatureSpec spec) {
        return spec.hashed() ? bucket(id, spec.seed(), spec.buckets()) : (int) Math.floorMod(id, (long) spec.buckets());
    }

    /** Stable per-feature seed: FNV-1a 64 of the UTF-8 name, mixed. */
    public static long seedOf(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }
}
