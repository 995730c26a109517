package dev.convcg.jobs;

import dev.convcg.jobs.config.PipelineConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small configurations for stage tests, writing under a temporary storage root. */
public final class TestConfigs {
    private TestConfigs() {}

    /** A tiny simulated world stored under {@code root}, with extra {@code key, value} overrides. */
    public static PipelineConfig tiny(Path root, String... keyValues) {
        return PipelineConfig.load(null, tinySettings(root, keyValues));
    }

    /** The {@code --set} overrides of {@link #tiny}, for a stage launched as its own process. */
    public static Map<String, String> tinySettings(Path root, String... keyValues) {
        Map<String, String> sets = new LinkedHashMap<>();
        sets.put("storage.root", "\"" + root.toAbsolutePath() + "\"");
        sets.put("simulate.days", "6");
        sets.put("simulate.users", "300");
        sets.put("simulate.pins", "400");
        sets.put("simulate.advertisers", "20");
        sets.put("simulate.categories", "8");
        sets.put("simulate.topic-dim", "8");
        sets.put("simulate.impressions-per-user-day", "10");
        sets.put("simulate.partitions", "2");
        // Stage tests train one model; the end-to-end test turns the engagement retriever back on.
        sets.put("engagement-retriever.enabled", "false");
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            sets.put(keyValues[i], keyValues[i + 1]);
        }
        return sets;
    }
}
