package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.convcg.model.config.ModelConfig.Arrangement;
import java.util.List;

/**
 * One tower (user/context or pin): feature embedding, then a DCNv2 cross network and an MLP in one
 * of two arrangements, then a linear projection to the embedding dimension E.
 *
 * <ul>
 *   <li>PARALLEL: {@code h = P [cross(x0) | mlp(x0)] + c} — projection input D0 + w_K
 *   <li>STACKED: {@code h = P mlp(cross(x0)) + c} — projection input w_K
 * </ul>
 *
 * Input: the feature tensors of the tower; output {@code [h]} of shape (B, E), not normalised.
 */
public final class Tower extends AbstractBlock {
    private static final byte VERSION = 1;

    private final FeatureEmbeddingBlock features;
    private final CrossNetwork cross;
    private final Mlp mlp;
    private final Linear projection;
    private final Arrangement arrangement;
    private final int inputDim;
    private final int projectionInput;
    private final int outputDim;

    private Tower(Builder b) {
        super(VERSION);
        arrangement = b.arrangement;
        inputDim = b.features.outputDim();
        outputDim = b.outputDim;
        features = addChildBlock("features", b.features);
        cross = addChildBlock(
                "cross",
                CrossNetwork.builder()
                        .setDim(inputDim)
                        .setLayers(b.crossLayers)
                        .optRank(b.crossRank)
                        .build());
        mlp = addChildBlock(
                "mlp",
                Mlp.builder().setInputDim(inputDim).setWidths(b.mlpWidths).build());
        projectionInput = arrangement == Arrangement.PARALLEL ? inputDim + mlp.outputDim() : mlp.outputDim();
        projection =
                addChildBlock("projection", Linear.builder().setUnits(outputDim).build());
    }

    public static Builder builder() {
        return new Builder();
    }

    public int inputDim() {
        return inputDim;
    }

    public int outputDim() {
        return outputDim;
    }

    public Arrangement arrangement() {
        return arrangement;
    }

    public FeatureEmbeddingBlock features() {
        return features;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x0 = features.forward(ps, inputs, training).head();
        NDArray c = cross.forward(ps, new NDList(x0), training).head();
        NDArray z;
        if (arrangement == Arrangement.PARALLEL) {
            NDArray m = mlp.forward(ps, new NDList(x0), training).head();
            z = c.concat(m, 1);
        } else {
            z = mlp.forward(ps, new NDList(c), training).head();
        }
        return projection.forward(ps, new NDList(z), training);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        features.initialize(manager, dataType, shapes);
        cross.initialize(manager, dataType, new Shape(1, inputDim));
        mlp.initialize(manager, dataType, new Shape(1, inputDim));
        projection.initialize(manager, dataType, new Shape(1, projectionInput));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), outputDim)};
    }

    /** Builder: features, arrangement, cross layers, MLP widths and output dim are required. */
    public static final class Builder {
        private FeatureEmbeddingBlock features;
        private Arrangement arrangement;
        private int crossLayers = -1;
        private int crossRank;
        private List<Integer> mlpWidths;
        private int outputDim;

        public Builder setFeatures(FeatureEmbeddingBlock features) {
            this.features = features;
            return this;
        }

        public Builder setArrangement(Arrangement arrangement) {
            this.arrangement = arrangement;
            return this;
        }

        public Builder setCrossLayers(int crossLayers) {
            this.crossLayers = crossLayers;
            return this;
        }

        /** 0 = full rank (default). */
        public Builder optCrossRank(int crossRank) {
            this.crossRank = crossRank;
            return this;
        }

        public Builder setMlpWidths(List<Integer> mlpWidths) {
            this.mlpWidths = mlpWidths;
            return this;
        }

        public Builder setOutputDim(int outputDim) {
            this.outputDim = outputDim;
            return this;
        }

        public Tower build() {
            if (features == null || arrangement == null || mlpWidths == null || outputDim <= 0 || crossLayers < 0) {
                throw new IllegalArgumentException("tower builder is incomplete: features="
                        + (features != null) + ", arrangement=" + arrangement + ", crossLayers="
                        + crossLayers + ", mlpWidths=" + mlpWidths + ", outputDim=" + outputDim
                        + "; all are required (crossLayers >= 0, outputDim > 0)");
            }
            return new Tower(this);
        }
    }
}
