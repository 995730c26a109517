package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dev.convcg.model.features.FeatureSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All hashed-id embedding tables of the model, one {@code (buckets, dim)} parameter per table,
 * owned in one place so a table can be read by features of both towers (the user's pin
 * sequences share {@code pin_id}) and is still saved and updated exactly once.
 *
 * <p>{@code lookup(table, rows) = T[rows]}: int64 rows of any shape S give float32 {@code S × dim}.
 * Read this way, gradients are dense (the whole table). For a training step the trainer can
 * instead install compact tables ({@link #useCompact}): per table a small leaf {@code C = T[R]}
 * holding only the rows R the batch touches (see {@code TouchedRows}); the inputs then hold
 * indices into C, the backward produces a gradient the size of C, and the optimizer writes the
 * rows back ({@code StatefulAdam#updateRows}). Initialised N(0, 0.05²).
 */
public final class EmbeddingTables extends AbstractBlock {
    private static final byte VERSION = 1;

    private final Map<String, Parameter> tables = new LinkedHashMap<>();
    private final Map<String, Integer> dims = new LinkedHashMap<>();
    private Map<String, NDArray> compact;

    /** @param owners table name → owning feature spec (gives buckets and dim) */
    public EmbeddingTables(Map<String, FeatureSpec> owners) {
        super(VERSION);
        owners.forEach((name, spec) -> {
            tables.put(
                    name,
                    addParameter(Parameter.builder()
                            .setName(name)
                            .setType(Parameter.Type.WEIGHT)
                            .optShape(new Shape(spec.buckets(), spec.dim()))
                            .optInitializer(new NormalInitializer(0.05f))
                            .build()));
            dims.put(name, spec.dim());
        });
    }

    /** Rows of {@code table} gathered at {@code rows} (int64), on the rows' device. */
    public NDArray lookup(ParameterStore ps, String table, NDArray rows, boolean training) {
        Parameter p = tables.get(table);
        if (p == null) {
            throw new IllegalArgumentException("no embedding table '" + table + "'; tables: " + tables.keySet());
        }
        if (training && compact != null) {
            NDArray c = compact.get(table);
            if (c == null) {
                throw new IllegalStateException("compact tables are installed but lack '" + table + "'");
            }
            return Embedding.embedding(rows, c.toDevice(rows.getDevice(), false), SparseFormat.DENSE)
                    .singletonOrThrow();
        }
        NDArray weight = ps.getValue(p, rows.getDevice(), training);
        return Embedding.embedding(rows, weight, SparseFormat.DENSE).singletonOrThrow();
    }

    /** Table name → its parameter, in table order. */
    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(tables);
    }

    /**
     * Installs compact per-step tables (name → leaf of touched rows, slot 0 = padding) that
     * training-mode lookups read instead of the full tables, whose rows inputs then index; null
     * removes them. Evaluation lookups ({@code training = false}) always read the full tables.
     */
    public void useCompact(Map<String, NDArray> compactTables) {
        this.compact = compactTables;
    }

    public List<String> tableNames() {
        return new ArrayList<>(tables.keySet());
    }

    /** Looks up one rows tensor per table, in table order. */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = new NDList(inputs.size());
        int i = 0;
        for (String name : tables.keySet()) {
            out.add(lookup(ps, name, inputs.get(i++), training));
        }
        return out;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] out = new Shape[inputShapes.length];
        int i = 0;
        for (int d : dims.values()) {
            out[i] = inputShapes[i].add(d);
            i++;
        }
        return out;
    }
}
