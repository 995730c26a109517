package dev.convcg.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * reference.conf is the one source of every default; the model module's {@code defaults()} (what its own tests and
 * benchmarks build) must be the same values, so they exercise the model the pipeline ships.
 */
class ReferenceDefaultsTest {
    private static final PipelineConfig REFERENCE = PipelineConfig.load(null, Map.of());

    @Test
    void theModelsDefaultsAreTheReferenceModel() {
        assertEquals(REFERENCE.model(), ModelConfig.defaults());
    }

    @Test
    void theTrainersDefaultsAreTheReferenceTrainer() {
        assertEquals(REFERENCE.train().trainer(), TrainerConfig.defaults());
    }
}
