package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.ModelConfig.AdvertiserLossConfig;
import dev.convcg.model.config.ModelConfig.HeadConfig;
import dev.convcg.model.config.ModelConfig.HeadMode;
import dev.convcg.model.config.ModelConfig.ReengagementConfig;
import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.loss.TwoTowerLoss;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossTest {
    private static final byte C = Task.CONVERSION.code();
    private static final byte E = Task.ENGAGEMENT.code();

    /**
     * Plain config: unit task weights, no advertiser loss and no re-engagement bias (these batches carry no feature
     * columns, so no history sequences).
     */
    private static ModelConfig plain(boolean logQ) {
        return ModelConfig.defaults()
                .withReengagement(ReengagementConfig.off())
                .withHeads(new HeadConfig(HeadMode.UNIFIED, 1f, 1f))
                .withAdvertiserLoss(new AdvertiserLossConfig(false, 0f))
                .withLogQCorrection(logQ);
    }

    private static TrainingBatch batch(long[] pins, long[] advs, byte[] tasks, float[] w, double[] q, long[] negPins) {
        FeatureBatch rows = FeatureBatch.builder(pins.length).build();
        int h = negPins.length;
        return new TrainingBatch(
                rows,
                rows,
                pins,
                advs,
                tasks,
                w,
                q,
                h == 0 ? null : FeatureBatch.builder(h).build(),
                negPins,
                new long[h],
                null);
    }

    private static NDList terms(NDManager m, ModelConfig cfg, TrainingBatch b, float tau, float[][]... emb) {
        NDList preds = new NDList();
        for (float[][] e : emb) {
            preds.add(m.create(e));
        }
        preds.add(m.create(new float[] {tau}));
        int h = b.hardNegatives();
        return new TwoTowerLoss(cfg).terms(TwoTowerLoss.labels(m, cfg, b, h), preds);
    }

    private static double ce(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) {
            max = Math.max(max, z);
        }
        double s = 0;
        for (double z : logits) {
            s += Math.exp(z - max);
        }
        return Math.log(s) + max - logits[target];
    }

    @Test
    void logQSubtractsLogProbabilityExactly() {
        float[][] u = {{1, 0}, {0, 1}};
        float[][] p = {{1, 0}, {0, 1}};
        double[] q = {0.5, 0.1};
        TrainingBatch b =
                batch(new long[] {1, 2}, new long[] {1, 2}, new byte[] {C, C}, new float[] {1, 1}, q, new long[0]);
        try (NDManager m = NDManager.newBaseManager()) {
            double got = terms(m, plain(true), b, 1f, u, p).get(1).getFloat();
            double l0 = ce(new double[] {1 - Math.log(0.5), 0 - Math.log(0.1)}, 0);
            double l1 = ce(new double[] {0 - Math.log(0.5), 1 - Math.log(0.1)}, 1);
            assertEquals((l0 + l1) / 2, got, 1e-5);
            double off = terms(m, plain(false), b, 1f, u, p).get(1).getFloat();
            assertEquals((ce(new double[] {1, 0}, 0) + ce(new double[] {0, 1}, 1)) / 2, off, 1e-5);
        }
    }

    @Test
    void logQCorrectionPenalisesPopularNegativesLess() {
        // Row 0's negative is column 1. The more often pin 1 is sampled (larger q), the more it
        // appears as a negative, so its corrected logit is lowered and row 0's loss must fall.
        float[][] u = {{1, 0}, {0.6f, 0.8f}};
        float[][] p = {{1, 0}, {0.6f, 0.8f}};
        try (NDManager m = NDManager.newBaseManager()) {
            double rare = rowZeroLoss(m, u, p, 0.001);
            double popular = rowZeroLoss(m, u, p, 0.5);
            assertTrue(popular < rare, "popular " + popular + " rare " + rare);
        }
    }

    private static double rowZeroLoss(NDManager m, float[][] u, float[][] p, double qNegative) {
        TrainingBatch b = batch(
                new long[] {1, 2},
                new long[] {1, 2},
                new byte[] {C, E},
                new float[] {1, 1},
                new double[] {0.1, qNegative},
                new long[0]);
        return terms(m, plain(true), b, 1f, u, p).get(1).getFloat();
    }

    @Test
    void accidentalHitsAreMaskedExceptTheDiagonal() {
        float[][] u = {{1, 0}, {0, 1}, {0.6f, 0.8f}};
        float[][] p = {{0.8f, 0.6f}, {1, 0}, {0, 1}, {0.6f, 0.8f}};
        // Rows 0 and 1 share pin 7; hard negative (column 3) is pin 9 = row 2's positive.
        TrainingBatch b = batch(
                new long[] {7, 7, 9},
                new long[] {1, 2, 3},
                new byte[] {C, C, C},
                new float[] {1, 1, 1},
                new double[] {1, 1, 1},
                new long[] {9});
        try (NDManager m = NDManager.newBaseManager()) {
            double got = terms(m, plain(false), b, 1f, u, p).get(1).getFloat();
            double[][] s = new double[3][4];
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    s[i][j] = u[i][0] * p[j][0] + u[i][1] * p[j][1];
                }
            }
            double l0 = ce(new double[] {s[0][0], s[0][2], s[0][3]}, 0);
            double l1 = ce(new double[] {s[1][1], s[1][2], s[1][3]}, 0);
            double l2 = ce(new double[] {s[2][0], s[2][1], s[2][2]}, 2);
            assertEquals((l0 + l1 + l2) / 3, got, 1e-5);
        }
    }

    @Test
    void matchesDjlSoftmaxCrossEntropyWithoutCorrections() {
        float[][] u = {{0.6f, 0.8f}, {1, 0}, {0, 1}};
        float[][] p = {{0, 1}, {0.8f, 0.6f}, {1, 0}};
        TrainingBatch b = batch(
                new long[] {1, 2, 3},
                new long[] {1, 2, 3},
                new byte[] {C, C, C},
                new float[] {1, 1, 1},
                new double[] {0.2, 0.3, 0.4},
                new long[0]);
        try (NDManager m = NDManager.newBaseManager()) {
            float tau = 0.5f;
            double ours = terms(m, plain(false), b, tau, u, p).get(1).getFloat();
            NDArray logits = m.create(u).matMul(m.create(p).transpose()).div(tau);
            double djl = Loss.softmaxCrossEntropyLoss()
                    .evaluate(new NDList(m.create(new float[] {0, 1, 2})), new NDList(logits))
                    .getFloat();
            assertEquals(djl, ours, 1e-5);
        }
    }

    @Test
    void taskWeightsHeadsAndExampleWeights() {
        float[][] u0 = {{1, 0}, {0, 1}};
        float[][] p0 = {{0.6f, 0.8f}, {0, 1}};
        float[][] u1 = {{0, 1}, {1, 0}};
        float[][] p1 = {{1, 0}, {0.8f, 0.6f}};
        TrainingBatch b = batch(
                new long[] {1, 2},
                new long[] {1, 2},
                new byte[] {C, E},
                new float[] {2f, 0.5f},
                new double[] {1, 1},
                new long[0]);
        ModelConfig multi = ModelConfig.defaults()
                .withReengagement(ReengagementConfig.off())
                .withHeads(new HeadConfig(HeadMode.MULTI_HEAD, 1f, 0.25f))
                .withAdvertiserLoss(new AdvertiserLossConfig(false, 0f))
                .withLogQCorrection(false);
        try (NDManager m = NDManager.newBaseManager()) {
            NDList t = terms(m, multi, b, 1f, u0, p0, u1, p1);
            // one row per task: its weight cancels in the task's weighted mean
            double conv = ce(new double[] {dot(u0[0], p0[0]), dot(u0[0], p0[1])}, 0);
            double eng = ce(new double[] {dot(u1[1], p1[0]), dot(u1[1], p1[1])}, 1);
            assertEquals(conv, t.get(1).getFloat(), 1e-5);
            assertEquals(eng, t.get(2).getFloat(), 1e-5);
            assertEquals(conv + 0.25 * eng, t.get(0).getFloat(), 1e-5);

            ModelConfig unified =
                    multi.withHeads(new HeadConfig(HeadMode.UNIFIED, 1f, 0.25f)).withUseExampleWeights(false);
            NDList tu = terms(m, unified, b, 1f, u0, p0);
            double engU = ce(new double[] {dot(u0[1], p0[0]), dot(u0[1], p0[1])}, 1);
            assertEquals(conv, tu.get(1).getFloat(), 1e-5);
            assertEquals(engU, tu.get(2).getFloat(), 1e-5);
        }
    }

    @Test
    void exampleWeightsAreAWeightedMeanWithinEachTask() {
        float[][] u = {{1, 0}, {0, 1}, {0.6f, 0.8f}};
        float[][] p = {{0.8f, 0.6f}, {1, 0}, {0, 1}};
        ModelConfig cfg = plain(false).withHeads(new HeadConfig(HeadMode.UNIFIED, 1f, 2f));
        try (NDManager m = NDManager.newBaseManager()) {
            double[] l = new double[3];
            for (int i = 0; i < 3; i++) {
                l[i] = ce(new double[] {dot(u[i], p[0]), dot(u[i], p[1]), dot(u[i], p[2])}, i);
            }
            TrainingBatch b = batch(
                    new long[] {1, 2, 3},
                    new long[] {1, 2, 3},
                    new byte[] {C, C, E},
                    new float[] {3f, 1f, 0.25f},
                    new double[] {1, 1, 1},
                    new long[0]);
            NDList t = terms(m, cfg, b, 1f, u, p);
            assertEquals((3 * l[0] + l[1]) / 4, t.get(1).getFloat(), 1e-5);
            assertEquals(l[2], t.get(2).getFloat(), 1e-5);
            assertEquals(t.get(1).getFloat() + 2 * t.get(2).getFloat(), t.get(0).getFloat(), 1e-5);

            // scaling a task's weights changes nothing: only the task weights set the balance between tasks
            TrainingBatch scaled = batch(
                    new long[] {1, 2, 3},
                    new long[] {1, 2, 3},
                    new byte[] {C, C, E},
                    new float[] {0.6f, 0.2f, 4f},
                    new double[] {1, 1, 1},
                    new long[0]);
            assertEquals(
                    t.get(0).getFloat(), terms(m, cfg, scaled, 1f, u, p).get(0).getFloat(), 1e-5);
        }
    }

    @Test
    void advertiserLossTreatsSameAdvertiserPinsAsPositives() {
        float[][] u = {{1, 0}, {0, 1}, {0.6f, 0.8f}};
        float[][] p = {{0.8f, 0.6f}, {1, 0}, {0, 1}};
        TrainingBatch b = batch(
                new long[] {1, 2, 3},
                new long[] {5, 5, 6},
                new byte[] {C, C, C},
                new float[] {1, 1, 1},
                new double[] {1, 1, 1},
                new long[0]);
        ModelConfig cfg = plain(false).withAdvertiserLoss(new AdvertiserLossConfig(true, 0.5f));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList t = terms(m, cfg, b, 1f, u, p);
            double expected = 0;
            for (int i = 0; i < 3; i++) {
                double all = 0;
                double pos = 0;
                for (int j = 0; j < 3; j++) {
                    double e = Math.exp(dot(u[i], p[j]));
                    all += e;
                    if (b.advertiserIds()[i] == b.advertiserIds()[j]) {
                        pos += e;
                    }
                }
                expected += -Math.log(pos / all) / 3;
            }
            assertEquals(expected, t.get(3).getFloat(), 1e-5);
            assertEquals(t.get(1).getFloat() + 0.5 * expected, t.get(0).getFloat(), 1e-5);
        }
    }

    @Test
    void temperatureIsClampedToConfiguredRange() {
        ModelConfig cfg =
                TestSchemas.smallModel().withTemperature(new ModelConfig.TemperatureConfig(0.1f, 0.05f, 0.5f));
        try (NDManager m = NDManager.newBaseManager()) {
            TwoTowerBlock block = new TwoTowerBlock(cfg, TestSchemas.small());
            block.initialize(m);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray t = BlocksTest.param(block, "temperature").getArray();
            assertEquals(0.1f, block.temperature(ps, Device.cpu(), false).getFloat(0), 1e-7);
            t.set(new float[] {10f});
            assertEquals(0.5f, block.temperature(ps, Device.cpu(), false).getFloat(0), 1e-7);
            t.set(new float[] {0.001f});
            assertEquals(0.05f, block.temperature(ps, Device.cpu(), false).getFloat(0), 1e-7);
            // logits scale with 1/τ: same embeddings, τ = 0.5 vs the clamped floor 0.05
            float[][] u = {{1, 0}, {0, 1}};
            float[][] p = {{0.6f, 0.8f}, {0, 1}};
            TrainingBatch b = batch(
                    new long[] {1, 2},
                    new long[] {1, 2},
                    new byte[] {C, C},
                    new float[] {1, 1},
                    new double[] {1, 1},
                    new long[0]);
            double l = terms(m, plain(false), b, 0.05f, u, p).get(1).getFloat();
            double expected = (ce(new double[] {0.6 / 0.05, 0}, 0) + ce(new double[] {0.8 / 0.05, 1 / 0.05}, 1)) / 2;
            assertEquals(expected, l, 1e-4);
            assertEquals(new Shape(1), t.getShape());
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /**
     * Row 0's engaged sequence is [2, 9, 1]: column 1 (pin 2) is at position 0 (slot 1) and its own
     * pin 1 at position 2 (slot 2); row 1 has no history. The similarity gains β[slot] exactly where
     * a column's pin is in the row's sequence, and nothing elsewhere, before the division by τ.
     */
    @Test
    void reengagementBiasIsAddedWhereTheColumnPinIsInTheRowsSequence() {
        ModelConfig cfg =
                plain(false).withReengagement(new ModelConfig.ReengagementConfig(true, List.of("user_engaged_pins")));
        FeatureBatch users = FeatureBatch.builder(2)
                .sequence("user_engaged_pins", new long[] {2, 9, 1, 0, 0, 0}, 3, new int[] {3, 0})
                .build();
        TrainingBatch b = twoConversions(users);
        float[][] u = {{1, 0}, {0, 1}};
        float[][] p = {{1, 0}, {0, 1}};
        float b1 = 0.7f;
        float b2 = -0.3f;
        try (NDManager m = NDManager.newBaseManager()) {
            float tau = 0.5f;
            NDList preds = new NDList(m.create(u), m.create(p), m.create(new float[] {tau, 0f, b1, b2, 0f, 0f}));
            NDList labels = TwoTowerLoss.labels(m, cfg, b, 0);
            assertEquals(10, labels.size(), "8 labels, the pairs and one sequence's slots");
            assertArrayEquals(new long[] {0, 1}, labels.get(8).toLongArray(), "row 0 holds both columns' pins");
            assertArrayEquals(new long[] {2, 1}, labels.get(9).toLongArray(), "pin 1 at position 2, pin 2 at 0");
            double got = new TwoTowerLoss(cfg).terms(labels, preds).get(1).getFloat();
            double l0 = ce(new double[] {(1 + b2) / tau, (0 + b1) / tau}, 0);
            double l1 = ce(new double[] {0 / tau, 1 / tau}, 1);
            assertEquals((l0 + l1) / 2, got, 1e-5);
        }
    }

    /**
     * The biases gathered for the pairs alone give the loss and the bias gradients of a gather over
     * every (row, column) pair: two sequences, pins in both, a pin twice in a sequence.
     */
    @Test
    void pairBiasesEqualTheDenseGatherInValueAndGradient() {
        ModelConfig cfg = plain(false)
                .withReengagement(
                        new ModelConfig.ReengagementConfig(true, List.of("user_engaged_pins", "user_converted_pins")));
        int rows = 6;
        long[] engaged = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4};
        long[] converted = {1, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 9, 3, 8, 0, 0, 0, 0, 0, 0, 6, 0, 0};
        FeatureBatch users = FeatureBatch.builder(rows)
                .sequence("user_engaged_pins", engaged, 4, new int[] {4, 4, 4, 4, 2, 0})
                .sequence("user_converted_pins", converted, 4, new int[] {1, 2, 0, 3, 0, 1})
                .build();
        long[] rowPins = {1, 4, 9, 3, 7, 6};
        TrainingBatch b = new TrainingBatch(
                users,
                FeatureBatch.builder(rows).build(),
                rowPins,
                new long[] {1, 2, 3, 4, 5, 6},
                new byte[] {C, E, C, E, C, E},
                new float[] {1, 1, 1, 1, 1, 1},
                new double[] {0.1, 0.1, 0.1, 0.1, 0.1, 0.1},
                null,
                null,
                null,
                null);
        SplittableRandom r = new SplittableRandom(4);
        float[][] u = new float[rows][3];
        float[][] p = new float[rows][3];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < 3; k++) {
                u[i][k] = (float) r.nextGaussian();
                p[i][k] = (float) r.nextGaussian();
            }
        }
        int slots = ModelConfig.ReengagementConfig.SLOTS;
        float[] scalars = new float[1 + 2 * slots];
        scalars[0] = 0.3f;
        for (int k = 1; k < scalars.length; k++) {
            scalars[k] = (k - 1) % slots == 0 ? 0f : (float) r.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDList labels = TwoTowerLoss.labels(m, cfg, b, 0);
            NDArray sparseScalars = m.create(scalars);
            sparseScalars.setRequiresGradient(true);
            float sparse;
            try (GradientCollector g = Engine.getInstance().newGradientCollector()) {
                NDArray loss = new TwoTowerLoss(cfg)
                        .terms(labels, new NDList(m.create(u), m.create(p), sparseScalars))
                        .head();
                sparse = loss.getFloat();
                g.backward(loss);
            }
            // The dense reference: every pair's slot, the zero slot where the pin is in no sequence.
            long[] pinsOf = rowPins;
            NDArray denseScalars = m.create(scalars);
            denseScalars.setRequiresGradient(true);
            float reference;
            try (GradientCollector g = Engine.getInstance().newGradientCollector()) {
                NDArray beta = denseScalars.get("1:");
                NDArray history = null;
                for (int s = 0; s < 2; s++) {
                    FeatureBatch.Sequence seq = users.sequence(s == 0 ? "user_engaged_pins" : "user_converted_pins");
                    long[] slot = new long[rows * rows];
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < rows; j++) {
                            slot[i * rows + j] = (long) s * slots;
                            for (int k = 0; k < seq.lengths()[i]; k++) {
                                if (seq.ids()[i * seq.width() + k] == pinsOf[j]) {
                                    slot[i * rows + j] = (long) s * slots + ModelConfig.ReengagementConfig.bucketOf(k);
                                    break;
                                }
                            }
                        }
                    }
                    NDArray t = beta.take(m.create(slot, new Shape(rows, rows)));
                    history = history == null ? t : history.add(t);
                }
                NDArray z = m.create(u)
                        .matMul(m.create(p).transpose())
                        .add(history)
                        .div(denseScalars.get("0:1"))
                        .add(labels.get(2).expandDims(0));
                NDArray ce = z.logSoftmax(1).diagonal().neg();
                NDArray w = labels.get(3);
                NDArray lConv = ce.mul(w.mul(labels.get(4)))
                        .sum()
                        .div(w.mul(labels.get(4)).sum());
                NDArray lEng = ce.mul(w.mul(labels.get(5)))
                        .sum()
                        .div(w.mul(labels.get(5)).sum());
                NDArray loss = lConv.mul(cfg.heads().conversionWeight())
                        .add(lEng.mul(cfg.heads().engagementWeight()));
                reference = loss.getFloat();
                g.backward(loss);
            }
            assertTrue(labels.get(8).size() > 0 && labels.get(8).size() < rows * rows, "some pairs, not all");
            assertEquals(reference, sparse, 1e-6f);
            // The zero slots (held at 0 by the model, TwoTowerBlock) gather other pairs' gradients here.
            float[] expected = denseScalars.getGradient().get("1:").toFloatArray();
            float[] got = sparseScalars.getGradient().get("1:").toFloatArray();
            for (int k = 0; k < expected.length; k++) {
                if (k % slots != 0) {
                    assertEquals(expected[k], got[k], 1e-6f, "bias slot " + k);
                }
            }
        }
    }

    /** A batch where no column's pin is in any row's sequences has no pairs and the loss without the term. */
    @Test
    void aBatchWithoutHistoryPairsHasTheLossWithoutTheTerm() {
        ModelConfig cfg =
                plain(false).withReengagement(new ModelConfig.ReengagementConfig(true, List.of("user_engaged_pins")));
        FeatureBatch users = FeatureBatch.builder(2)
                .sequence("user_engaged_pins", new long[] {7, 8, 0, 0}, 2, new int[] {2, 0})
                .build();
        TrainingBatch b = twoConversions(users);
        float[][] u = {{1, 0}, {0, 1}};
        float[][] p = {{1, 0}, {0.5f, 1}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDList labels = TwoTowerLoss.labels(m, cfg, b, 0);
            assertEquals(0, labels.get(8).size(), "no pairs");
            float got = new TwoTowerLoss(cfg)
                    .terms(labels, new NDList(m.create(u), m.create(p), m.create(new float[] {0.5f, 0f, 1f, 1f, 1f, 1f
                    })))
                    .get(1)
                    .getFloat();
            float without = terms(m, plain(false), b, 0.5f, u, p).get(1).getFloat();
            assertEquals(without, got, 0f);
        }
    }

    /** Two conversion rows on pins 1 and 2 (advertisers 1 and 2, q = 0.5) with the given user features. */
    private static TrainingBatch twoConversions(FeatureBatch users) {
        return new TrainingBatch(
                users,
                FeatureBatch.builder(2).build(),
                new long[] {1, 2},
                new long[] {1, 2},
                new byte[] {C, C},
                new float[] {1, 1},
                new double[] {0.5, 0.5},
                null,
                null,
                null,
                null);
    }

    @Test
    void positionBucketsAreFirstThenPairsThenFourThenTheRest() {
        int[] expected = {1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], ModelConfig.ReengagementConfig.bucketOf(k), "position " + k);
        }
    }
}
