package dev.convcg.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import dev.convcg.model.blocks.Scalars;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.ModelConfig.HeadMode;
import dev.convcg.model.config.ModelConfig.ReengagementConfig;
import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sampled softmax over in-batch positives plus hard negatives, with logQ correction, accidental-hit
 * masking, per-example weights, two task variants and the advertiser-level term.
 *
 * <p>For head k, row i and column j (j < B: row j's positive pin; j ≥ B: hard negative j − B):
 *
 * <pre>
 *   z_ij = (u_i·p_jᵀ + Σ_s β_s[bucket_s(i, j)]) / τ − [logQ on] · c_j
 *   c_j  = log q_j (j &lt; B), log(q'_j · S / B) (sampled negative), 0 (served hard negative)
 *   s_ij = z_ij − ∞ · [pin_j = pin_i and j ≠ i]                (accidental hits)
 *   ℓ_i  = −log softmax_j(s_i)[i]
 *   L_t  = Σ_{i: task_i = t} w_i ℓ_i / Σ_{i: task_i = t} w_i       t ∈ {conversion, engagement}
 *   ℓ^adv_i = −log Σ_{j: adv_j = adv_i} softmax_j(z_i)[j]          (head 0, no hit mask)
 *   L_adv = Σ_i w_i ℓ^adv_i / Σ_i w_i
 *   L = λ_conv L_conv + λ_eng L_eng + λ_adv L_adv
 * </pre>
 *
 * MULTI_HEAD scores conversion rows with head 0 and engagement rows with head 1; UNIFIED scores all
 * rows with head 0. Subtracting log q_j lowers the logit of frequently sampled pins, which are
 * over-represented as in-batch negatives, so the softmax estimates the full-corpus one (Yi et al.,
 * 2019). A sampled negative (drawn with probability q'_j, S of them in the batch) is corrected on
 * the same scale, the expected count of its pin among the columns per B draws, so in-batch and
 * sampled columns mix consistently (mixed negative sampling, Yang et al., 2020); served hard
 * negatives come from no known distribution and get no correction. w_i = 1 when example weights
 * are off. Each task's loss is a weighted mean, so example weights only re-distribute a task's gradient among its rows and the task weights λ alone set the balance between tasks
 * (a sum divided by the row count would let the mean example weight of a task rescale it: docs/results.md).
 *
 * <p>The re-engagement term (when on): {@code bucket_s(i, j)} is the position bucket of column j's
 * pin in row i's user sequence s, or slot 0 (bias 0) when it is not there; see {@link
 * ModelConfig.ReengagementConfig}. β is in the units of the cosine u·p, so the optimizer moves it
 * on the same scale as the embeddings and serving adds it to u·p as it is.
 *
 * <p>Labels (see {@link #labels}): {@code [rowPin (B) i64, colPin (C) i64, logQTerm (C) f32 — the
 * value added to z, i.e. −log q_j or 0, weight (B), conversionMask (B), engagementMask (B), rowAdv
 * (B) i64, colAdv (C) i64, then, with re-engagement on, the (row, column) pairs whose column pin is
 * in one of the row's sequences as flat indices i·C + j (N) i64, ascending, and per sequence each
 * pair's bias slot (N) i64]}. The biases are gathered for those N pairs only and scattered into the
 * B × C logits: a gather over all B × C pairs cost a serial scatter-add of B × C gradients per
 * sequence in backward, a fifth of a training step (docs/benchmarks.md).
 * Predictions: {@code [u_0, p_0, (u_1, p_1,) [τ, β...]]}.
 */
public final class TwoTowerLoss extends Loss {
    /** Additive mask value: large enough to vanish under exp, small enough to stay finite. */
    public static final float MASKED = -1e9f;
    /** Floor of the advertiser positive mass before the log (keeps the loss finite). */
    static final float MIN_MASS = 1e-30f;
    /** Floor of a task's weight sum: a batch without rows of a task gives that task a zero loss. */
    static final float MIN_WEIGHT = 1e-6f;

    /** Labels before the re-engagement slots. */
    static final int REENGAGEMENT_LABELS = 8;

    private final ModelConfig config;

    public TwoTowerLoss(ModelConfig config) {
        super("two_tower_loss");
        this.config = config;
    }

    /** How many of the batch's hard negatives the loss uses: none when they are off, else at most the cap. */
    public static int hardNegativesUsed(ModelConfig config, TrainingBatch batch) {
        return config.hardNegatives().enabled()
                ? Math.min(batch.hardNegatives(), config.hardNegatives().maxCount())
                : 0;
    }

    /** Builds the label tensors of a batch (C = B + H columns, H ≤ {@code hardNegatives}). */
    public static NDList labels(NDManager m, ModelConfig config, TrainingBatch batch, int h) {
        int b = batch.rows();
        int c = b + h;
        long[] colPin = new long[c];
        long[] colAdv = new long[c];
        float[] logQ = new float[c];
        System.arraycopy(batch.pinIds(), 0, colPin, 0, b);
        System.arraycopy(batch.hardNegativePinIds(), 0, colPin, b, h);
        System.arraycopy(batch.advertiserIds(), 0, colAdv, 0, b);
        System.arraycopy(batch.hardNegativeAdvertiserIds(), 0, colAdv, b, h);
        if (config.logQCorrection()) {
            for (int j = 0; j < b; j++) {
                logQ[j] = (float) -Math.log(batch.pinSamplingProb()[j]);
            }
            double[] sampledQ = batch.hardNegativeSamplingProb();
            int sampled = 0;
            for (int j = 0; j < h; j++) {
                sampled += sampledQ[j] > 0 ? 1 : 0;
            }
            for (int j = 0; j < h; j++) {
                if (sampledQ[j] > 0) {
                    logQ[b + j] = (float) -Math.log(sampledQ[j] * sampled / b);
                }
            }
        }
        float[] w = new float[b];
        float[] conv = new float[b];
        float[] eng = new float[b];
        for (int i = 0; i < b; i++) {
            w[i] = config.useExampleWeights() ? batch.weights()[i] : 1f;
            conv[i] = batch.tasks()[i] == Task.CONVERSION.code() ? 1f : 0f;
            eng[i] = batch.tasks()[i] == Task.ENGAGEMENT.code() ? 1f : 0f;
        }
        NDList labels = new NDList(
                m.create(batch.pinIds()),
                m.create(colPin),
                m.create(logQ),
                m.create(w),
                m.create(conv),
                m.create(eng),
                m.create(batch.advertiserIds()),
                m.create(colAdv));
        if (config.reengagement().enabled()) {
            List<FeatureBatch.Sequence> sequences = config.reengagement().sequences().stream()
                    .map(batch.user()::sequence)
                    .toList();
            for (long[] column : reengagementPairs(sequences, colPin)) {
                labels.add(m.create(column));
            }
        }
        return labels;
    }

    /**
     * The (row i, column j) pairs whose column pin is in row i's sequence s for some s, as
     * {@code [flat index i·C + j ascending, then per sequence the pair's slot]}: {@code s·SLOTS +
     * bucketOf(position)} at the pin's first (most recent) position in sequence s, else {@code
     * s·SLOTS} (that sequence's zero slot). Costs B·L map look-ups.
     */
    static long[][] reengagementPairs(List<FeatureBatch.Sequence> sequences, long[] colPin) {
        int c = colPin.length;
        int n = sequences.size();
        Map<Long, int[]> columnsOfPin = new HashMap<>();
        for (int j = 0; j < c; j++) {
            int[] cols = columnsOfPin.get(colPin[j]);
            columnsOfPin.put(colPin[j], cols == null ? new int[] {j} : append(cols, j));
        }
        int b = sequences.isEmpty() ? 0 : sequences.get(0).lengths().length;
        // Per row: the slot of each touched column (a row's own slice of a reused C × n array) and which
        // columns were touched; rows in order and columns sorted within a row give flat indices ascending.
        long[] slotOf = new long[c * n];
        boolean[] touched = new boolean[c];
        int[] touchedColumns = new int[c];
        long[] flat = new long[64];
        long[][] slots = new long[n][64];
        int pairs = 0;
        for (int i = 0; i < b; i++) {
            int count = 0;
            for (int s = 0; s < n; s++) {
                FeatureBatch.Sequence seq = sequences.get(s);
                int base = i * seq.width();
                for (int k = seq.lengths()[i] - 1; k >= 0; k--) {
                    int[] cols = columnsOfPin.get(seq.ids()[base + k]);
                    if (cols == null) {
                        continue;
                    }
                    for (int j : cols) {
                        if (!touched[j]) {
                            touched[j] = true;
                            touchedColumns[count++] = j;
                            zeroSlots(slotOf, j * n, n);
                        }
                        slotOf[j * n + s] = (long) s * ReengagementConfig.SLOTS + ReengagementConfig.bucketOf(k);
                    }
                }
            }
            Arrays.sort(touchedColumns, 0, count);
            if (pairs + count > flat.length) {
                int capacity = Math.max(2 * flat.length, pairs + count);
                flat = Arrays.copyOf(flat, capacity);
                for (int s = 0; s < n; s++) {
                    slots[s] = Arrays.copyOf(slots[s], capacity);
                }
            }
            for (int t = 0; t < count; t++) {
                int j = touchedColumns[t];
                flat[pairs] = (long) i * c + j;
                for (int s = 0; s < n; s++) {
                    slots[s][pairs] = slotOf[j * n + s];
                }
                pairs++;
                touched[j] = false;
            }
        }
        long[][] out = new long[1 + n][];
        out[0] = Arrays.copyOf(flat, pairs);
        for (int s = 0; s < n; s++) {
            out[1 + s] = Arrays.copyOf(slots[s], pairs);
        }
        return out;
    }

    /** Each sequence's zero slot into {@code slots[from .. from + sequences)}. */
    private static void zeroSlots(long[] slots, int from, int sequences) {
        for (int s = 0; s < sequences; s++) {
            slots[from + s] = (long) s * ReengagementConfig.SLOTS;
        }
    }

    private static int[] append(int[] a, int x) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = x;
        return out;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        return terms(labels, predictions).head();
    }

    /**
     * Computes {@code [L, L_conv, L_eng, L_adv]} (scalars; a disabled term is 0).
     */
    public NDList terms(NDList labels, NDList predictions) {
        NDArray rowPin = labels.get(0);
        NDArray colPin = labels.get(1);
        NDArray logQ = labels.get(2);
        NDArray w = labels.get(3);
        NDArray conv = labels.get(4);
        NDArray eng = labels.get(5);
        NDManager m = rowPin.getManager();
        int b = (int) rowPin.size();
        int c = (int) colPin.size();
        NDArray scalars = predictions.get(predictions.size() - 1);
        NDArray tau = scalars.get(new NDIndex("0:1"));

        NDArray same = rowPin.expandDims(1).eq(colPin.expandDims(0));
        NDArray diag = m.eye(b, c, 0, DataType.BOOLEAN);
        NDArray hits = same.logicalAnd(diag.logicalNot()).toType(DataType.FLOAT32, false);
        NDArray hitMask = hits.mul(Scalars.of(hits, MASKED));
        NDArray bias = logQ.expandDims(0);
        NDArray history = null;
        if (labels.size() > REENGAGEMENT_LABELS) {
            NDArray beta = scalars.get(new NDIndex("1:"));
            NDArray pairBias = null;
            for (int s = REENGAGEMENT_LABELS + 1; s < labels.size(); s++) {
                NDArray slotBias = beta.take(labels.get(s));
                pairBias = pairBias == null ? slotBias : pairBias.add(slotBias);
            }
            history = m.zeros(new Shape((long) b * c), pairBias.getDataType())
                    .put(labels.get(REENGAGEMENT_LABELS), pairBias)
                    .reshape(b, c);
        }

        NDArray z0 = similarity(predictions.get(0), predictions.get(1), history)
                .div(tau)
                .add(bias);
        NDArray ce0 = z0.add(hitMask).logSoftmax(1).diagonal().neg();
        NDArray ce1 = ce0;
        if (config.heads().mode() == HeadMode.MULTI_HEAD) {
            NDArray z1 = similarity(predictions.get(2), predictions.get(3), history)
                    .div(tau)
                    .add(bias);
            ce1 = z1.add(hitMask).logSoftmax(1).diagonal().neg();
        }
        NDArray wConv = w.mul(conv);
        NDArray wEng = w.mul(eng);
        NDArray lConv = weightedMean(ce0, wConv);
        NDArray lEng = weightedMean(ce1, wEng);
        NDArray total = lConv.mul(Scalars.of(lConv, config.heads().conversionWeight()))
                .add(lEng.mul(Scalars.of(lEng, config.heads().engagementWeight())));
        NDArray lAdv;
        if (config.advertiserLoss().enabled()) {
            NDArray sameAdv =
                    labels.get(6).expandDims(1).eq(labels.get(7).expandDims(0)).toType(DataType.FLOAT32, false);
            NDArray positiveMass = z0.softmax(1).mul(sameAdv).sum(new int[] {1});
            NDArray nll = positiveMass
                    .maximum(Scalars.of(positiveMass, MIN_MASS))
                    .log()
                    .neg();
            lAdv = weightedMean(nll, w);
            total = total.add(lAdv.mul(Scalars.of(lAdv, config.advertiserLoss().weight())));
        } else {
            lAdv = Scalars.of(total, 0);
        }
        return new NDList(total, lConv, lEng, lAdv);
    }

    /** {@code u·pᵀ}, plus the re-engagement biases (score units) when there are any. */
    private static NDArray similarity(NDArray u, NDArray p, NDArray history) {
        NDArray sim = u.matMul(p.transpose());
        return history == null ? sim : sim.add(history);
    }

    /** {@code Σ w·x / max(Σ w, MIN_WEIGHT)}. */
    private static NDArray weightedMean(NDArray x, NDArray w) {
        NDArray mass = w.sum();
        return x.mul(w).sum().div(mass.maximum(Scalars.of(mass, MIN_WEIGHT)));
    }
}
