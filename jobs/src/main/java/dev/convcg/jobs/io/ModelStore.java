package dev.convcg.jobs.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;

/**
 * The model store: one directory per model version ({@code versions/<version>}: the DJL artifact plus
 * {@code training.json}), per-run checkpoints ({@code runs/<version>/checkpoints}), and a {@code LATEST} file naming
 * the version to serve. An artifact is written to {@code staging/} and renamed into place only when complete, and
 * {@code LATEST} is replaced by an atomic rename after that, so an interrupted run never leaves a half-written
 * artifact behind {@code LATEST}.
 */
public final class ModelStore {
    public static final String LATEST = "LATEST";
    public static final String TRAINING_RECORD = "training.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private final Path root;

    public ModelStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path artifactDir(String version) {
        return root.resolve("versions").resolve(version);
    }

    public Path checkpointDir(String version) {
        return root.resolve("runs").resolve(version).resolve("checkpoints");
    }

    /** A fresh, empty staging directory for an artifact being written. */
    public Path newStagingDir(String version) {
        return root.resolve("staging").resolve(version + "-" + UUID.randomUUID());
    }

    /** Removes a finished run's checkpoints, so a re-run of the same version trains afresh. */
    public void deleteCheckpoints(String version) {
        deleteRecursively(checkpointDir(version).getParent());
    }

    /** Deletes a local directory tree (no-op when absent). */
    public static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The version LATEST points to, if any. */
    public Optional<String> latestVersion() {
        Path latest = root.resolve(LATEST);
        try {
            return Files.isRegularFile(latest) ? Optional.of(Files.readString(latest).trim()) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + latest, e);
        }
    }

    /** The training record of a published version. */
    public TrainingRecord record(String version) {
        Path f = artifactDir(version).resolve(TRAINING_RECORD);
        try {
            return GSON.fromJson(Files.readString(f), TrainingRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("model version " + version + " has no readable " + f, e);
        }
    }

    /** Writes the record into the staging directory, moves it into place, then points LATEST at it. */
    public void publish(Path staging, TrainingRecord record) {
        try {
            Files.writeString(staging.resolve(TRAINING_RECORD), GSON.toJson(record), StandardCharsets.UTF_8);
            Path target = artifactDir(record.versionId());
            Files.createDirectories(target.getParent());
            if (Files.exists(target)) {
                Path old = root.resolve("staging").resolve(record.versionId() + "-replaced-" + UUID.randomUUID());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                deleteRecursively(old);
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            Path tmp = root.resolve(LATEST + ".tmp-" + UUID.randomUUID());
            Files.writeString(tmp, record.versionId() + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, root.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish model " + record.versionId() + " in " + root, e);
        }
    }

    /**
     * What a training run produced and from what: the day it ran for, the last day it trained on, the version it
     * was warm-started from and the lineage (the first version of the warm-start chain), which decides whether two
     * models' embeddings may be averaged.
     */
    public record TrainingRecord(
            String versionId,
            String runDate,
            String trainedFrom,
            String trainedThrough,
            String validationThrough,
            String parentVersion,
            String lineageId,
            String configHash,
            Object metrics) {

        public LocalDate trainedThroughDate() {
            return LocalDate.parse(trainedThrough);
        }
    }
}
