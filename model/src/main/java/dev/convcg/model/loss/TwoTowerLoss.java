package dev.convcg.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.convcg.model.blocks.Scalars;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.ModelConfig.HeadMode;
import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import ai.djl.training.loss.Loss;

/**
 * Sampled softmax over in-batch positives plus hard negatives, with logQ correction, accidental-hit
 * masking, per-example weights, two task variants and the advertiser-level term.
 *
 * <p>For head k, row i and column j (j < B: row j's positive pin; j ≥ B: hard negative j − B):
 *
 * <pre>
 *   z_ij = u_i·p_jᵀ / τ − [logQ on, j &lt; B] · log q_j
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
 * 2019). w_i = 1 when example weights are off. Each task's loss is a weighted mean, so example weights only
 * re-distribute a task's gradient among its rows and the task weights λ alone set the balance between tasks
 * (a sum divided by the row count would let the mean example weight of a task rescale it: docs/results.md).
 *
 * <p>Labels (see {@link #labels}): {@code [rowPin (B) i64, colPin (C) i64, logQTerm (C) f32 — the
 * value added to z, i.e. −log q_j or 0, weight (B), conversionMask (B), engagementMask (B), rowAdv
 * (B) i64, colAdv (C) i64]}. Predictions: {@code [u_0, p_0, (u_1, p_1,) τ]}.
 */
public final class TwoTowerLoss extends Loss {
    /** Additive mask value: large enough to vanish under exp, small enough to stay finite. */
    public static final float MASKED = -1e9f;
    /** Floor of the advertiser positive mass before the log (keeps the loss finite). */
    static final float MIN_MASS = 1e-30f;
    /** Floor of a task's weight sum: a batch without rows of a task gives that task a zero loss. */
    static final float MIN_WEIGHT = 1e-6f;

    private final ModelConfig config;

    public TwoTowerLoss(ModelConfig config) {
        super("two_tower_loss");
        this.config = config;
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
        }
        float[] w = new float[b];
        float[] conv = new float[b];
        float[] eng = new float[b];
        for (int i = 0; i < b; i++) {
            w[i] = config.useExampleWeights() ? batch.weights()[i] : 1f;
            conv[i] = batch.tasks()[i] == Task.CONVERSION.code() ? 1f : 0f;
            eng[i] = batch.tasks()[i] == Task.ENGAGEMENT.code() ? 1f : 0f;
        }
        return new NDList(m.create(batch.pinIds()), m.create(colPin), m.create(logQ),
                m.create(w), m.create(conv), m.create(eng), m.create(batch.advertiserIds()),
                m.create(colAdv));
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
        NDArray tau = predictions.get(predictions.size() - 1);

        NDArray same = rowPin.expandDims(1).eq(colPin.expandDims(0));
        NDArray diag = m.eye(b, c, 0, DataType.BOOLEAN);
        NDArray hits = same.logicalAnd(diag.logicalNot()).toType(DataType.FLOAT32, false);
        NDArray hitMask = hits.mul(Scalars.of(hits, MASKED));
        NDArray bias = logQ.expandDims(0);

        NDArray z0 = predictions.get(0).matMul(predictions.get(1).transpose()).div(tau).add(bias);
        NDArray ce0 = z0.add(hitMask).logSoftmax(1).diagonal().neg();
        NDArray ce1 = ce0;
        if (config.heads().mode() == HeadMode.MULTI_HEAD) {
            NDArray z1 = predictions.get(2).matMul(predictions.get(3).transpose()).div(tau)
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
            NDArray sameAdv = labels.get(6).expandDims(1).eq(labels.get(7).expandDims(0))
                    .toType(DataType.FLOAT32, false);
            NDArray positiveMass = z0.softmax(1).mul(sameAdv).sum(new int[] {1});
            NDArray nll = positiveMass.maximum(Scalars.of(positiveMass, MIN_MASS)).log().neg();
            lAdv = weightedMean(nll, w);
            total = total.add(lAdv.mul(Scalars.of(lAdv, config.advertiserLoss().weight())));
        } else {
            lAdv = Scalars.of(total, 0);
        }
        return new NDList(total, lConv, lEng, lAdv);
    }

    /** {@code Σ w·x / max(Σ w, MIN_WEIGHT)}. */
    private static NDArray weightedMean(NDArray x, NDArray w) {
        NDArray mass = w.sum();
        return x.mul(w).sum().div(mass.maximum(Scalars.of(mass, MIN_WEIGHT)));
    }
}
