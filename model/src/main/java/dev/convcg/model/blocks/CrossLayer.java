package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;

/**
 * DCNv2 cross layer {@code x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l}.
 *
 * <p>Input {@code [x0, xl]}, both (B, D); output {@code [x_{l+1}]} (B, D). Full rank: {@code W}
 * is (D, D). Low rank r: {@code W = U Vᵀ} with {@code Vᵀ} stored as {@code v} (r, D) and {@code U}
 * as {@code u} (D, r), computed as {@code U (Vᵀ x_l)} so the cost is {@code 2·B·D·r·2} FLOPs
 * instead of {@code B·D²·2}. Bias b (D) starts at zero, weights Glorot-uniform.
 */
public final class CrossLayer extends AbstractBlock {
    private static final byte VERSION = 1;

    private final int dim;
    private final int rank;
    private final Parameter weight;
    private final Parameter down;
    private final Parameter up;
    private final Parameter bias;

    private CrossLayer(Builder b) {
        super(VERSION);
        dim = b.dim;
        rank = b.rank;
        if (rank == 0) {
            weight = addParameter(weight("weight", new Shape(dim, dim)));
            down = null;
            up = null;
        } else {
            weight = null;
            down = addParameter(weight("v", new Shape(rank, dim)));
            up = addParameter(weight("u", new Shape(dim, rank)));
        }
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(dim))
                .build());
    }

    private static Parameter weight(String name, Shape shape) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optShape(shape)
                .optInitializer(new XavierInitializer())
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int dim() {
        return dim;
    }

    /** 0 for full rank. */
    public int rank() {
        return rank;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x0 = inputs.get(0);
        NDArray xl = inputs.get(1);
        NDArray b = ps.getValue(bias, xl.getDevice(), training);
        NDArray lin;
        if (rank == 0) {
            lin = Linear.linear(xl, ps.getValue(weight, xl.getDevice(), training), b)
                    .head();
        } else {
            NDArray z = Linear.linear(xl, ps.getValue(down, xl.getDevice(), training))
                    .head();
            lin = Linear.linear(z, ps.getValue(up, xl.getDevice(), training), b).head();
        }
        return new NDList(x0.mul(lin).add(xl));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builder: {@code setDim} is required; {@code optRank} defaults to 0 (full rank). */
    public static final class Builder {
        private int dim;
        private int rank;

        public Builder setDim(int dim) {
            this.dim = dim;
            return this;
        }

        public Builder optRank(int rank) {
            this.rank = rank;
            return this;
        }

        public CrossLayer build() {
            if (dim <= 0) {
                throw new IllegalArgumentException("dim = " + dim + " is invalid; allowed: > 0");
            }
            if (rank < 0) {
                throw new IllegalArgumentException(
                        "rank = " + rank + " is invalid; allowed: 0 (full rank) or a positive rank");
            }
            return new CrossLayer(this);
        }
    }
}
