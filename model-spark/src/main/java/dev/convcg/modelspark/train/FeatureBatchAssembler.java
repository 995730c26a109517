package dev.convcg.modelspark.train;

import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSpec;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * Fills the primitive arrays of one tower's {@link FeatureBatch} straight from Spark rows produced by
 * {@link ModelInputs}: no object per example, the arrays are allocated once per batch size and reused until
 * {@link #build}. A row's features are read at the column positions given at construction.
 */
public final class FeatureBatchAssembler {
    private final List<FeatureSpec> specs;
    private final int[] columns;
    private final int capacity;
    private final long[][] ids;
    private final float[][] numerics;
    private final long[][] sequences;
    private final int[][] lengths;
    private final float[][] vectors;
    private final boolean[][] presence;
    private int rows;

    /**
     * @param specs    the tower's features
     * @param firstColumn position in the row of the first feature; the others follow in spec order
     * @param capacity most rows per batch
     */
    public FeatureBatchAssembler(List<FeatureSpec> specs, int firstColumn, int capacity) {
        this.specs = List.copyOf(specs);
        this.capacity = capacity;
        int n = specs.size();
        columns = new int[n];
        ids = new long[n][];
        numerics = new float[n][];
        sequences = new long[n][];
        lengths = new int[n][];
        vectors = new float[n][];
        presence = new boolean[n][];
        for (int i = 0; i < n; i++) {
            FeatureSpec s = specs.get(i);
            columns[i] = firstColumn + i;
            switch (s.kind()) {
                case ID -> ids[i] = new long[capacity];
                case NUMERIC -> numerics[i] = new float[capacity];
                case ID_SEQUENCE -> {
                    sequences[i] = new long[capacity * s.maxLength()];
                    lengths[i] = new int[capacity];
                }
                case VECTOR -> {
                    vectors[i] = new float[capacity * s.dim()];
                    presence[i] = new boolean[capacity];
                }
            }
        }
    }

    public int rows() {
        return rows;
    }

    public boolean full() {
        return rows == capacity;
    }

    /** Appends one row's features. */
    public void add(Row row) {
        if (rows == capacity) {
            throw new IllegalStateException("batch is full (" + capacity + " rows)");
        }
        int r = rows++;
        for (int i = 0; i < specs.size(); i++) {
            FeatureSpec s = specs.get(i);
            int c = columns[i];
            switch (s.kind()) {
                case ID -> ids[i][r] = row.getLong(c);
                case NUMERIC -> numerics[i][r] = row.getFloat(c);
                case ID_SEQUENCE -> {
                    List<Long> seq = row.getList(c);
                    int len = Math.min(seq.size(), s.maxLength());
                    int base = r * s.maxLength();
                    for (int k = 0; k < len; k++) {
                        sequences[i][base + k] = seq.get(k);
                    }
                    Arrays.fill(sequences[i], base + len, base + s.maxLength(), 0L);
                    lengths[i][r] = len;
                }
                case VECTOR -> {
                    int base = r * s.dim();
                    if (row.isNullAt(c)) {
                        Arrays.fill(vectors[i], base, base + s.dim(), 0f);
                        presence[i][r] = false;
                    } else {
                        List<Float> v = row.getList(c);
                        if (v.size() != s.dim()) {
                            throw new IllegalArgumentException("feature '" + s.name() + "' has " + v.size()
                                    + " values in a row; the model expects " + s.dim());
                        }
                        for (int k = 0; k < s.dim(); k++) {
                            vectors[i][base + k] = v.get(k);
                        }
                        presence[i][r] = true;
                    }
                }
            }
        }
    }

    /** The rows added since the last build, as a batch; the assembler is then empty again. */
    public FeatureBatch build() {
        int n = rows;
        FeatureBatch.Builder b = FeatureBatch.builder(n);
        for (int i = 0; i < specs.size(); i++) {
            FeatureSpec s = specs.get(i);
            switch (s.kind()) {
                case ID -> b.id(s.name(), Arrays.copyOf(ids[i], n));
                case NUMERIC -> b.numeric(s.name(), Arrays.copyOf(numerics[i], n));
                case ID_SEQUENCE ->
                    b.sequence(
                            s.name(),
                            Arrays.copyOf(sequences[i], n * s.maxLength()),
                            s.maxLength(),
                            Arrays.copyOf(lengths[i], n));
                case VECTOR ->
                    b.vector(s.name(), Arrays.copyOf(vectors[i], n * s.dim()), s.dim(), Arrays.copyOf(presence[i], n));
            }
        }
        rows = 0;
        return b.build();
    }
}
