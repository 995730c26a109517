package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * Multi-layer perceptron {@code h_{k+1} = relu(h_k W_kᵀ + b_k)} with widths w_1..w_K (default three
 * layers in the model config). Input (B, inputDim), output (B, w_K). Weights He-normal (DJL's
 * default for WEIGHT), biases zero.
 */
public final class Mlp extends AbstractBlock {
    private static final byte VERSION = 1;

    private final int inputDim;
    private final List<Integer> widths;
    private final boolean activateLast;
    private final List<Linear> layers = new ArrayList<>();

    private Mlp(Builder b) {
        super(VERSION);
        inputDim = b.inputDim;
        widths = List.copyOf(b.widths);
        activateLast = b.activateLast;
        for (int i = 0; i < widths.size(); i++) {
            layers.add(addChildBlock(
                    "dense" + i, Linear.builder().setUnits(widths.get(i)).build()));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public int outputDim() {
        return widths.get(widths.size() - 1);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).forward(ps, new NDList(x), training).head();
            if (i < layers.size() - 1 || activateLast) {
                x = Activation.relu(x);
            }
        }
        return new NDList(x);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        long in = inputDim;
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).initialize(manager, dataType, new Shape(1, in));
            in = widths.get(i);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), outputDim())};
    }

    /** Builder: {@code setInputDim} and {@code setWidths} are required. */
    public static final class Builder {
        private int inputDim;
        private List<Integer> widths = List.of();
        private boolean activateLast = true;

        public Builder setInputDim(int inputDim) {
            this.inputDim = inputDim;
            return this;
        }

        public Builder setWidths(List<Integer> widths) {
            this.widths = widths;
            return this;
        }

        /** Apply relu after the last layer too (default true). */
        public Builder optActivateLast(boolean activateLast) {
            this.activateLast = activateLast;
            return this;
        }

        public Mlp build() {
            if (inputDim <= 0) {
                throw new IllegalArgumentException("inputDim = " + inputDim + " is invalid; allowed: > 0");
            }
            if (widths.isEmpty() || widths.stream().anyMatch(w -> w <= 0)) {
                throw new IllegalArgumentException(
                        "widths = " + widths + " is invalid; allowed: a non-empty list of positive widths");
            }
            return new Mlp(this);
        }
    }
}
