package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.features.Pooling;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns one tower's input tensors (layout of {@link FeatureTensors}) into the tower input
 * {@code x0 = [e_id… | pool(e_seq)… | numeric… | vector, presence…]} of shape (B, {@link
 * #outputDim()}).
 *
 * <p>Mean pooling: {@code Σ_l m_l e_l / max(1, Σ_l m_l)}. Attention pooling: {@code Σ_l a_l e_l},
 * {@code a = softmax_l(q·e_l/√d + log m_l)} with a learned query q (d) per feature; empty rows
 * pool to zero. Tables live in a shared {@link EmbeddingTables} block that this block reads but does
 * not own; its own parameters are the attention queries.
 */
public final class FeatureEmbeddingBlock extends AbstractBlock {
    private static final byte VERSION = 1;
    private static final float NEG = -1e9f;

    private final List<FeatureSpec> specs;
    private final EmbeddingTables tables;
    private final Map<String, Parameter> queries = new HashMap<>();
    private final int outputDim;

    private FeatureEmbeddingBlock(Builder b) {
        super(VERSION);
        specs = List.copyOf(b.specs);
        tables = Objects.requireNonNull(b.tables, "tables");
        for (FeatureSpec s : specs) {
            if (s.kind() == FeatureKind.ID_SEQUENCE && s.pooling() == Pooling.ATTENTION) {
                queries.put(
                        s.name(),
                        addParameter(Parameter.builder()
                                .setName("query_" + s.name())
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(s.dim(), 1))
                                .optInitializer(new NormalInitializer(0.1f))
                                .build()));
            }
        }
        outputDim = specs.stream().mapToInt(FeatureSpec::outputWidth).sum();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int outputDim() {
        return outputDim;
    }

    public int inputArity() {
        return FeatureTensors.arity(specs);
    }

    public List<FeatureSpec> specs() {
        return specs;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList parts = new NDList(specs.size() + 2);
        int i = 0;
        for (FeatureSpec s : specs) {
            switch (s.kind()) {
                case ID -> parts.add(tables.lookup(ps, s.tableName(), inputs.get(i++), training));
                case ID_SEQUENCE -> {
                    NDArray rows = inputs.get(i++);
                    NDArray mask = inputs.get(i++);
                    NDArray e = tables.lookup(ps, s.tableName(), rows, training); // (B, L, d)
                    parts.add(
                            s.pooling() == Pooling.MEAN ? meanPool(e, mask) : attentionPool(ps, s, e, mask, training));
                }
                case NUMERIC -> parts.add(inputs.get(i++));
                case VECTOR -> {
                    parts.add(inputs.get(i++));
                    parts.add(inputs.get(i++));
                }
            }
        }
        return new NDList(NDArrays.concat(parts, 1));
    }

    private static NDArray meanPool(NDArray e, NDArray mask) {
        NDArray sum = mask.expandDims(1).matMul(e).squeeze(1); // (B, d)
        NDArray sizes = mask.sum(new int[] {1}, true);
        NDArray count = sizes.maximum(Scalars.of(sizes, 1)); // (B, 1)
        return sum.div(count);
    }

    private NDArray attentionPool(ParameterStore ps, FeatureSpec s, NDArray e, NDArray mask, boolean training) {
        NDArray q = ps.getValue(queries.get(s.name()), e.getDevice(), training); // (d, 1)
        NDArray scores = e.matMul(q).squeeze(2).div(Scalars.of(e, Math.sqrt(s.dim()))); // (B, L)
        NDArray masked = scores.add(mask.sub(Scalars.of(mask, 1)).mul(Scalars.of(mask, -NEG)));
        NDArray a = masked.softmax(1).mul(mask); // empty rows → 0
        return a.expandDims(1).matMul(e).squeeze(1);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), outputDim)};
    }

    /** Builder: {@code setSpecs} and {@code setTables} are required. */
    public static final class Builder {
        private List<FeatureSpec> specs;
        private EmbeddingTables tables;

        public Builder setSpecs(List<FeatureSpec> specs) {
            this.specs = specs;
            return this;
        }

        public Builder setTables(EmbeddingTables tables) {
            this.tables = tables;
            return this;
        }

        public FeatureEmbeddingBlock build() {
            if (specs == null || specs.isEmpty()) {
                throw new IllegalArgumentException(
                        "specs = " + specs + " is invalid; allowed: a non-empty feature list");
            }
            return new FeatureEmbeddingBlock(this);
        }
    }
}
