package dev.convcg.model.calibration;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.stream.IntStream;

/**
 * Refits a trained model's re-engagement biases on held-out positives against the whole catalog, with the towers
 * frozen. Training learns the biases inside a batch softmax whose other columns are rarely in the row's history, so
 * on little data they stay near 0 while the user's own pins carry much of what the user converts on next; serving
 * competes against every pin of the catalog. The refit minimises the training objective (per-task weighted means
 * of the softmax cross-entropy, task weights λ) over the full catalog instead of the batch:
 *
 * <pre>
 *   z_ij = u_i·p_j / τ + Σ_s b_s[slot_s(i, j)]          (b in logit units; slot 0, "not in sequence s", is 0)
 *   L(b) = Σ_i w_i (log Σ_j exp z_ij − z_i,pos_i) + ridge/2 · |b − b_learned|²     (Σ_i w_i = 1)
 * </pre>
 *
 * L is convex in b (a log-sum-exp of functions linear in b), and the non-history part of each row's sum does not
 * depend on b, so one pass of {@code U·Pᵀ} reduces the problem to each row's history pins; Newton's method with a
 * backtracking line search then converges in a few steps. The result is the biases in score (cosine) units,
 * {@code β = b·τ}, which serving adds to {@code u·p} as it adds the learned ones.
 */
public final class ReengagementCalibration {
    /** File beside the artifact's parameters that holds the refitted biases ({@link #write}, {@link #read}). */
    public static final String FILE = "reengagement-calibration.json";

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
    private static final int ROW_BLOCK = 256;
    private static final int MAX_ITERATIONS = 100;

    private ReengagementCalibration() {}

    /**
     * Held-out positives and the catalog, as embeddings.
     *
     * @param temperature      the model's τ
     * @param dim              embedding width
     * @param users            row-major user embeddings, one per held-out positive ({@code n · dim})
     * @param weights          each row's weight in the objective (normalised to sum 1 by {@link #fit})
     * @param pins             row-major catalog embeddings ({@code C · dim})
     * @param positives        each row's positive as a catalog index
     * @param historyPins      per row, the catalog indices of the pins in the user's history sequences (distinct)
     * @param historySlots     per row, {@code historyPins[i].length · sequences} slots: entry {@code h · sequences +
     *                         s} is the pin's slot in sequence s (0: not in it)
     * @param sequences        number of history sequences
     * @param slotsPerSequence bias slots per sequence, slot 0 included
     * @param learnedBias      the biases training learned, score units, {@code sequences · slotsPerSequence}
     */
    public record Problem(
            float temperature,
            int dim,
            float[] users,
            float[] weights,
            float[] pins,
            int[] positives,
            int[][] historyPins,
            int[][] historySlots,
            int sequences,
            int slotsPerSequence,
            float[] learnedBias) {
        public Problem {
            int n = positives.length;
            if (users.length != n * dim || weights.length != n || historyPins.length != n || historySlots.length != n) {
                throw new IllegalArgumentException("rows disagree: " + n + " positives, " + users.length / dim
                        + " user embeddings, " + weights.length + " weights, " + historyPins.length + " histories");
            }
            if (pins.length % dim != 0 || learnedBias.length != sequences * slotsPerSequence) {
                throw new IllegalArgumentException("pins (" + pins.length + " values) or learnedBias ("
                        + learnedBias.length + " values) do not fit dim = " + dim + ", " + sequences + " sequences of "
                        + slotsPerSequence + " slots");
            }
        }

        int catalog() {
            return pins.length / dim;
        }
    }

    /**
     * The refit and what it changed on the held-out rows.
     *
     * @param bias              refitted biases, score units, slot 0 of each sequence 0
     * @param learnedBias       the biases training learned
     * @param rows              held-out positives used
     * @param catalog           catalog size
     * @param historyShare      weighted share of the rows whose positive is in the user's history
     * @param lossLearned       mean full-catalog cross-entropy with the learned biases
     * @param lossCalibrated    the same with the refitted ones
     * @param recallK           K of the two recalls
     * @param recallLearned     weighted share of rows whose positive ranks in the top K, learned biases
     * @param recallCalibrated  the same, refitted biases
     * @param iterations        Newton steps taken
     */
    public record Result(
            float[] bias,
            float[] learnedBias,
            int rows,
            int catalog,
            double historyShare,
            double lossLearned,
            double lossCalibrated,
            int recallK,
            double recallLearned,
            double recallCalibrated,
            int iterations) {}

    /** What the refit needs of one row after the single pass over the catalog (logits shifted by the row max). */
    private record RowTerms(
            double nonHistoryMass,
            double[] historyLogits,
            int positiveInHistory,
            double positiveLogit,
            float[] topNonHistory) {}

    /**
     * Fits the biases.
     *
     * @param recallK the K of the before/after recall reported in the result
     * @param ridge   strength of the pull towards the learned biases (logit units², per unit of row weight)
     */
    public static Result fit(Problem p, int recallK, double ridge, NDManager manager) {
        int n = p.positives().length;
        int free = p.sequences() * p.slotsPerSequence();
        double[] w = normalised(p.weights());
        RowTerms[] rows = rowTerms(p, recallK, manager);
        double[] b0 = new double[free];
        for (int k = 0; k < free; k++) {
            b0[k] = k % p.slotsPerSequence() == 0 ? 0 : p.learnedBias()[k] / p.temperature();
        }
        double[] b = b0.clone();
        double[] grad = new double[free];
        double[][] hess = new double[free][free];
        double loss = objective(p, rows, w, b, b0, ridge, grad, hess);
        int it = 0;
        for (; it < MAX_ITERATIONS; it++) {
            double[] step = newtonStep(grad, hess, p.slotsPerSequence(), manager);
            double slope = 0;
            for (int k = 0; k < free; k++) {
                slope += grad[k] * step[k];
            }
            if (slope > -1e-12) {
                break;
            }
            double t = 1;
            double[] next = new double[free];
            double nextLoss = Double.NaN;
            for (int tries = 0; tries < 40; tries++, t /= 2) {
                for (int k = 0; k < free; k++) {
                    next[k] = b[k] + t * step[k];
                }
                nextLoss = objective(p, rows, w, next, b0, ridge, null, null);
                if (nextLoss <= loss + 1e-4 * t * slope) {
                    break;
                }
            }
            if (!(nextLoss < loss)) {
                break;
            }
            b = next;
            loss = objective(p, rows, w, b, b0, ridge, grad, hess);
        }
        float[] bias = new float[free];
        for (int k = 0; k < free; k++) {
            bias[k] = (float) (b[k] * p.temperature());
        }
        double share = 0;
        for (int i = 0; i < n; i++) {
            share += rows[i].positiveInHistory() >= 0 ? w[i] : 0;
        }
        return new Result(
                bias,
                p.learnedBias().clone(),
                n,
                p.catalog(),
                share,
                objective(p, rows, w, b0, b0, 0, null, null),
                objective(p, rows, w, b, b0, 0, null, null),
                recallK,
                recall(p, rows, w, b0, recallK),
                recall(p, rows, w, b, recallK),
                it);
    }

    /** One pass of {@code U·Pᵀ} in row blocks: each row's non-history mass, history logits and top non-history logits. */
    private static RowTerms[] rowTerms(Problem p, int recallK, NDManager manager) {
        int n = p.positives().length;
        int c = p.catalog();
        int d = p.dim();
        double invTau = 1.0 / p.temperature();
        RowTerms[] out = new RowTerms[n];
        try (NDManager m = manager.newSubManager()) {
            NDArray pinsT = m.create(p.pins(), new Shape(c, d)).transpose();
            for (int from = 0; from < n; from += ROW_BLOCK) {
                int rowsInBlock = Math.min(ROW_BLOCK, n - from);
                float[] scores;
                try (NDManager bm = m.newSubManager()) {
                    NDArray u = bm.create(
                            Arrays.copyOfRange(p.users(), from * d, (from + rowsInBlock) * d),
                            new Shape(rowsInBlock, d));
                    scores = u.matMul(pinsT).toFloatArray();
                }
                for (int r = 0; r < rowsInBlock; r++) {
                    out[from + r] = row(p, from + r, scores, r * c, c, invTau, recallK);
                }
            }
        }
        return out;
    }

    private static RowTerms row(Problem p, int i, float[] scores, int offset, int c, double invTau, int recallK) {
        int[] hist = p.historyPins()[i];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, scores[offset + j] * invTau);
        }
        double mass = 0;
        for (int j = 0; j < c; j++) {
            mass += Math.exp(scores[offset + j] * invTau - max);
        }
        double[] hLogits = new double[hist.length];
        int positiveInHistory = -1;
        for (int h = 0; h < hist.length; h++) {
            hLogits[h] = scores[offset + hist[h]] * invTau - max;
            mass -= Math.exp(hLogits[h]);
            if (hist[h] == p.positives()[i]) {
                positiveInHistory = h;
            }
        }
        // The subtraction can leave rounding residue when the history holds nearly all the mass.
        mass = Math.max(mass, 1e-12);
        float[] saved = new float[hist.length];
        for (int h = 0; h < hist.length; h++) {
            saved[h] = scores[offset + hist[h]];
            scores[offset + hist[h]] = Float.NEGATIVE_INFINITY;
        }
        PriorityQueue<Float> top = new PriorityQueue<>(recallK + 1);
        for (int j = 0; j < c; j++) {
            float s = scores[offset + j];
            if (top.size() < recallK) {
                top.add(s);
            } else if (s > top.peek()) {
                top.poll();
                top.add(s);
            }
        }
        for (int h = 0; h < hist.length; h++) {
            scores[offset + hist[h]] = saved[h];
        }
        float[] topNonHistory = new float[top.size()];
        for (int k = topNonHistory.length - 1; k >= 0; k--) {
            topNonHistory[k] = (float) (top.poll() * invTau - max);
        }
        double positiveLogit = scores[offset + p.positives()[i]] * invTau - max;
        return new RowTerms(mass, hLogits, positiveInHistory, positiveLogit, topNonHistory);
    }

    /** The ridge-penalised objective at b; fills the gradient and Hessian when they are given. */
    private static double objective(
            Problem p,
            RowTerms[] rows,
            double[] w,
            double[] b,
            double[] b0,
            double ridge,
            double[] grad,
            double[][] hess) {
        int s = p.sequences();
        int free = b.length;
        if (grad != null) {
            Arrays.fill(grad, 0);
            for (double[] row : hess) {
                Arrays.fill(row, 0);
            }
        }
        double[] mean = new double[free];
        double loss = 0;
        for (int i = 0; i < rows.length; i++) {
            RowTerms r = rows[i];
            int[] slots = p.historySlots()[i];
            int hn = r.historyLogits().length;
            double[] z = new double[hn];
            double max = Math.log(r.nonHistoryMass());
            for (int h = 0; h < hn; h++) {
                z[h] = r.historyLogits()[h] + bias(b, slots, h, s, p.slotsPerSequence());
                max = Math.max(max, z[h]);
            }
            double sum = r.nonHistoryMass() * Math.exp(-max);
            for (int h = 0; h < hn; h++) {
                sum += Math.exp(z[h] - max);
            }
            double logZ = max + Math.log(sum);
            double zPos = r.positiveInHistory() >= 0 ? z[r.positiveInHistory()] : r.positiveLogit();
            loss += w[i] * (logZ - zPos);
            if (grad == null) {
                continue;
            }
            Arrays.fill(mean, 0);
            for (int h = 0; h < hn; h++) {
                double pi = Math.exp(z[h] - logZ);
                for (int a = 0; a < s; a++) {
                    int ka = slotIndex(slots, h, a, s, p.slotsPerSequence());
                    if (ka < 0) {
                        continue;
                    }
                    mean[ka] += pi;
                    for (int q = 0; q < s; q++) {
                        int kq = slotIndex(slots, h, q, s, p.slotsPerSequence());
                        if (kq >= 0) {
                            hess[ka][kq] += w[i] * pi;
                        }
                    }
                }
            }
            for (int k = 0; k < free; k++) {
                grad[k] += w[i] * mean[k];
                if (mean[k] != 0) {
                    for (int q = 0; q < free; q++) {
                        hess[k][q] -= w[i] * mean[k] * mean[q];
                    }
                }
            }
            if (r.positiveInHistory() >= 0) {
                for (int a = 0; a < s; a++) {
                    int ka = slotIndex(slots, r.positiveInHistory(), a, s, p.slotsPerSequence());
                    if (ka >= 0) {
                        grad[ka] -= w[i];
                    }
                }
            }
        }
        for (int k = 0; k < free; k++) {
            if (k % p.slotsPerSequence() == 0) {
                continue;
            }
            double dev = b[k] - b0[k];
            loss += ridge / 2 * dev * dev;
            if (grad != null) {
                grad[k] += ridge * dev;
                hess[k][k] += ridge;
            }
        }
        return loss;
    }

    /** The Newton direction {@code −H⁻¹ g} on the free slots (slot 0 of each sequence stays 0). */
    private static double[] newtonStep(double[] grad, double[][] hess, int slotsPerSequence, NDManager manager) {
        int[] free = IntStream.range(0, grad.length)
                .filter(k -> k % slotsPerSequence != 0)
                .toArray();
        int f = free.length;
        float[] h = new float[f * f];
        for (int a = 0; a < f; a++) {
            for (int q = 0; q < f; q++) {
                h[a * f + q] = (float) hess[free[a]][free[q]];
            }
            h[a * f + a] += 1e-9f;
        }
        double[] step = new double[grad.length];
        try (NDManager m = manager.newSubManager()) {
            float[] inv = m.create(h, new Shape(f, f)).inverse().toFloatArray();
            for (int a = 0; a < f; a++) {
                double sum = 0;
                for (int q = 0; q < f; q++) {
                    sum += inv[a * f + q] * grad[free[q]];
                }
                step[free[a]] = -sum;
            }
        }
        return step;
    }

    /** Weighted share of rows whose positive ranks in the top K of the biased scores. */
    private static double recall(Problem p, RowTerms[] rows, double[] w, double[] b, int k) {
        int s = p.sequences();
        double hit = 0;
        for (int i = 0; i < rows.length; i++) {
            RowTerms r = rows[i];
            int[] slots = p.historySlots()[i];
            int hn = r.historyLogits().length;
            double zPos = r.positiveInHistory() >= 0
                    ? r.historyLogits()[r.positiveInHistory()]
                            + bias(b, slots, r.positiveInHistory(), s, p.slotsPerSequence())
                    : r.positiveLogit();
            int above = 0;
            for (float t : r.topNonHistory()) {
                if (t > zPos) {
                    above++;
                }
            }
            for (int h = 0; h < hn; h++) {
                if (h != r.positiveInHistory()
                        && r.historyLogits()[h] + bias(b, slots, h, s, p.slotsPerSequence()) > zPos) {
                    above++;
                }
            }
            hit += above < k ? w[i] : 0;
        }
        return hit;
    }

    private static double bias(double[] b, int[] slots, int h, int sequences, int slotsPerSequence) {
        double sum = 0;
        for (int a = 0; a < sequences; a++) {
            int k = slotIndex(slots, h, a, sequences, slotsPerSequence);
            if (k >= 0) {
                sum += b[k];
            }
        }
        return sum;
    }

    /** Flat index of history pin h's slot in sequence a, or −1 when it is not in that sequence. */
    private static int slotIndex(int[] slots, int h, int a, int sequences, int slotsPerSequence) {
        int slot = slots[h * sequences + a];
        return slot == 0 ? -1 : a * slotsPerSequence + slot;
    }

    private static double[] normalised(float[] weights) {
        double total = 0;
        for (float x : weights) {
            total += x;
        }
        if (!(total > 0)) {
            throw new IllegalArgumentException("row weights sum to " + total + ": expected a positive sum");
        }
        double[] w = new double[weights.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = weights[i] / total;
        }
        return w;
    }

    /** Writes the result beside the artifact's parameters (replaced atomically). */
    public static void write(Path artifactDir, Result r) {
        Path file = artifactDir.resolve(FILE);
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try {
            Files.writeString(tmp, GSON.toJson(r), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The refit stored with an artifact, if its training ran one. */
    public static Optional<Result> read(Path artifactDir) {
        Path file = artifactDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), Result.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
