package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.convcg.model.bench.SyntheticBatches;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.train.LossValues;
import dev.convcg.model.train.TwoTowerTrainer;
import org.junit.jupiter.api.Test;

class TrainerTest {
    @Test
    void overfitsOneTinyBatch() {
        SyntheticBatches data = new SyntheticBatches(TestSchemas.small(), 16, 4, 400, 20);
        TrainingBatch batch = data.batch(7, 0);
        try (TwoTowerTrainer t = new TwoTowerTrainer(TestSchemas.smallModel(), TestSchemas.small(),
                TestSchemas.fastTrainer().withLearningRate(1e-2f))) {
            LossValues first = t.trainStep(batch);
            LossValues last = first;
            for (int i = 0; i < 150; i++) {
                last = t.trainStep(batch);
            }
            System.out.println("first " + first + " last " + last);
            assertTrue(last.total() < 0.05 * first.total(), first + " -> " + last);
        }
    }
}
