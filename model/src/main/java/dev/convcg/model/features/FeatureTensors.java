package dev.convcg.model.features;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Turns a {@link FeatureBatch} into a tower's input tensors, hashing ids to table rows in Java.
 * The output order follows the spec list; see {@link FeatureSpec} for each kind's tensors.
 */
public final class FeatureTensors {
    private FeatureTensors() {}

    public static NDList tensorize(NDManager manager, List<FeatureSpec> specs, FeatureBatch batch) {
        return tensorize(manager, specs, batch, null);
    }

    /**
     * As {@link #tensorize(NDManager, List, FeatureBatch)}; with {@code touched} non-null, ID and
     * ID_SEQUENCE tensors hold compact slots ({@link TouchedRows#slot}) instead of table rows, and
     * unused sequence positions hold the padding slot 0.
     */
    public static NDList tensorize(
            NDManager manager, List<FeatureSpec> specs, FeatureBatch batch, TouchedRows touched) {
        int b = batch.rows();
        NDList out = new NDList(specs.size() * 2);
        for (FeatureSpec spec : specs) {
            switch (spec.kind()) {
                case ID -> {
                    long[] ids = batch.ids(spec.name());
                    long[] rows = new long[b];
                    for (int i = 0; i < b; i++) {
                        long r = FeatureHashing.bucket(ids[i], spec);
                        rows[i] = touched == null ? r : touched.slot(spec.tableName(), r);
                    }
                    out.add(manager.create(rows));
                }
                case ID_SEQUENCE -> {
                    FeatureBatch.Sequence s = batch.sequence(spec.name());
                    int l = spec.maxLength();
                    long[] rows = new long[b * l];
                    float[] mask = new float[b * l];
                    for (int i = 0; i < b; i++) {
                        int n = Math.min(s.lengths()[i], l);
                        int base = i * s.width();
                        for (int j = 0; j < n; j++) {
                            long r = FeatureHashing.bucket(s.ids()[base + j], spec);
                            rows[i * l + j] = touched == null ? r : touched.slot(spec.tableName(), r);
                            mask[i * l + j] = 1f;
                        }
                    }
                    out.add(manager.create(rows, new Shape(b, l)));
                    out.add(manager.create(mask, new Shape(b, l)));
                }
                case NUMERIC -> {
                    float[] v = batch.numeric(spec.name());
                    float[] x = new float[b];
                    for (int i = 0; i < b; i++) {
                        float f = Float.isFinite(v[i]) ? v[i] : 0f;
                        x[i] = spec.log1p() ? (float) Math.log1p(Math.max(f, 0f)) : f;
                    }
                    out.add(manager.create(x, new Shape(b, 1)));
                }
                case VECTOR -> {
                    FeatureBatch.Vector v = batch.vector(spec.name());
                    if (v.dim() != spec.dim()) {
                        throw new IllegalArgumentException("column " + spec.name() + " has dim " + v.dim()
                                + "; the feature spec expects " + spec.dim());
                    }
                    int d = spec.dim();
                    float[] x = new float[b * d];
                    float[] present = new float[b];
                    for (int i = 0; i < b; i++) {
                        if (v.present(i)) {
                            System.arraycopy(v.values(), i * d, x, i * d, d);
                            present[i] = 1f;
                        }
                    }
                    out.add(manager.create(x, new Shape(b, d)));
                    out.add(manager.create(present, new Shape(b, 1)));
                }
            }
        }
        return out;
    }

    /** Number of tensors {@link #tensorize} produces for these specs. */
    public static int arity(List<FeatureSpec> specs) {
        return specs.stream().mapToInt(FeatureSpec::arity).sum();
    }
}
