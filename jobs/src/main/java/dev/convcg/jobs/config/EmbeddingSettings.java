package dev.convcg.jobs.config;

import dev.convcg.core.embeddings.SmoothingSettings;
import dev.convcg.core.schema.Surface;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.modelspark.inference.EmbeddingInference.EncoderOptions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/** Bound settings of the {@code infer-embeddings} and {@code forget-users} stages (reference.conf documents each key). */
public final class EmbeddingSettings {
    private EmbeddingSettings() {}

    /**
     * @param modelVersion   version to serve; empty: LATEST
     * @param smoothing      smoothing mode, alpha and retention window
     * @param batchSize      rows per inference batch
     * @param reset          discard the published history instead of refusing another lineage
     * @param outputRoot     root of the published tables
     * @param device         cpu, gpu or auto
     * @param intraOpThreads libtorch threads per executor JVM (0: libtorch's default)
     * @param partitions     partitions of the inference input (0: at least the default parallelism)
     * @param userSurfaces   surfaces each user is embedded for
     * @param userHourOfDay  hour of day fed to the user tower
     */
    public record InferEmbeddings(
            String modelVersion,
            SmoothingSettings smoothing,
            int batchSize,
            boolean reset,
            String outputRoot,
            String device,
            int intraOpThreads,
            int partitions,
            List<Surface> userSurfaces,
            int userHourOfDay) {
        public InferEmbeddings {
            userSurfaces = List.copyOf(userSurfaces);
        }

        /** How batch inference encodes, as model-spark takes it. */
        public EncoderOptions encoder() {
            return new EncoderOptions(batchSize, device, intraOpThreads, partitions);
        }
    }

    /**
     * @param userIds     ids given inline
     * @param userIdsFile file with one id per line, or empty
     * @param tables      Delta tables to delete the users from
     * @param vacuum      vacuum rewritten Delta tables with zero retention
     */
    public record ForgetUsers(List<Long> userIds, String userIdsFile, List<String> tables, boolean vacuum) {
        public ForgetUsers {
            userIds = List.copyOf(userIds);
            tables = List.copyOf(tables);
        }
    }

    static InferEmbeddings inferEmbeddings(Settings s, String storageRoot) {
        SmoothingSettings.Mode mode = s.enumValue("smoothing", SmoothingSettings.Mode.class);
        double alpha = s.number("alpha");
        int retention = s.positiveInt("retention-days");
        SmoothingSettings smoothing = s.bind(() -> new SmoothingSettings(mode, alpha, retention));
        String device = s.string("device").toLowerCase(Locale.ROOT);
        if (!List.of("cpu", "gpu", "auto").contains(device)) {
            throw new InvalidConfigException(s.key("device") + " = \"" + device + "\": expected cpu, gpu or auto");
        }
        Settings ctx = s.section("user-context");
        List<Surface> surfaces = new ArrayList<>();
        for (String v : ctx.strings("surfaces")) {
            try {
                surfaces.add(Surface.valueOf(v));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(
                        ctx.key("surfaces") + " contains \"" + v + "\": expected any of " + List.of(Surface.values()));
            }
        }
        if (surfaces.isEmpty() || new LinkedHashSet<>(surfaces).size() != surfaces.size()) {
            throw new InvalidConfigException(
                    ctx.key("surfaces") + " = " + surfaces + ": expected a non-empty list of distinct surfaces");
        }
        int hour = ctx.nonNegativeInt("hour-of-day");
        if (hour > 23) {
            throw new InvalidConfigException(ctx.key("hour-of-day") + " = " + hour + ": expected an hour in 0..23");
        }
        String out = s.string("output-root");
        return new InferEmbeddings(
                s.string("model-version").trim(),
                smoothing,
                s.positiveInt("batch-size"),
                s.bool("reset"),
                out.isBlank() ? StorageLayout.embeddings(storageRoot) : out,
                device,
                s.nonNegativeInt("intra-op-threads"),
                s.nonNegativeInt("partitions"),
                surfaces,
                hour);
    }

    static ForgetUsers forgetUsers(Settings s) {
        List<Long> ids = new ArrayList<>();
        for (String v : s.strings("user-ids")) {
            try {
                ids.add(Long.parseLong(v.trim()));
            } catch (NumberFormatException e) {
                throw new InvalidConfigException(s.key("user-ids") + " contains \"" + v + "\": expected integer ids");
            }
        }
        return new ForgetUsers(ids, s.string("user-ids-file").trim(), s.strings("tables"), s.bool("vacuum"));
    }
}
