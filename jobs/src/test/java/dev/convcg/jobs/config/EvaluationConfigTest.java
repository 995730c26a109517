package dev.convcg.jobs.config;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.EvaluationSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvaluationConfigTest {
    @Test
    void referenceDefaultsBindToTheSettingsDefaults() {
        assertEquals(
                EvaluationSettings.defaults(),
                PipelineConfig.load(null, Map.of()).evaluate());
        EvaluationSettings s = PipelineConfig.load(null, Map.of("evaluate.ks", "[50]", "evaluate.baselines", "[als]"))
                .evaluate();
        assertEquals(List.of(50), s.ks());
        assertEquals(1000, s.maxK());
        assertEquals(Set.of(EvaluationSettings.Baseline.ALS), s.baselines());
    }

    @Test
    void badValuesNameTheKey() {
        assertMessage(
                Map.of("evaluate.ks", "[0, 100]"),
                "convcg.evaluate.ks = [0, 100]: every cut-off must be a positive integer");
        assertMessage(Map.of("evaluate.als.alpha", "0"), "convcg.evaluate.als.alpha = 0.0: must be a number > 0");
        assertMessage(
                Map.of("evaluate.baselines", "[random]"),
                "convcg.evaluate.baselines contains \"random\": expected any of [popularity, history, history_popularity, history_two_tower, als, oracle, engagement_only]");
        assertMessage(
                Map.of("evaluate.query-block-size", "0"),
                "convcg.evaluate.query-block-size = 0: expected a positive integer");
    }

    private static void assertMessage(Map<String, String> sets, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(null, sets));
        assertEquals(expected, e.getMessage());
    }
}
