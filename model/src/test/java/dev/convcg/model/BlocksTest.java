package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.convcg.model.blocks.CrossLayer;
import dev.convcg.model.blocks.CrossNetwork;
import dev.convcg.model.blocks.EmbeddingTables;
import dev.convcg.model.blocks.FeatureEmbeddingBlock;
import dev.convcg.model.blocks.Tower;
import dev.convcg.model.config.ModelConfig.Arrangement;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.train.TwoTowerTrainer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlocksTest {
    static Parameter param(Block block, String suffix) {
        Parameter found = null;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getKey().endsWith(suffix)) {
                if (found != null) {
                    throw new IllegalStateException("ambiguous suffix " + suffix);
                }
                found = p.getValue();
            }
        }
        if (found == null) {
            throw new IllegalStateException("no parameter ending in " + suffix + " in "
                    + block.getParameters().keys());
        }
        return found;
    }

    @Test
    void crossLayerFullRankExactValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            CrossLayer layer = CrossLayer.builder().setDim(2).build();
            layer.initialize(m, DataType.FLOAT32, new Shape(1, 2), new Shape(1, 2));
            param(layer, "weight").getArray().set(new float[] {1, 2, 3, 4});
            param(layer, "bias").getArray().set(new float[] {0.5f, -1f});
            NDArray x0 = m.create(new float[] {1, 2}, new Shape(1, 2));
            NDArray xl = m.create(new float[] {3, -1}, new Shape(1, 2));
            NDArray out = layer.forward(new ParameterStore(m, false), new NDList(x0, xl), false)
                    .head();
            // W xl + b = [1.5, 4]; x0 ⊙ that = [1.5, 8]; + xl = [4.5, 7]
            assertArrayEquals(new float[] {4.5f, 7f}, out.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void crossLayerLowRankExactValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            CrossLayer layer = CrossLayer.builder().setDim(2).optRank(1).build();
            layer.initialize(m, DataType.FLOAT32, new Shape(1, 2), new Shape(1, 2));
            param(layer, "v").getArray().set(new float[] {1, -1});
            param(layer, "u").getArray().set(new float[] {2, 3});
            param(layer, "bias").getArray().set(new float[] {0f, 1f});
            NDArray x0 = m.create(new float[] {1, 2}, new Shape(1, 2));
            NDArray xl = m.create(new float[] {3, -1}, new Shape(1, 2));
            NDArray out = layer.forward(new ParameterStore(m, false), new NDList(x0, xl), false)
                    .head();
            // Vᵀxl = 4; U·4 + b = [8, 13]; x0 ⊙ = [8, 26]; + xl = [11, 25]
            assertArrayEquals(new float[] {11f, 25f}, out.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void crossLayerGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            int d = 3;
            CrossLayer layer = CrossLayer.builder().setDim(d).build();
            layer.initialize(m, DataType.FLOAT64, new Shape(1, d), new Shape(1, d));
            Random r = new Random(3);
            double[] x0v = r.doubles(2 * d, -1, 1).toArray();
            double[] xlv = r.doubles(2 * d, -1, 1).toArray();
            double[] rv = r.doubles(2 * d, -1, 1).toArray();
            NDArray x0 = m.create(x0v, new Shape(2, d));
            NDArray xl = m.create(xlv, new Shape(2, d));
            NDArray proj = m.create(rv, new Shape(2, d));
            xl.setRequiresGradient(true);
            NDArray w = param(layer, "weight").getArray();
            double[] gradW;
            double[] gradXl;
            synchronized (TwoTowerTrainer.TRAINING_LOCK) {
                try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                    NDArray out = layer.forward(new ParameterStore(m, false), new NDList(x0, xl), true)
                            .head();
                    gc.backward(out.mul(proj).sum());
                }
                gradW = w.getGradient().toDoubleArray();
                gradXl = xl.getGradient().toDoubleArray();
            }
            double eps = 1e-6;
            double[] wv = w.toDoubleArray();
            for (int i = 0; i < wv.length; i++) {
                double[] plus = wv.clone();
                double[] minus = wv.clone();
                plus[i] += eps;
                minus[i] -= eps;
                double num =
                        (objective(m, layer, w, plus, x0v, xlv, rv, d) - objective(m, layer, w, minus, x0v, xlv, rv, d))
                                / (2 * eps);
                assertEquals(num, gradW[i], 1e-6, "dL/dW[" + i + "]");
            }
            w.set(wv);
            for (int i = 0; i < xlv.length; i++) {
                double[] plus = xlv.clone();
                double[] minus = xlv.clone();
                plus[i] += eps;
                minus[i] -= eps;
                double num =
                        (objective(m, layer, w, wv, x0v, plus, rv, d) - objective(m, layer, w, wv, x0v, minus, rv, d))
                                / (2 * eps);
                assertEquals(num, gradXl[i], 1e-6, "dL/dxl[" + i + "]");
            }
        }
    }

    private static double objective(
            NDManager m, CrossLayer layer, NDArray w, double[] wv, double[] x0, double[] xl, double[] r, int d) {
        w.set(wv);
        try (NDManager s = m.newSubManager()) {
            NDArray out = layer.forward(
                            new ParameterStore(s, false),
                            new NDList(s.create(x0, new Shape(2, d)), s.create(xl, new Shape(2, d))),
                            false)
                    .head();
            return out.mul(s.create(r, new Shape(2, d))).sum().getDouble();
        }
    }

    @Test
    void crossNetworkStacksLayers() {
        try (NDManager m = NDManager.newBaseManager()) {
            CrossNetwork net = CrossNetwork.builder().setDim(2).setLayers(2).build();
            net.initialize(m, DataType.FLOAT32, new Shape(1, 2));
            for (String l : List.of("cross0", "cross1")) {
                param(net, l + "_weight").getArray().set(new float[] {1, 0, 0, 1});
                param(net, l + "_bias").getArray().set(new float[] {0, 0});
            }
            NDArray x0 = m.create(new float[] {2, 3}, new Shape(1, 2));
            NDArray out = net.forward(new ParameterStore(m, false), new NDList(x0), false)
                    .head();
            // x1 = x0² + x0 = [6, 12]; x2 = x0 ⊙ x1 + x1 = [18, 48]
            assertArrayEquals(new float[] {18f, 48f}, out.toFloatArray(), 1e-5f);
        }
    }

    @Test
    void parallelTowerMatchesReference() {
        checkTower(Arrangement.PARALLEL);
    }

    @Test
    void stackedTowerMatchesReference() {
        checkTower(Arrangement.STACKED);
    }

    private void checkTower(Arrangement arrangement) {
        FeatureSpec a = FeatureSpec.numeric("a", false);
        FeatureSpec b = FeatureSpec.numeric("b", false);
        FeatureSpec c = FeatureSpec.code("c", 4, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(11);
            EmbeddingTables tables = new EmbeddingTables(Map.of("c", c));
            tables.initialize(m, DataType.FLOAT32, new Shape(1));
            Tower tower = Tower.builder()
                    .setFeatures(FeatureEmbeddingBlock.builder()
                            .setSpecs(List.of(a, b, c))
                            .setTables(tables)
                            .build())
                    .setArrangement(arrangement)
                    .setCrossLayers(1)
                    .setMlpWidths(List.of(3, 2))
                    .setOutputDim(2)
                    .build();
            tower.initialize(m, DataType.FLOAT32, new Shape(1, 1), new Shape(1, 1), new Shape(1));
            FeatureBatch batch = FeatureBatch.builder(2)
                    .numeric("a", new float[] {0.5f, -1f})
                    .numeric("b", new float[] {2f, 0.25f})
                    .id("c", new long[] {1, 3})
                    .build();
            NDList in = FeatureTensors.tensorize(m, List.of(a, b, c), batch);
            float[] got = tower.forward(new ParameterStore(m, false), in, false)
                    .head()
                    .toFloatArray();

            float[] table = param(tables, "c").getArray().toFloatArray();
            float[][] x0 = {
                {0.5f, 2f, table[2], table[3]},
                {-1f, 0.25f, table[6], table[7]}
            };
            float[] expected = new float[4];
            for (int row = 0; row < 2; row++) {
                double[] x = toDouble(x0[row]);
                double[] cross = add(mul(x, affine(tower, "cross0_weight", "cross0_bias", x, 4)), x);
                double[] mlpIn = arrangement == Arrangement.PARALLEL ? x : cross;
                double[] h = relu(affine(tower, "dense0_weight", "dense0_bias", mlpIn, 3));
                h = relu(affine(tower, "dense1_weight", "dense1_bias", h, 2));
                double[] z = arrangement == Arrangement.PARALLEL ? concat(cross, h) : h;
                double[] out = affine(tower, "projection_weight", "projection_bias", z, 2);
                expected[2 * row] = (float) out[0];
                expected[2 * row + 1] = (float) out[1];
            }
            assertArrayEquals(expected, got, 1e-5f);
        }
    }

    /** y = W x + b with W stored (out, in). */
    private static double[] affine(Block block, String w, String b, double[] x, int out) {
        float[] wv = param(block, w).getArray().toFloatArray();
        float[] bv = param(block, b).getArray().toFloatArray();
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            y[o] = bv[o];
            for (int i = 0; i < x.length; i++) {
                y[o] += wv[o * x.length + i] * x[i];
            }
        }
        return y;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double[] mul(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] * b[i];
        }
        return r;
    }

    private static double[] add(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] + b[i];
        }
        return r;
    }

    private static double[] relu(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.max(0, a[i]);
        }
        return r;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
