package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.model.train.EarlyStopping;
import org.junit.jupiter.api.Test;

class EarlyStoppingTest {
    @Test
    void stopsAfterPatienceEpochsWithoutAnImprovementOfMinDelta() {
        EarlyStopping s = new EarlyStopping(2, 0.01);
        assertTrue(s.shouldContinue(1.00));
        assertTrue(s.shouldContinue(0.95), "improved");
        assertTrue(s.shouldContinue(0.945), "less than minDelta better: first bad epoch");
        assertTrue(s.shouldContinue(0.90), "improved: the count starts again");
        assertTrue(s.shouldContinue(0.91));
        assertFalse(s.shouldContinue(0.92), "second epoch in a row without improvement");
    }

    @Test
    void patienceZeroNeverStops() {
        EarlyStopping s = new EarlyStopping(0, 0);
        for (int i = 0; i < 20; i++) {
            assertTrue(s.shouldContinue(1.0 + i));
        }
    }
}
