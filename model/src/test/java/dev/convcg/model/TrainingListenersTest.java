package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import dev.convcg.model.bench.SyntheticBatches;
import dev.convcg.model.train.EarlyStopping;
import dev.convcg.model.train.EpochMetrics;
import dev.convcg.model.train.EpochSource;
import dev.convcg.model.train.TrainingMetrics;
import dev.convcg.model.train.TwoTowerTrainer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The trainer's side concerns as DJL listeners, observed through a real fit. */
class TrainingListenersTest {
    private static final SyntheticBatches DATA = new SyntheticBatches(TestSchemas.small(), 16, 4, 400, 20);

    @Test
    void earlyStoppingListenerEndsTheFitAfterTheEpochItStopsIn() {
        List<EpochMetrics> seen = new ArrayList<>();
        List<EpochMetrics> out;
        try (TwoTowerTrainer t = new TwoTowerTrainer(
                TestSchemas.smallModel(),
                TestSchemas.small(),
                TestSchemas.fastTrainer().withEpochs(6),
                List.of(new EarlyStopping(2, 1e9)))) {
            out = t.fit(EpochSource.of(DATA.batches(2, 3)), EpochSource.of(DATA.batches(3, 1)), seen::add);
        }
        assertEquals(3, out.size(), "the first epoch sets the best loss, two more without an improvement of 1e9 stop");
        assertEquals(out, seen, "the epoch callback still sees the epoch the fit stopped in");
    }

    @Test
    void etaCountsDownToZeroAtTheLastStep() {
        List<Double> etas = new ArrayList<>();
        TrainingListenerAdapter probe = new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                etas.add(TrainingMetrics.latest(trainer.getMetrics(), TrainingMetrics.M_ETA_SECONDS));
            }
        };
        try (TwoTowerTrainer t = new TwoTowerTrainer(
                TestSchemas.smallModel(),
                TestSchemas.small(),
                TestSchemas.fastTrainer().withEpochs(2),
                List.of(probe))) {
            t.fit(EpochSource.of(DATA.batches(4, 3)), null);
        }
        assertEquals(6, etas.size());
        assertEquals(0.0, etas.get(5), 0.0, "nothing left after the last step");
        for (int i = 0; i < 5; i++) {
            assertTrue(etas.get(i) > 0, "step " + (i + 1) + " of 6 has time left: " + etas);
        }
        assertTrue(etas.get(0) > etas.get(4), "counts down: " + etas);
    }
}
