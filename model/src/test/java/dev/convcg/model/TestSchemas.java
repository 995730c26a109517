package dev.convcg.model;

import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.Pooling;
import java.util.List;

/** Small schema and configs so tests run in seconds: the shipped model ({@code defaults()}) at a small size. */
public final class TestSchemas {
    private TestSchemas() {}

    public static FeatureSchema small() {
        FeatureSpec pinId = FeatureSpec.id("pin_id", 512, 8);
        return new FeatureSchema(
                List.of(
                        FeatureSpec.id("user_id", 512, 8),
                        FeatureSpec.code("hour_of_day", 24, 4),
                        FeatureSpec.sequenceSharing("user_engaged_pins", pinId, 5, Pooling.MEAN),
                        FeatureSpec.sequenceSharing("user_converted_pins", pinId, 3, Pooling.MEAN),
                        FeatureSpec.sequence("query_tokens", 64, 4, 3, Pooling.ATTENTION),
                        FeatureSpec.numeric("user_clicks_28d", true)),
                List.of(
                        pinId,
                        FeatureSpec.id("advertiser_id", 64, 4),
                        FeatureSpec.numeric("pin_ctr", false),
                        FeatureSpec.vector("pin_content_embedding", 4)));
    }

    public static ModelConfig smallModel() {
        return ModelConfig.defaults()
                .withEmbeddingDim(16)
                .withTower(new ModelConfig.TowerConfig(ModelConfig.Arrangement.PARALLEL, 2, 0, List.of(32, 32, 16)));
    }

    public static TrainerConfig fastTrainer() {
        return TrainerConfig.defaults()
                .withSchedule(TrainerConfig.ScheduleConfig.constant())
                .withLearningRate(3e-3f)
                .withBatchSize(32)
                .withLogEveryNSteps(1000)
                .withIntraOpThreads(1);
    }
}
