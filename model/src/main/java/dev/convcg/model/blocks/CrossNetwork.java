package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A stack of L {@link CrossLayer}s: {@code x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l} for l = 0..L-1.
 * Input {@code [x0]} (B, D), output {@code [x_L]} (B, D); L = 0 is the identity.
 */
public final class CrossNetwork extends AbstractBlock {
    private static final byte VERSION = 1;

    private final int dim;
    private final List<CrossLayer> layers = new ArrayList<>();

    private CrossNetwork(Builder b) {
        super(VERSION);
        dim = b.dim;
        for (int i = 0; i < b.layers; i++) {
            layers.add(addChildBlock(
                    "cross" + i,
                    CrossLayer.builder().setDim(dim).optRank(b.rank).build()));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public int layerCount() {
        return layers.size();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x0 = inputs.head();
        NDArray x = x0;
        for (CrossLayer layer : layers) {
            x = layer.forward(ps, new NDList(x0, x), training).head();
        }
        return new NDList(x);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        Shape s = new Shape(1, dim);
        for (CrossLayer layer : layers) {
            layer.initialize(manager, dataType, s, s);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builder: {@code setDim} and {@code setLayers} are required; rank 0 = full rank. */
    public static final class Builder {
        private int dim;
        private int layers = -1;
        private int rank;

        public Builder setDim(int dim) {
            this.dim = dim;
            return this;
        }

        public Builder setLayers(int layers) {
            this.layers = layers;
            return this;
        }

        public Builder optRank(int rank) {
            this.rank = rank;
            return this;
        }

        public CrossNetwork build() {
            if (layers < 0) {
                throw new IllegalArgumentException("layers = " + layers + " is invalid; allowed: >= 0");
            }
            if (dim <= 0) {
                throw new IllegalArgumentException("dim = " + dim + " is invalid; allowed: > 0");
            }
            return new CrossNetwork(this);
        }
    }
}
