package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigTest {
    @Test
    void defaultsAreValid() {
        ModelConfig m = ModelConfig.defaults();
        assertEquals(64, m.embeddingDim());
        assertEquals(List.of(256, 128, 64), m.tower().mlpWidths());
        assertEquals(ModelConfig.Arrangement.PARALLEL, m.tower().arrangement());
        assertEquals(ModelConfig.HeadMode.UNIFIED, m.heads().mode());
        assertTrue(m.logQCorrection()
                && m.hardNegatives().enabled()
                && m.advertiserLoss().enabled()
                && m.useExampleWeights()
                && m.reengagement().enabled());
        assertEquals("cpu", TrainerConfig.defaults().devices());
    }

    @Test
    void invalidValuesNameFieldValueAndAllowed() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ModelConfig.TemperatureConfig(2f, 0.01f, 1f));
        assertTrue(
                e.getMessage().startsWith("model.temperature.initial = 2.0 is invalid; allowed: a number in ["),
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new ModelConfig.TowerConfig(ModelConfig.Arrangement.STACKED, -1, 0, List.of(8)));
        assertTrue(e.getMessage().startsWith("model.tower.crossLayers = -1 is invalid"));
        e = assertThrows(
                IllegalArgumentException.class, () -> TrainerConfig.defaults().withDevices("tpu:0", false));
        assertTrue(e.getMessage().contains("trainer.devices = tpu:0"), e.getMessage());
        assertEquals(List.of(0, 1), TrainerConfig.parseDevices("gpu:0, gpu:1"));
    }

    @Test
    void configHashIsDeterministicAndSensitive() {
        String a = ConfigHash.of(ModelConfig.defaults(), FeatureSchema.defaults());
        assertEquals(a, ConfigHash.of(ModelConfig.defaults(), FeatureSchema.defaults()));
        assertEquals(16, a.length());
        assertNotEquals(a, ConfigHash.of(ModelConfig.defaults().withLogQCorrection(false), FeatureSchema.defaults()));
    }
}
