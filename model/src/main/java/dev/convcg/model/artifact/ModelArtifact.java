package dev.convcg.model.artifact;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ConfigHash;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.features.FeatureSchema;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * A trained model on disk: a directory holding {@code model.params} (DJL block parameters, each
 * block tagged with its version byte) and {@code artifact.json} with the format version, the
 * caller's version id, the config hash, the model config and the feature hashing spec. Everything
 * needed to rebuild the block is in the directory; no Java serialisation is used.
 *
 * @param formatVersion layout version of the directory ({@link #FORMAT_VERSION})
 * @param versionId caller-chosen id (e.g. run date + config hash)
 * @param configHash {@link ConfigHash} of model config and feature schema
 * @param createdAt ISO-8601 instant the artifact was written
 * @param model model config
 * @param features feature hashing spec
 */
public record ModelArtifact(
        int formatVersion,
        String versionId,
        String configHash,
        String createdAt,
        ModelConfig model,
        FeatureSchema features) {

    public static final int FORMAT_VERSION = 1;
    public static final String PARAMS_FILE = "model.params";
    public static final String META_FILE = "artifact.json";
    static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** Writes block parameters and metadata to {@code dir} (created; files replaced atomically). */
    public static ModelArtifact save(Path dir, TwoTowerBlock block, String versionId) {
        if (versionId == null || versionId.isBlank()) {
            throw new IllegalArgumentException("versionId = " + versionId + " is invalid; allowed: a non-blank string");
        }
        ModelArtifact meta = new ModelArtifact(
                FORMAT_VERSION,
                versionId,
                ConfigHash.of(block.config(), block.schema()),
                Instant.now().toString(),
                block.config(),
                block.schema());
        try {
            Files.createDirectories(dir);
            writeParams(dir.resolve(PARAMS_FILE), block);
            writeAtomically(dir.resolve(META_FILE), GSON.toJson(meta).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model artifact to " + dir, e);
        }
        return meta;
    }

    /** Reads {@code artifact.json} only. */
    public static ModelArtifact read(Path dir) {
        Path meta = dir.resolve(META_FILE);
        try {
            ModelArtifact a = GSON.fromJson(Files.readString(meta), ModelArtifact.class);
            if (a == null || a.formatVersion() != FORMAT_VERSION) {
                throw new IllegalStateException(meta + ": formatVersion = "
                        + (a == null ? null : a.formatVersion()) + " is unsupported; this build"
                        + " reads " + FORMAT_VERSION);
            }
            // Re-run record validation on the nested settings.
            return new ModelArtifact(
                    a.formatVersion,
                    a.versionId,
                    a.configHash,
                    a.createdAt,
                    revalidate(a.model),
                    new FeatureSchema(a.features.user(), a.features.pin()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model artifact " + meta, e);
        }
    }

    /** Builds the block described by this artifact and loads its parameters. */
    public TwoTowerBlock loadBlock(Path dir, NDManager manager) {
        TwoTowerBlock block = new TwoTowerBlock(model, features);
        block.initialize(manager);
        loadParams(dir.resolve(PARAMS_FILE), block, manager);
        return block;
    }

    public static void writeParams(Path file, TwoTowerBlock block) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream os =
                new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            block.saveParameters(os);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static void loadParams(Path file, TwoTowerBlock block, NDManager manager) {
        try (DataInputStream is = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            block.loadParameters(manager, is);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read parameters " + file, e);
        } catch (MalformedModelException e) {
            throw new IllegalStateException(
                    "parameters " + file + " do not fit this model"
                            + " (different architecture, feature spec or block version): "
                            + e.getMessage(),
                    e);
        }
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static ModelConfig revalidate(ModelConfig c) {
        return new ModelConfig(
                c.embeddingDim(),
                c.tower(),
                c.temperature(),
                c.heads(),
                c.logQCorrection(),
                c.hardNegatives(),
                c.advertiserLoss(),
                c.useExampleWeights(),
                c.reengagement(),
                c.pinBias());
    }

    /**
     * Throws unless a trainer of {@code model} on {@code schema} can start from this artifact's parameters (a warm
     * start): the same feature spec and the same architecture (embedding width, towers, head mode).
     */
    public void requireWarmStartable(ModelConfig model, FeatureSchema schema, Path dir) {
        if (!features().equals(schema)) {
            throw new IllegalArgumentException("warm start from " + dir
                    + ": its feature spec differs from this trainer's; allowed: identical specs");
        }
        ModelConfig p = model();
        if (p.embeddingDim() != model.embeddingDim()
                || !p.tower().equals(model.tower())
                || p.heads().mode() != model.heads().mode()) {
            throw new IllegalArgumentException("warm start from " + dir
                    + ": architecture (embeddingDim, tower, head mode) = " + p.embeddingDim() + ", "
                    + p.tower() + ", " + p.heads().mode() + " differs from this trainer's "
                    + model.embeddingDim() + ", " + model.tower() + ", "
                    + model.heads().mode());
        }
    }
}
