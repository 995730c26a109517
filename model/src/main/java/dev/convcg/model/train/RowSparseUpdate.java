package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.features.TouchedRows;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Row-sparse ("lazy") Adam for the embedding tables: a step gathers the rows its batch reads into fresh compact leaf
 * copies, the forward and backward run on those, and only those rows get moments and an update. The full tables never
 * enter the autograd graph. Dense layers are updated as usual. Single-device only.
 */
final class RowSparseUpdate {
    private static final Logger LOG = LoggerFactory.getLogger(RowSparseUpdate.class);

    private final TwoTowerBlock block;
    private final Device device;
    private final FeatureSchema schema;
    private final StatefulAdam optimizer;
    private final TouchedRows touched;

    /**
     * The row-sparse update when {@code sparseEmbeddingUpdates} is on and one device trains (tables detached), else
     * null: dense updates (with a warning when sparse ones were asked for on several devices).
     */
    static RowSparseUpdate when(
            TrainerConfig config, TwoTowerBlock block, Device[] devices, FeatureSchema schema, StatefulAdam optimizer) {
        if (!config.sparseEmbeddingUpdates()) {
            return null;
        }
        if (devices.length > 1) {
            LOG.warn(
                    "sparseEmbeddingUpdates is single-device only; {} devices train the embedding tables densely",
                    devices.length);
            return null;
        }
        RowSparseUpdate sparse = new RowSparseUpdate(block, devices[0], schema, optimizer);
        sparse.detachTables();
        return sparse;
    }

    RowSparseUpdate(TwoTowerBlock block, Device device, FeatureSchema schema, StatefulAdam optimizer) {
        this.block = block;
        this.device = device;
        this.schema = schema;
        this.optimizer = optimizer;
        this.touched = TouchedRows.of(schema);
    }

    /** Inputs holding compact slots, and per table the touched rows and their leaf copy. */
    record Inputs(NDList inputs, Map<String, NDArray> compact, Map<String, NDArray> rows) {}

    /** The full tables leave the autograd graph (again after parameters are reloaded). */
    void detachTables() {
        for (Parameter p : block.tables().parameters().values()) {
            p.getArray().setRequiresGradient(false);
        }
    }

    /** The batch's tensors, reading the compact copies of the rows it touches. */
    Inputs inputs(NDManager sm, TrainingBatch batch, FeatureBatch pins) {
        touched.reset();
        NDList in = FeatureTensors.tensorize(sm, schema.user(), batch.user(), touched);
        in.addAll(FeatureTensors.tensorize(sm, schema.pin(), pins, touched));
        Map<String, NDArray> compact = new LinkedHashMap<>();
        Map<String, NDArray> rows = new LinkedHashMap<>();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, Parameter> e : block.tables().parameters().entrySet()) {
                NDArray r = sm.create(touched.rowsWithPadding(e.getKey()));
                NDArray c = Embedding.embedding(r, e.getValue().getArray(), SparseFormat.DENSE)
                        .singletonOrThrow();
                c.setRequiresGradient(true); // a fresh leaf: the backward stops here
                rows.put(e.getKey(), r);
                compact.put(e.getKey(), c);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return new Inputs(in, compact, rows);
    }

    /** Global-norm clip over the dense gradients and the compact table gradients; returns the norm. */
    double clip(Inputs in, float maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (Parameter p : denseParameters()) {
                grads.add(p.getArray().getGradient());
            }
            for (NDArray c : in.compact().values()) {
                grads.add(c.getGradient());
            }
            return Gradients.clipToNorm(grads, maxNorm);
        } finally {
            grads.forEach(NDArray::close);
        }
    }

    /** Adam on the dense parameters, and on the touched rows of each table. */
    void update(ParameterStore ps, Inputs in) {
        for (Parameter p : denseParameters()) {
            NDArray w = ps.getValue(p, device, true);
            try (NDArray g = w.getGradient()) {
                optimizer.update(p.getId(), w, g);
            }
        }
        for (Map.Entry<String, Parameter> e : block.tables().parameters().entrySet()) {
            NDArray c = in.compact().get(e.getKey());
            try (NDArray g = c.getGradient()) {
                optimizer.updateRows(
                        e.getValue().getId(), e.getValue().getArray(), in.rows().get(e.getKey()), c, g);
            }
        }
    }

    /** Parameters updated densely: everything but the tables. */
    private List<Parameter> denseParameters() {
        List<Parameter> out = new ArrayList<>();
        Collection<Parameter> tables = block.tables().parameters().values();
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient() && !tables.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }
}
