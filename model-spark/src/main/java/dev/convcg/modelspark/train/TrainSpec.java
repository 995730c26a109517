package dev.convcg.modelspark.train;

import com.google.gson.Gson;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import java.io.Serializable;

/**
 * What a training task needs, shipped to the executor as JSON (the model's settings records are plain records, not
 * Serializable). Paths are on the model store, which must be a filesystem path the driver and the training
 * executor both see (local disk in local mode, a shared mount on a cluster).
 *
 * @param warmStartDir artifact to start from, or null
 * @param restoreBest publish the epoch with the best validation loss rather than the last one
 * @param sampledRecallK K of the per-epoch sampled recall on validation conversions
 */
public record TrainSpec(
        String modelJson,
        String schemaJson,
        String trainerJson,
        String versionId,
        String stagingDir,
        String warmStartDir,
        int earlyStoppingPatience,
        double earlyStoppingMinDelta,
        boolean restoreBest,
        int sampledRecallK,
        int sampledConversions,
        int sampledCandidates,
        long trainPositivesPerEpoch)
        implements Serializable {

    private static final Gson GSON = new Gson();

    public static String json(Object o) {
        return GSON.toJson(o);
    }

    public ModelConfig model() {
        return GSON.fromJson(modelJson, ModelConfig.class);
    }

    public FeatureSchema schema() {
        FeatureSchema s = GSON.fromJson(schemaJson, FeatureSchema.class);
        return new FeatureSchema(s.user(), s.pin());
    }

    public TrainerConfig trainer() {
        return GSON.fromJson(trainerJson, TrainerConfig.class);
    }
}
