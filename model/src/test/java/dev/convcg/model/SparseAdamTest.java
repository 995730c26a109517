package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.tracker.Tracker;
import dev.convcg.model.bench.SyntheticBatches;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.features.Pooling;
import dev.convcg.model.features.TouchedRows;
import dev.convcg.model.train.StatefulAdam;
import dev.convcg.model.train.TwoTowerTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Row-sparse (lazy) Adam for embedding tables: equality with dense Adam, untouched rows, state. */
class SparseAdamTest {
    private static final int ROWS = 10;
    private static final int DIM = 4;

    private static StatefulAdam adam(boolean decoupled) {
        return StatefulAdam.builder()
                .setLearningRate(Tracker.fixed(0.01f))
                .optWeightDecays(0.1f)
                .optDecoupled(decoupled)
                .build();
    }

    private static float[] randomGrad(Random r, int rows) {
        float[] g = new float[rows * DIM];
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        return g;
    }

    /** One lazy step on {@code rows} (without padding) with the gradient rows of {@code grad}. */
    private static void sparseStep(NDManager m, StatefulAdam opt, NDArray table, long[] rows, float[] grad) {
        long[] withPad = new long[rows.length + 1];
        System.arraycopy(rows, 0, withPad, 1, rows.length);
        float[] g = new float[withPad.length * DIM]; // padding slot: zero gradient
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(grad, (int) rows[i] * DIM, g, (i + 1) * DIM, DIM);
        }
        NDArray r = m.create(withPad);
        NDArray compact = table.get(new NDIndex("{}", r));
        compact.setRequiresGradient(true);
        opt.updateRows("w", table, r, compact, m.create(g, new Shape(withPad.length, DIM)));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void lazyAdamEqualsDenseAdamWhenEveryRowIsTouched(boolean decoupled) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray dense = m.randomNormal(new Shape(ROWS, DIM));
            NDArray sparse = dense.duplicate();
            dense.setRequiresGradient(true);
            StatefulAdam d = adam(decoupled);
            StatefulAdam s = adam(decoupled);
            Random r = new Random(3);
            long[] allShuffled = {7, 2, 9, 0, 4, 1, 8, 3, 6, 5};
            for (int step = 1; step <= 4; step++) {
                float[] g = randomGrad(r, ROWS);
                d.setStep(step);
                s.setStep(step);
                d.update("w", dense, m.create(g, new Shape(ROWS, DIM)));
                sparseStep(m, s, sparse, allShuffled, g);
                assertArrayEquals(dense.toFloatArray(), sparse.toFloatArray(), 1e-6f, "step " + step);
            }
            try (NDList ds = d.exportState();
                    NDList ss = s.exportState()) {
                assertArrayEquals(ds.get("m:w").toFloatArray(), ss.get("m:w").toFloatArray(), 1e-6f);
                assertArrayEquals(ds.get("v:w").toFloatArray(), ss.get("v:w").toFloatArray(), 1e-6f);
            }
        }
    }

    @Test
    void untouchedRowsKeepWeightsAndMoments() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray table = m.randomNormal(new Shape(ROWS, DIM));
            StatefulAdam s = adam(true);
            Random r = new Random(5);
            s.setStep(1);
            sparseStep(m, s, table, new long[] {1, 3, 5, 7, 9}, randomGrad(r, ROWS));
            float[] w1 = table.toFloatArray();
            float[] m1;
            float[] v1;
            try (NDList st = s.exportState()) {
                m1 = st.get("m:w").toFloatArray();
                v1 = st.get("v:w").toFloatArray();
            }
            s.setStep(2);
            sparseStep(m, s, table, new long[] {3, 0}, randomGrad(r, ROWS));
            float[] w2 = table.toFloatArray();
            try (NDList st = s.exportState()) {
                float[] m2 = st.get("m:w").toFloatArray();
                float[] v2 = st.get("v:w").toFloatArray();
                for (int row = 0; row < ROWS; row++) {
                    boolean touched = row == 3 || row == 0;
                    for (int j = 0; j < DIM; j++) {
                        int k = row * DIM + j;
                        if (touched) {
                            assertTrue(w2[k] != w1[k] && m2[k] != m1[k], "row " + row);
                        } else {
                            assertEquals(w1[k], w2[k], 0f, "weight row " + row);
                            assertEquals(m1[k], m2[k], 0f, "m row " + row);
                            assertEquals(v1[k], v2[k], 0f, "v row " + row);
                        }
                    }
                }
            }
        }
    }

    @Test
    void sparseMomentsSurviveACheckpointRoundTrip() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(ROWS, DIM));
            StatefulAdam first = adam(true);
            Random r = new Random(11);
            for (int step = 1; step <= 2; step++) {
                first.setStep(step);
                sparseStep(m, first, a, new long[] {2, 4, 6}, randomGrad(r, ROWS));
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (NDList st = first.exportState()) {
                st.encode(bytes);
            }
            StatefulAdam second = adam(true);
            second.importState(NDList.decode(m, new ByteArrayInputStream(bytes.toByteArray())), m);
            NDArray b = a.duplicate();
            float[] g = randomGrad(r, ROWS);
            first.setStep(3);
            second.setStep(3);
            sparseStep(m, first, a, new long[] {4, 8}, g);
            sparseStep(m, second, b, new long[] {4, 8}, g);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
            try (NDList s1 = first.exportState();
                    NDList s2 = second.exportState()) {
                assertArrayEquals(s1.get("m:w").toFloatArray(), s2.get("m:w").toFloatArray(), 0f);
                assertArrayEquals(s1.get("v:w").toFloatArray(), s2.get("v:w").toFloatArray(), 0f);
            }
        }
    }

    /** Tables so small that a 64-row batch touches every row. */
    private static FeatureSchema tinyTables() {
        FeatureSpec pinId = FeatureSpec.id("pin_id", 4, 4);
        return new FeatureSchema(
                List.of(
                        FeatureSpec.id("user_id", 4, 4),
                        FeatureSpec.sequenceSharing("user_engaged_pins", pinId, 3, Pooling.MEAN),
                        FeatureSpec.sequenceSharing("user_converted_pins", pinId, 3, Pooling.MEAN),
                        FeatureSpec.sequence("query_tokens", 4, 4, 3, Pooling.ATTENTION),
                        FeatureSpec.numeric("user_clicks_28d", true)),
                List.of(pinId, FeatureSpec.id("advertiser_id", 4, 4), FeatureSpec.numeric("pin_ctr", false)));
    }

    @Test
    void sparseTrainerEqualsDenseTrainerWhenEveryRowIsTouchedEveryStep() {
        FeatureSchema schema = tinyTables();
        SyntheticBatches data = new SyntheticBatches(schema, 64, 4, 400, 20);
        List<TrainingBatch> batches = data.batches(2, 4);
        for (TrainingBatch b : batches) { // precondition: every row of every table is read
            TouchedRows t = TouchedRows.of(schema);
            try (NDManager m = NDManager.newBaseManager()) {
                FeatureTensors.tensorize(m, schema.user(), b.user(), t);
                FeatureTensors.tensorize(m, schema.pin(), b.pin(), t);
            }
            for (String name : t.tableNames()) {
                assertEquals(4, t.touched(name), name);
            }
        }
        TrainerConfig base = TestSchemas.fastTrainer().withBatchSize(64);
        float[][] dense = train(schema, base.withSparseEmbeddingUpdates(false), batches);
        float[][] sparse = train(schema, base.withSparseEmbeddingUpdates(true), batches);
        for (int i = 0; i < dense.length; i++) {
            assertArrayEquals(dense[i], sparse[i], 1e-6f, "parameter " + i);
        }
    }

    private static float[][] train(FeatureSchema schema, TrainerConfig cfg, List<TrainingBatch> batches) {
        try (TwoTowerTrainer t = new TwoTowerTrainer(TestSchemas.smallModel(), schema, cfg)) {
            assertEquals(cfg.sparseEmbeddingUpdates(), t.sparseEmbeddingUpdates());
            double[] losses = new double[batches.size()];
            for (int i = 0; i < batches.size(); i++) {
                losses[i] = t.trainStep(batches.get(i)).total();
            }
            List<Parameter> ps = t.block().getParameters().values();
            float[][] out = new float[ps.size() + 1][];
            for (int i = 0; i < ps.size(); i++) {
                out[i] = ps.get(i).getArray().toFloatArray();
            }
            out[ps.size()] = new float[losses.length];
            for (int i = 0; i < losses.length; i++) {
                out[ps.size()][i] = (float) losses[i];
            }
            return out;
        }
    }

    @Test
    void sparseTrainerLeavesRowsOutsideTheBatchUntouched() {
        SyntheticBatches data = new SyntheticBatches(TestSchemas.small(), 16, 4, 400, 20);
        TrainingBatch batch = data.batch(9, 0);
        FeatureSchema schema = TestSchemas.small();
        TouchedRows touched = TouchedRows.of(schema);
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureTensors.tensorize(m, schema.user(), batch.user(), touched); // user_id
        }
        try (TwoTowerTrainer t = new TwoTowerTrainer(TestSchemas.smallModel(), schema, TestSchemas.fastTrainer())) {
            Map<String, Parameter> tables = t.block().tables().parameters();
            float[] before = tables.get("user_id").getArray().toFloatArray();
            t.trainStep(batch);
            float[] after = tables.get("user_id").getArray().toFloatArray();
            Set<Long> read = new HashSet<>();
            long[] rows = touched.rowsWithPadding("user_id");
            for (int i = 1; i < rows.length; i++) {
                read.add(rows[i]);
            }
            int changed = 0;
            for (int row = 0; row < 512; row++) {
                boolean same = true;
                for (int j = 0; j < 8; j++) {
                    same &= before[row * 8 + j] == after[row * 8 + j];
                }
                if (read.contains((long) row)) {
                    assertFalse(same, "touched row " + row + " must move");
                    changed++;
                } else {
                    assertTrue(same, "untouched row " + row + " must not move");
                }
            }
            assertTrue(changed > 0 && changed < 512, "changed " + changed);
        }
    }
}
