package dev.convcg.model.calibration;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import dev.convcg.model.config.ModelConfig.ReengagementConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReengagementCalibrationTest {
    static final int DIM = 8;
    static final int PINS = 300;
    static final int HISTORY = 6;
    static final float TAU = 0.1f;

    /**
     * Positives drawn from the full-catalog softmax of u·p/τ + b*[slot]: the refit recovers b* (logit units) for every
     * slot the data holds, leaves the slot no history pin falls in at the learned value, and lowers the loss.
     */
    @Test
    void recoversTheBiasesThatGeneratedThePositives() {
        double[] truth = {0, 3.0, 2.0, 1.0, 0};
        ReengagementCalibration.Problem p = synthetic(6000, truth, new float[ReengagementConfig.SLOTS], 7);
        ReengagementCalibration.Result r;
        try (NDManager m = NDManager.newBaseManager()) {
            r = ReengagementCalibration.fit(p, 10, 1e-6, m);
        }
        for (int k = 1; k <= 3; k++) {
            assertEquals(truth[k], r.bias()[k] / TAU, 0.25, "slot " + k + ": " + Arrays.toString(r.bias()));
        }
        assertEquals(0f, r.bias()[0], "slot 0 (not in the history) stays 0");
        assertEquals(0f, r.bias()[4], 1e-6, "a slot without data keeps the learned value");
        assertTrue(r.lossCalibrated() < r.lossLearned(), r.lossLearned() + " -> " + r.lossCalibrated());
        assertTrue(r.recallCalibrated() > r.recallLearned(), r.recallLearned() + " -> " + r.recallCalibrated());
        assertTrue(r.historyShare() > 0.05 && r.historyShare() < 1, "history share " + r.historyShare());
    }

    /** When the history carries nothing (b* = 0), the refit stays near 0 whatever training learned. */
    @Test
    void uninformativeHistoryGivesBiasesNearZero() {
        float[] learned = {0, 0.3f, 0.2f, 0.1f, 0};
        ReengagementCalibration.Problem p = synthetic(6000, new double[5], learned, 11);
        ReengagementCalibration.Result r;
        try (NDManager m = NDManager.newBaseManager()) {
            r = ReengagementCalibration.fit(p, 10, 1e-6, m);
        }
        for (int k = 1; k <= 3; k++) {
            assertEquals(0, r.bias()[k] / TAU, 0.3, "slot " + k);
        }
        assertArrayEquals(learned, r.learnedBias());
    }

    /**
     * Positives drawn from u·p/τ + b*[slot] + c*[bin(pin)], three popularity bins: the refit recovers the prior up
     * to the constant a softmax cannot see (the differences between bins), beside the history biases.
     */
    @Test
    void recoversAPopularityPriorBesideTheBiases() {
        double[] truth = {0, 2.0, 1.0, 0.5, 0};
        double[] prior = {0, 1.5, -1.0};
        ReengagementCalibration.Problem p = synthetic(6000, truth, new float[ReengagementConfig.SLOTS], prior, 13);
        ReengagementCalibration.Result r;
        try (NDManager m = NDManager.newBaseManager()) {
            r = ReengagementCalibration.fit(p, 10, 1e-6, m);
        }
        float[] c = r.popularityPrior();
        assertEquals(3, c.length);
        assertEquals(1.5, (c[1] - c[0]) / TAU, 0.2, "bin 1 against bin 0: " + Arrays.toString(c));
        assertEquals(-1.0, (c[2] - c[0]) / TAU, 0.2, "bin 2 against bin 0: " + Arrays.toString(c));
        for (int k = 1; k <= 3; k++) {
            assertEquals(truth[k], r.bias()[k] / TAU, 0.3, "slot " + k + ": " + Arrays.toString(r.bias()));
        }
        assertTrue(r.lossCalibrated() < r.lossLearned(), r.lossLearned() + " -> " + r.lossCalibrated());
        assertTrue(r.recallCalibrated() > r.recallLearned(), r.recallLearned() + " -> " + r.recallCalibrated());
    }

    /** Without bins the refit has no prior to fit and reports none. */
    @Test
    void noBinsNoPrior() {
        ReengagementCalibration.Problem p =
                synthetic(500, new double[] {0, 1, 0, 0, 0}, new float[ReengagementConfig.SLOTS], 3);
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(0, ReengagementCalibration.fit(p, 10, 1e-3, m).popularityPrior().length);
        }
    }

    @Test
    void roundTripsBesideTheArtifact(@TempDir Path dir) throws Exception {
        ReengagementCalibration.Problem p =
                synthetic(500, new double[] {0, 1, 0, 0, 0}, new float[ReengagementConfig.SLOTS], 3);
        ReengagementCalibration.Result r;
        try (NDManager m = NDManager.newBaseManager()) {
            r = ReengagementCalibration.fit(p, 10, 1e-3, m);
        }
        assertTrue(ReengagementCalibration.read(dir).isEmpty());
        ReengagementCalibration.write(dir, r);
        assertTrue(Files.exists(dir.resolve(ReengagementCalibration.FILE)));
        assertArrayEquals(
                r.bias(), ReengagementCalibration.read(dir).orElseThrow().bias());
    }

    /** n users with random unit embeddings and HISTORY distinct history pins each, positives sampled from the model. */
    static ReengagementCalibration.Problem synthetic(int n, double[] truth, float[] learned, long seed) {
        return synthetic(n, truth, learned, new double[0], seed);
    }

    /** As above, with pin j in popularity bin {@code j % prior.length} adding {@code prior[bin]} to its logit. */
    static ReengagementCalibration.Problem synthetic(
            int n, double[] truth, float[] learned, double[] prior, long seed) {
        int bins = prior.length;
        int[] pinBins = new int[bins == 0 ? 0 : PINS];
        for (int j = 0; j < pinBins.length; j++) {
            pinBins[j] = j % bins;
        }
        Random rnd = new Random(seed);
        float[] pins = unitRows(PINS, rnd);
        float[] users = unitRows(n, rnd);
        int[] positives = new int[n];
        int[][] historyPins = new int[n][];
        int[][] historySlots = new int[n][];
        float[] weights = new float[n];
        for (int i = 0; i < n; i++) {
            historyPins[i] = rnd.ints(0, PINS).distinct().limit(HISTORY).toArray();
            historySlots[i] = new int[HISTORY];
            double[] z = new double[PINS];
            for (int j = 0; j < PINS; j++) {
                double s = 0;
                for (int k = 0; k < DIM; k++) {
                    s += users[i * DIM + k] * pins[j * DIM + k];
                }
                z[j] = s / TAU + (bins == 0 ? 0 : prior[pinBins[j]]);
            }
            for (int h = 0; h < HISTORY; h++) {
                int slot = ReengagementConfig.bucketOf(h);
                historySlots[i][h] = slot;
                z[historyPins[i][h]] += truth[slot];
            }
            positives[i] = sample(z, rnd);
            weights[i] = 1;
        }
        return new ReengagementCalibration.Problem(
                TAU,
                DIM,
                users,
                weights,
                pins,
                positives,
                historyPins,
                historySlots,
                1,
                ReengagementConfig.SLOTS,
                learned,
                pinBins,
                bins);
    }

    private static int sample(double[] z, Random rnd) {
        double max = Arrays.stream(z).max().orElseThrow();
        double total = 0;
        for (double v : z) {
            total += Math.exp(v - max);
        }
        double u = rnd.nextDouble() * total;
        for (int j = 0; j < z.length; j++) {
            u -= Math.exp(z[j] - max);
            if (u <= 0) {
                return j;
            }
        }
        return z.length - 1;
    }

    private static float[] unitRows(int rows, Random rnd) {
        float[] out = new float[rows * DIM];
        for (int i = 0; i < rows; i++) {
            double norm = 0;
            for (int k = 0; k < DIM; k++) {
                out[i * DIM + k] = (float) rnd.nextGaussian();
                norm += out[i * DIM + k] * out[i * DIM + k];
            }
            for (int k = 0; k < DIM; k++) {
                out[i * DIM + k] /= (float) Math.sqrt(norm);
            }
        }
        return out;
    }
}
