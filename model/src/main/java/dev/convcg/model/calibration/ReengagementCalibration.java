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
import java.util.stream.IntStream;

/**
 * Refits a trained model's serving terms on held-out positives against the whole catalog, with the towers frozen: the
 * re-engagement biases and, when asked, a popularity prior. Training learns the biases inside a batch softmax whose
 * other columns are rarely in the row's history, so on little data they stay near 0 while the user's own pins carry
 * much of what the user converts on next; serving competes against every pin of the catalog. A dot product of unit
 * vectors cannot hold a per-pin score either, and the logQ-corrected batch softmax learns none: what makes a pin
 * bought by everybody is left to the prior, one bias per popularity bin (the pin's positives over the days before,
 * binned by {@code log2}). The refit minimises the training objective (per-task weighted means of the softmax
 * cross-entropy, task weights λ) over the full catalog instead of the batch:
 *
 * <pre>
 *   z_ij = u_i·p_j / τ + Σ_s b_s[slot_s(i, j)] + c[bin(j)]     (logit units; slot 0, "not in sequence s", is 0)
 *   L(b, c) = Σ_i w_i (log Σ_j exp z_ij − z_i,pos_i) + ridge/2 · (|b − b_learned|² + |c|²)     (Σ_i w_i = 1)
 * </pre>
 *
 * L is convex in (b, c) (a log-sum-exp of functions linear in them), and each row's sum over the pins outside its
 * history depends on them only through one mass per popularity bin, so one pass of {@code U·Pᵀ} reduces the problem
 * to each row's history pins and bin masses; Newton's method with a backtracking line search then converges in a few
 * steps. The results are in score (cosine) units, {@code β = b·τ} and {@code γ = c·τ}, which serving adds to
 * {@code u·p}.
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
     * @param pinBins          each catalog pin's popularity bin in {@code [0, bins)}; ignored when bins is 0
     * @param bins             number of popularity bins; 0: no popularity prior
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
            float[] learnedBias,
            int[] pinBins,
            int bins) {
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
            if (bins > 0 && (pinBins == null || pinBins.length != pins.length / dim)) {
                throw new IllegalArgumentException("pinBins must give one bin per catalog pin (" + pins.length / dim
                        + "), got " + (pinBins == null ? "none" : pinBins.length));
            }
            if (bins > 0) {
                for (int g : pinBins) {
                    if (g < 0 || g >= bins) {
                        throw new IllegalArgumentException("popularity bin " + g + " outside [0, " + bins + ")");
                    }
                }
            }
        }

        int catalog() {
            return pins.length / dim;
        }

        int bin(int pin) {
            return bins == 0 ? 0 : pinBins[pin];
        }

        /** Index of the first popularity parameter in the parameter vector (the biases come first). */
        int priorOffset() {
            return sequences * slotsPerSequence;
        }
    }

    /**
     * The refit and what it changed on the held-out rows.
     *
     * @param bias              refitted biases, score units, slot 0 of each sequence 0
     * @param learnedBias       the biases training learned
     * @param popularityPrior   score added to a pin of each popularity bin, score units; empty without a prior
     * @param rows              held-out positives used
     * @param catalog           catalog size
     * @param historyShare      weighted share of the rows whose positive is in the user's history
     * @param lossLearned       mean full-catalog cross-entropy with the learned biases (and no prior)
     * @param lossCalibrated    the same with the refitted ones
     * @param recallK           K of the two recalls
     * @param recallLearned     weighted share of rows whose positive ranks in the top K, learned biases
     * @param recallCalibrated  the same, refitted biases and prior
     * @param iterations        Newton steps taken
     */
    public record Result(
            float[] bias,
            float[] learnedBias,
            float[] popularityPrior,
            int rows,
            int catalog,
            double historyShare,
            double lossLearned,
            double lossCalibrated,
            int recallK,
            double recallLearned,
            double recallCalibrated,
            int iterations) {}

    /**
     * What the refit needs of one row after the single pass over the catalog (logits shifted by the row max): the
     * mass of the pins outside the history per popularity bin, and the history pins' logits.
     */
    private record RowTerms(
            double[] nonHistoryMass, double[] historyLogits, int positiveInHistory, double positiveLogit) {}

    /**
     * Fits the biases (and the popularity prior when the problem has bins).
     *
     * @param recallK the K of the before/after recall reported in the result
     * @param ridge   strength of the pull towards the learned biases and a prior of 0 (logit units², per unit of
     *                row weight)
     */
    public static Result fit(Problem p, int recallK, double ridge, NDManager manager) {
        int n = p.positives().length;
        int free = p.priorOffset() + p.bins();
        double[] w = normalised(p.weights());
        RowTerms[] rows = rowTerms(p, manager);
        double[] b0 = new double[free];
        for (int k = 0; k < p.priorOffset(); k++) {
            b0[k] = k % p.slotsPerSequence() == 0 ? 0 : p.learnedBias()[k] / p.temperature();
        }
        double[] b = b0.clone();
        double[] grad = new double[free];
        double[][] hess = new double[free][free];
        double loss = objective(p, rows, w, b, b0, ridge, grad, hess);
        int it = 0;
        for (; it < MAX_ITERATIONS; it++) {
            double[] step = newtonStep(grad, hess, p, manager);
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
        float[] bias = new float[p.priorOffset()];
        for (int k = 0; k < bias.length; k++) {
            bias[k] = (float) (b[k] * p.temperature());
        }
        float[] prior = new float[p.bins()];
        for (int g = 0; g < prior.length; g++) {
            prior[g] = (float) (b[p.priorOffset() + g] * p.temperature());
        }
        double share = 0;
        for (int i = 0; i < n; i++) {
            share += rows[i].positiveInHistory() >= 0 ? w[i] : 0;
        }
        double[] recall = recall(p, w, new double[][] {b0, b}, recallK, manager);
        return new Result(
                bias,
                p.learnedBias().clone(),
                prior,
                n,
                p.catalog(),
                share,
                objective(p, rows, w, b0, b0, 0, null, null),
                objective(p, rows, w, b, b0, 0, null, null),
                recallK,
                recall[0],
                recall[1],
                it);
    }

    /** One pass of {@code U·Pᵀ} in row blocks: each row's non-history mass per bin and its history logits. */
    private static RowTerms[] rowTerms(Problem p, NDManager manager) {
        int n = p.positives().length;
        RowTerms[] out = new RowTerms[n];
        double invTau = 1.0 / p.temperature();
        scorePass(p, manager, (i, scores, offset) -> out[i] = row(p, i, scores, offset, invTau));
        return out;
    }

    /** Receives row i's catalog scores {@code scores[offset .. offset + C)}, which it may change. */
    private interface RowScores {
        void accept(int row, float[] scores, int offset);
    }

    private static void scorePass(Problem p, NDManager manager, RowScores consumer) {
        int n = p.positives().length;
        int c = p.catalog();
        int d = p.dim();
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
                    consumer.accept(from + r, scores, r * c);
                }
            }
        }
    }

    private static RowTerms row(Problem p, int i, float[] scores, int offset, double invTau) {
        int c = p.catalog();
        int[] hist = p.historyPins()[i];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, scores[offset + j] * invTau);
        }
        double[] mass = new double[Math.max(p.bins(), 1)];
        for (int j = 0; j < c; j++) {
            mass[p.bin(j)] += Math.exp(scores[offset + j] * invTau - max);
        }
        double[] hLogits = new double[hist.length];
        int positiveInHistory = -1;
        for (int h = 0; h < hist.length; h++) {
            hLogits[h] = scores[offset + hist[h]] * invTau - max;
            mass[p.bin(hist[h])] -= Math.exp(hLogits[h]);
            if (hist[h] == p.positives()[i]) {
                positiveInHistory = h;
            }
        }
        double positiveLogit = scores[offset + p.positives()[i]] * invTau - max;
        // The subtraction can leave rounding residue when the history holds nearly all of a bin's mass.
        for (int g = 0; g < mass.length; g++) {
            mass[g] = Math.max(mass[g], 0);
        }
        if (positiveInHistory < 0) {
            int g = p.bin(p.positives()[i]);
            mass[g] = Math.max(mass[g], Math.exp(positiveLogit));
        }
        return new RowTerms(mass, hLogits, positiveInHistory, positiveLogit);
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
        int offset = p.priorOffset();
        boolean prior = p.bins() > 0;
        if (grad != null) {
            Arrays.fill(grad, 0);
            for (double[] row : hess) {
                Arrays.fill(row, 0);
            }
        }
        double[] mean = new double[free];
        int[] features = new int[s + 1];
        double loss = 0;
        for (int i = 0; i < rows.length; i++) {
            RowTerms r = rows[i];
            int[] slots = p.historySlots()[i];
            int[] hist = p.historyPins()[i];
            int hn = r.historyLogits().length;
            int groups = r.nonHistoryMass().length;
            double[] zGroup = new double[groups];
            double[] z = new double[hn];
            double max = Double.NEGATIVE_INFINITY;
            for (int g = 0; g < groups; g++) {
                zGroup[g] = r.nonHistoryMass()[g] > 0
                        ? Math.log(r.nonHistoryMass()[g]) + (prior ? b[offset + g] : 0)
                        : Double.NEGATIVE_INFINITY;
                max = Math.max(max, zGroup[g]);
            }
            for (int h = 0; h < hn; h++) {
                z[h] = r.historyLogits()[h]
                        + bias(b, slots, h, s, p.slotsPerSequence())
                        + (prior ? b[offset + p.bin(hist[h])] : 0);
                max = Math.max(max, z[h]);
            }
            double sum = 0;
            for (int g = 0; g < groups; g++) {
                sum += Math.exp(zGroup[g] - max);
            }
            for (int h = 0; h < hn; h++) {
                sum += Math.exp(z[h] - max);
            }
            double logZ = max + Math.log(sum);
            double zPos = r.positiveInHistory() >= 0
                    ? z[r.positiveInHistory()]
                    : r.positiveLogit() + (prior ? b[offset + p.bin(p.positives()[i])] : 0);
            loss += w[i] * (logZ - zPos);
            if (grad == null) {
                continue;
            }
            Arrays.fill(mean, 0);
            if (prior) {
                for (int g = 0; g < groups; g++) {
                    double pi = Math.exp(zGroup[g] - logZ);
                    mean[offset + g] += pi;
                    hess[offset + g][offset + g] += w[i] * pi;
                }
            }
            for (int h = 0; h < hn; h++) {
                double pi = Math.exp(z[h] - logZ);
                int f = features(p, slots, hist, h, features);
                for (int a = 0; a < f; a++) {
                    mean[features[a]] += pi;
                    for (int q = 0; q < f; q++) {
                        hess[features[a]][features[q]] += w[i] * pi;
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
                int f = features(p, slots, hist, r.positiveInHistory(), features);
                for (int a = 0; a < f; a++) {
                    grad[features[a]] -= w[i];
                }
            } else if (prior) {
                grad[offset + p.bin(p.positives()[i])] -= w[i];
            }
        }
        for (int k = 0; k < free; k++) {
            if (k < offset && k % p.slotsPerSequence() == 0) {
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

    /** The parameters history pin h's logit depends on (its slots, its popularity bin) into {@code into}; the count. */
    private static int features(Problem p, int[] slots, int[] hist, int h, int[] into) {
        int f = 0;
        for (int a = 0; a < p.sequences(); a++) {
            int k = slotIndex(slots, h, a, p.sequences(), p.slotsPerSequence());
            if (k >= 0) {
                into[f++] = k;
            }
        }
        if (p.bins() > 0) {
            into[f++] = p.priorOffset() + p.bin(hist[h]);
        }
        return f;
    }

    /** The Newton direction {@code −H⁻¹ g} on the free parameters (slot 0 of each sequence stays 0). */
    private static double[] newtonStep(double[] grad, double[][] hess, Problem p, NDManager manager) {
        int[] free = IntStream.range(0, grad.length)
                .filter(k -> k >= p.priorOffset() || k % p.slotsPerSequence() != 0)
                .toArray();
        int f = free.length;
        double[] step = new double[grad.length];
        if (f == 0) {
            return step;
        }
        float[] h = new float[f * f];
        for (int a = 0; a < f; a++) {
            for (int q = 0; q < f; q++) {
                h[a * f + q] = (float) hess[free[a]][free[q]];
            }
            h[a * f + a] += 1e-9f;
        }
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

    /**
     * Weighted share of rows whose positive ranks in the top K of the catalog, for each parameter vector: a second
     * pass of {@code U·Pᵀ} with each pin's bias and prior added (ties count for the positive).
     */
    private static double[] recall(Problem p, double[] w, double[][] params, int k, NDManager manager) {
        int c = p.catalog();
        int s = p.sequences();
        double invTau = 1.0 / p.temperature();
        double[] hit = new double[params.length];
        double[] z = new double[c];
        scorePass(p, manager, (i, scores, offset) -> {
            int[] hist = p.historyPins()[i];
            int[] slots = p.historySlots()[i];
            for (int v = 0; v < params.length; v++) {
                double[] b = params[v];
                for (int j = 0; j < c; j++) {
                    z[j] = scores[offset + j] * invTau + (p.bins() > 0 ? b[p.priorOffset() + p.bin(j)] : 0);
                }
                for (int h = 0; h < hist.length; h++) {
                    z[hist[h]] += bias(b, slots, h, s, p.slotsPerSequence());
                }
                double zPos = z[p.positives()[i]];
                int above = 0;
                for (int j = 0; j < c && above < k; j++) {
                    if (z[j] > zPos) {
                        above++;
                    }
                }
                hit[v] += above < k ? w[i] : 0;
            }
        });
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
