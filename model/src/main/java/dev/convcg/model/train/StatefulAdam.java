package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam / AdamW whose moments can be saved and restored, which DJL's own {@code Adam} does not
 * allow (its state maps are private and keyed by per-process parameter UUIDs). Uses the engine's
 * fused update ({@code NDArrayEx.adamUpdate}, the same kernel as DJL's Adam, which also zeroes the
 * gradient afterwards):
 *
 * <pre>
 *   ADAM:  g ← g + λ w;                 ADAMW: w ← w − η λ w
 *   m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
 *   w ← w − η √(1 − β2^t) / (1 − β1^t) · m / (√v + ε)
 * </pre>
 *
 * with η = schedule(t − 1). The step t is set by the trainer ({@link #setStep}) rather than counted
 * per call, so several devices and resumed runs agree. State is keyed by parameter path name
 * (stable across processes), one copy per device.
 *
 * <p><b>Row-sparse ("lazy") update</b> ({@link #updateRows}) for embedding tables: given the rows R
 * a batch touched, their gathered values {@code W[R]} and the gradient of those rows, it applies the
 * same formula to {@code W[R]}, {@code m[R]}, {@code v[R]} only and writes them back. Rows outside R
 * keep their weights and moments (their moments do not decay), as in TensorFlow's LazyAdam and
 * PyTorch's SparseAdam; t is still the global step. Weight decay (L2 or decoupled) reaches a row
 * only on the steps that touch it, with no catch-up for skipped steps. When every row is touched
 * every step this equals the dense update. The moments are full-size arrays either way, so
 * checkpoints do not depend on the mode.
 */
public final class StatefulAdam extends Optimizer {
    private final Tracker learningRate;
    private final boolean decoupled;
    private final float beta1 = 0.9f;
    private final float beta2 = 0.999f;
    private final float epsilon = 1e-8f;
    private final Map<String, String> nameById = new HashMap<>();
    private final Map<String, Map<Device, NDArray[]>> moments = new LinkedHashMap<>();
    private final Map<String, NDArray[]> pending = new HashMap<>();
    private int step = 1;

    private StatefulAdam(Builder b) {
        super(b);
        learningRate = b.learningRate;
        decoupled = b.decoupled;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds parameter ids of the current block to their path names. */
    public void bind(PairList<String, Parameter> parameters) {
        nameById.clear();
        for (Pair<String, Parameter> p : parameters) {
            nameById.put(p.getValue().getId(), p.getKey());
        }
    }

    /** The 1-based step t used by the next {@link #update}. */
    public void setStep(int step) {
        this.step = step;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        String name = nameById.getOrDefault(parameterId, parameterId);
        NDArray[] mv = moments.computeIfAbsent(name, k -> new HashMap<>())
                .computeIfAbsent(weight.getDevice(), d -> initialMoments(name, weight));
        float lr = learningRate.getNewValue(step - 1);
        double coef1 = 1.0 - Math.pow(beta1, step);
        double coef2 = 1.0 - Math.pow(beta2, step);
        float lrCorrected = (float) (lr * Math.sqrt(coef2) / coef1);
        weight.getNDArrayInternal()
                .adamUpdate(
                        new NDList(weight, grad, mv[0], mv[1]),
                        new NDList(weight),
                        lr,
                        lrCorrected,
                        getWeightDecay(),
                        1f,
                        -1f,
                        beta1,
                        beta2,
                        epsilon,
                        false,
                        decoupled);
    }

    /**
     * Lazy Adam on the rows of one table.
     *
     * @param parameterId the table parameter's id (its moments are keyed by its path name)
     * @param weight the full table (rows × dim), updated in place at {@code rows[1..]}
     * @param rows int64 table rows by compact slot; slot 0 is padding and is not written back
     * @param compact {@code weight[rows]}, the leaf the step back-propagated into (updated in place)
     * @param grad gradient of {@code compact}; rows of slot 0 are ignored
     */
    public void updateRows(String parameterId, NDArray weight, NDArray rows, NDArray compact, NDArray grad) {
        String name = nameById.getOrDefault(parameterId, parameterId);
        NDArray[] mv = moments.computeIfAbsent(name, k -> new HashMap<>())
                .computeIfAbsent(weight.getDevice(), d -> initialMoments(name, weight));
        long n = rows.getShape().get(0);
        if (n <= 1) {
            return; // only the padding slot: nothing touched
        }
        float lr = learningRate.getNewValue(step - 1);
        double coef1 = 1.0 - Math.pow(beta1, step);
        double coef2 = 1.0 - Math.pow(beta2, step);
        float lrCorrected = (float) (lr * Math.sqrt(coef2) / coef1);
        boolean gradMode = JniUtils.isGradMode(); // thread-local; on by default in new threads
        JniUtils.setGradMode(false); // the write-back must not join the next step's graph
        NDIndex all = new NDIndex("{}", rows);
        try (NDArray m = mv[0].get(all);
                NDArray v = mv[1].get(all)) {
            compact.getNDArrayInternal()
                    .adamUpdate(
                            new NDList(compact, grad, m, v),
                            new NDList(compact),
                            lr,
                            lrCorrected,
                            getWeightDecay(),
                            1f,
                            -1f,
                            beta1,
                            beta2,
                            epsilon,
                            false,
                            decoupled);
            NDIndex touched = new NDIndex("1:");
            try (NDArray r = rows.get(touched);
                    NDArray w1 = compact.get(touched);
                    NDArray m1 = m.get(touched);
                    NDArray v1 = v.get(touched)) {
                NDIndex at = new NDIndex("{}", r);
                weight.set(at, w1);
                mv[0].set(at, m1);
                mv[1].set(at, v1);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private NDArray[] initialMoments(String name, NDArray weight) {
        NDArray[] saved = pending.remove(name);
        if (saved != null) {
            NDArray m = saved[0].toDevice(weight.getDevice(), true);
            NDArray v = saved[1].toDevice(weight.getDevice(), true);
            m.attach(weight.getManager());
            v.attach(weight.getManager());
            return new NDArray[] {m, v};
        }
        return new NDArray[] {weight.zerosLike(), weight.zerosLike()};
    }

    /** First-device moments as named arrays {@code m:<param>}, {@code v:<param>}. */
    public NDList exportState() {
        NDList out = new NDList();
        moments.forEach((name, byDevice) -> {
            NDArray[] mv = byDevice.values().iterator().next();
            NDArray m = mv[0].duplicate();
            NDArray v = mv[1].duplicate();
            m.setName("m:" + name);
            v.setName("v:" + name);
            out.add(m);
            out.add(v);
        });
        pending.forEach((name, mv) -> {
            NDArray m = mv[0].duplicate();
            NDArray v = mv[1].duplicate();
            m.setName("m:" + name);
            v.setName("v:" + name);
            out.add(m);
            out.add(v);
        });
        return out;
    }

    /** Replaces all moments with saved ones; they move to each device on first use. */
    public void importState(NDList state, NDManager manager) {
        moments.clear();
        pending.clear();
        for (NDArray a : state) {
            if (a.getName() == null || !a.getName().startsWith("m:")) {
                continue;
            }
            String name = a.getName().substring(2);
            NDArray v = state.get("v:" + name);
            if (v == null) {
                throw new IllegalStateException("optimizer state has m:" + name + " but no v:" + name);
            }
            a.attach(manager);
            v.attach(manager);
            pending.put(name, new NDArray[] {a, v});
        }
    }

    /** Builder: {@code setLearningRate} is required; {@code optDecoupled(true)} gives AdamW. */
    public static final class Builder extends OptimizerBuilder<Builder> {
        private Tracker learningRate;
        private boolean decoupled;

        public Builder setLearningRate(Tracker learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        public Builder optDecoupled(boolean decoupled) {
            this.decoupled = decoupled;
            return this;
        }

        @Override
        protected Builder self() {
            return this;
        }

        public StatefulAdam build() {
            if (learningRate == null) {
                throw new IllegalArgumentException("learningRate = null is invalid; allowed: a" + " Tracker");
            }
            return new StatefulAdam(this);
        }
    }
}
