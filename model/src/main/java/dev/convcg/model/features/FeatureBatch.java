package dev.convcg.model.features;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Column-wise features of B rows for one tower, as primitive arrays (no per-row objects), named by
 * feature name. Arrays are taken as-is, not copied: do not mutate them after handing them over.
 *
 * <ul>
 *   <li>id column: {@code long[B]}
 *   <li>sequence column: {@code long[B*W]} row-major padded ids, {@code int[B]} lengths
 *       (most recent first; positions at or beyond the length are ignored)
 *   <li>numeric column: {@code float[B]}
 *   <li>vector column: {@code float[B*D]} and an optional {@code boolean[B]} presence (null = all
 *       present); absent rows are fed as zeros with presence flag 0
 * </ul>
 */
public final class FeatureBatch {
    private final int rows;
    private final Map<String, long[]> ids;
    private final Map<String, Sequence> sequences;
    private final Map<String, float[]> numerics;
    private final Map<String, Vector> vectors;

    private FeatureBatch(Builder b) {
        rows = b.rows;
        ids = Collections.unmodifiableMap(b.ids);
        sequences = Collections.unmodifiableMap(b.sequences);
        numerics = Collections.unmodifiableMap(b.numerics);
        vectors = Collections.unmodifiableMap(b.vectors);
    }

    public static Builder builder(int rows) {
        return new Builder(rows);
    }

    public int rows() {
        return rows;
    }

    public long[] ids(String name) {
        return require(ids, name, "id");
    }

    public Sequence sequence(String name) {
        return require(sequences, name, "sequence");
    }

    public float[] numeric(String name) {
        return require(numerics, name, "numeric");
    }

    public Vector vector(String name) {
        return require(vectors, name, "vector");
    }

    /** Rows of {@code a} followed by rows of {@code b}; both must have the same columns. */
    public static FeatureBatch concat(FeatureBatch a, FeatureBatch b) {
        Builder out = builder(a.rows + b.rows);
        a.ids.forEach((k, v) -> out.id(k, cat(v, b.ids(k))));
        a.numerics.forEach((k, v) -> out.numeric(k, cat(v, b.numeric(k))));
        a.sequences.forEach((k, s) -> {
            Sequence t = b.sequence(k);
            int w = Math.max(s.width(), t.width());
            long[] flat = new long[(a.rows + b.rows) * w];
            for (int r = 0; r < a.rows; r++) {
                System.arraycopy(s.ids(), r * s.width(), flat, r * w, s.width());
            }
            for (int r = 0; r < b.rows; r++) {
                System.arraycopy(t.ids(), r * t.width(), flat, (a.rows + r) * w, t.width());
            }
            int[] len = new int[a.rows + b.rows];
            System.arraycopy(s.lengths(), 0, len, 0, a.rows);
            System.arraycopy(t.lengths(), 0, len, a.rows, b.rows);
            out.sequence(k, flat, w, len);
        });
        a.vectors.forEach((k, v) -> {
            Vector t = b.vector(k);
            boolean[] present = new boolean[a.rows + b.rows];
            for (int r = 0; r < a.rows; r++) {
                present[r] = v.present(r);
            }
            for (int r = 0; r < b.rows; r++) {
                present[a.rows + r] = t.present(r);
            }
            out.vector(k, cat(v.values(), t.values()), v.dim(), present);
        });
        return out.build();
    }

    /** Rows {@code [from, to)} as a new batch (arrays are copied). */
    public FeatureBatch slice(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException(
                    "slice [" + from + ", " + to + ") is invalid; allowed: 0 <= from <= to <= " + rows);
        }
        Builder out = builder(to - from);
        ids.forEach((k, v) -> out.id(k, Arrays.copyOfRange(v, from, to)));
        numerics.forEach((k, v) -> out.numeric(k, Arrays.copyOfRange(v, from, to)));
        sequences.forEach((k, s) -> out.sequence(
                k,
                Arrays.copyOfRange(s.ids(), from * s.width(), to * s.width()),
                s.width(),
                Arrays.copyOfRange(s.lengths(), from, to)));
        vectors.forEach((k, v) -> out.vector(
                k,
                Arrays.copyOfRange(v.values(), from * v.dim(), to * v.dim()),
                v.dim(),
                v.presence() == null ? null : Arrays.copyOfRange(v.presence(), from, to)));
        return out.build();
    }

    private static <T> T require(Map<String, T> m, String name, String what) {
        T v = m.get(name);
        if (v == null) {
            throw new IllegalArgumentException(
                    "feature batch has no " + what + " column '" + name + "'; it has " + m.keySet());
        }
        return v;
    }

    private static long[] cat(long[] a, long[] b) {
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static float[] cat(float[] a, float[] b) {
        float[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /**
     * A padded id sequence column.
     *
     * @param ids {@code long[rows*width]}, row-major
     * @param width padded positions per row
     * @param lengths valid positions per row, each in [0, width]
     */
    public record Sequence(long[] ids, int width, int[] lengths) {}

    /**
     * A fixed-length vector column.
     *
     * @param values {@code float[rows*dim]}
     * @param dim vector length
     * @param presence per-row presence, or null when every row is present
     */
    public record Vector(float[] values, int dim, boolean[] presence) {
        public boolean present(int row) {
            return presence == null || presence[row];
        }
    }

    /** Builder validating every column's length against the row count. */
    public static final class Builder {
        private final int rows;
        private final Map<String, long[]> ids = new LinkedHashMap<>();
        private final Map<String, Sequence> sequences = new LinkedHashMap<>();
        private final Map<String, float[]> numerics = new LinkedHashMap<>();
        private final Map<String, Vector> vectors = new LinkedHashMap<>();

        private Builder(int rows) {
            if (rows < 0) {
                throw new IllegalArgumentException("rows = " + rows + " is invalid; allowed: >= 0");
            }
            this.rows = rows;
        }

        public Builder id(String name, long[] values) {
            check(name, values.length, rows);
            ids.put(name, values);
            return this;
        }

        public Builder sequence(String name, long[] flatIds, int width, int[] lengths) {
            check(name, flatIds.length, rows * width);
            check(name + ".lengths", lengths.length, rows);
            for (int len : lengths) {
                if (len < 0 || len > width) {
                    throw new IllegalArgumentException(
                            "column " + name + ": length " + len + " is invalid; allowed: 0.." + width);
                }
            }
            sequences.put(name, new Sequence(flatIds, width, lengths));
            return this;
        }

        public Builder numeric(String name, float[] values) {
            check(name, values.length, rows);
            numerics.put(name, values);
            return this;
        }

        public Builder vector(String name, float[] flat, int dim, boolean[] presence) {
            check(name, flat.length, rows * dim);
            if (presence != null) {
                check(name + ".presence", presence.length, rows);
            }
            vectors.put(name, new Vector(flat, dim, presence));
            return this;
        }

        public FeatureBatch build() {
            return new FeatureBatch(this);
        }

        private static void check(String name, int actual, int expected) {
            if (actual != expected) {
                throw new IllegalArgumentException(
                        "column " + name + " has " + actual + " values; expected " + expected);
            }
        }
    }
}
