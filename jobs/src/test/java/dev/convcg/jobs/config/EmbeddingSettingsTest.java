package dev.convcg.jobs.config;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.embeddings.SmoothingSettings;
import dev.convcg.core.schema.Surface;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddingSettingsTest {
    private static String error(Map<String, String> sets) {
        return assertThrows(InvalidConfigException.class, () -> PipelineConfig.load(null, sets))
                .getMessage();
    }

    @Test
    void defaultsBindAndBadValuesNameKeyValueAndAllowed() {
        PipelineConfig c = PipelineConfig.load(null, Map.of("storage.root", "\"/data/x/\""));
        EmbeddingSettings.InferEmbeddings s = c.inferEmbeddings();
        assertEquals(SmoothingSettings.defaults(), s.smoothing());
        assertEquals("/data/x/embeddings", s.outputRoot());
        assertEquals(List.of(Surface.HOME_FEED, Surface.RELATED_PINS, Surface.SEARCH), s.userSurfaces());
        assertFalse(s.reset());
        assertTrue(c.forgetUsers().userIds().isEmpty());

        assertEquals(
                "convcg.infer-embeddings.alpha = 1.5 is invalid; allowed: a number in [0, 1) (the weight of the"
                        + " previous embedding; 1 would never update)",
                error(Map.of("infer-embeddings.alpha", "1.5")));
        assertTrue(error(Map.of("infer-embeddings.smoothing", "EMA"))
                .startsWith(
                        "convcg.infer-embeddings.smoothing = \"EMA\": expected one of [ACCUMULATE, MOVING_AVERAGE"));
        assertTrue(error(Map.of("infer-embeddings.user-context.surfaces", "[TOP_STORIES]"))
                .contains("expected any of [HOME_FEED, RELATED_PINS, SEARCH]"));
        assertTrue(error(Map.of("infer-embeddings.device", "tpu")).contains("expected cpu, gpu or auto"));
        assertTrue(error(Map.of("forget-users.user-ids", "[x1]")).contains("expected integer ids"));
        assertTrue(error(Map.of("infer-embeddings.retention-days", "0")).contains("a positive integer"));
    }
}
