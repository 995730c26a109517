package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
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
        weight.getNDArrayInternal().adamUpdate(
                new NDList(weight, grad, mv[0], mv[1]), new NDList(weight), lr, lrCorrected,
                getWeightDecay(), 1f, -1f, beta1, beta2, epsilon, false, decoupled);
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
                throw new IllegalStateException("optimizer state has m:" + name + " but no v:"
                        + name);
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
                throw new IllegalArgumentException("learningRate = null is invalid; allowed: a"
                        + " Tracker");
            }
            return new StatefulAdam(this);
        }
    }
}
