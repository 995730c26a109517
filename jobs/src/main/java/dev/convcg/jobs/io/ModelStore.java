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
import java.util.Optional;
import java.util.UUID;
import org.apache.commons.codec.digest.DigestUtils;
import org.apache.commons.io.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model store: one directory per model version ({@code versions/<version>}: the DJL artifact plus
 * {@code training.json}), per-run checkpoints ({@code runs/<version>/checkpoints}), and a {@code LATEST} file naming
 * the version to serve. An artifact is written to {@code staging/} and renamed into place only when complete, and
 * {@code LATEST} is replaced by an atomic rename after that, so an interrupted run never leaves a half-written
 * artifact behind {@code LATEST}. The store also owns the version ids ({@link #versionId}) and which model a warm
 * start continues from ({@link #warmStartParent}).
 */
public final class ModelStore {
    public static final String LATEST = "LATEST";
    /** Published artifacts, one directory per version id. */
    public static final String VERSIONS = "versions";

    public static final String TRAINING_RECORD = "training.json";
    private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);
    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private final Path root;

    public ModelStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path artifactDir(String version) {
        return root.resolve(VERSIONS).resolve(version);
    }

    public Path checkpointDir(String version) {
        return root.resolve("runs").resolve(version).resolve("checkpoints");
    }

    /**
     * The version id of a training run: the run date and the first 10 hex digits of the SHA-256 of everything that
     * decides the model ({@code identity}: configuration hash, trainer settings, window, parent), so the same run
     * twice gets the same id and replaces its artifact.
     */
    public static String versionId(LocalDate runDate, String identity) {
        return runDate + "-" + DigestUtils.sha256Hex(identity).substring(0, 10);
    }

    /**
     * The model a warm start on {@code runDate} continues from: LATEST when it ran for an earlier day; its parent when
     * LATEST is this day's own model (a rerun of the day); none when the store is empty or LATEST is this day's cold
     * model. LATEST from a later day is an error: warm start goes forward in time only.
     */
    public Optional<TrainingRecord> warmStartParent(LocalDate runDate) {
        Optional<String> latest = latestVersion();
        if (latest.isEmpty()) {
            LOG.info("train.warm-start is on but {} has no LATEST model: training from scratch", root);
            return Optional.empty();
        }
        TrainingRecord r = record(latest.get());
        if (LocalDate.parse(r.runDate()).isBefore(runDate)) {
            return Optional.of(r);
        }
        if (r.runDate().equals(runDate.toString()) && r.parentVersion() != null) {
            LOG.info("LATEST {} is this day's model: re-running from its parent {}", r.versionId(), r.parentVersion());
            return Optional.of(record(r.parentVersion()));
        }
        if (r.runDate().equals(runDate.toString())) {
            return Optional.empty();
        }
        throw new IllegalStateException("LATEST model " + r.versionId() + " ran for " + r.runDate()
                + ", after run-date " + runDate + ": warm start goes forward in time only");
    }

    /** A fresh, empty staging directory for an artifact being written. */
    public Path newStagingDir(String version) {
        return root.resolve("staging").resolve(version + "-" + UUID.randomUUID());
    }

    /** Removes a finished run's checkpoints, so a re-run of the same version trains afresh. */
    public void deleteCheckpoints(String version) {
        deleteRecursively(checkpointDir(version).getParent());
    }

    /** Deletes a local file or directory tree (no-op when absent; Commons IO, which Spark brings). */
    public static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try {
            FileUtils.forceDelete(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p, e);
        }
    }

    /** The version LATEST points to, if any. */
    public Optional<String> latestVersion() {
        Path latest = root.resolve(LATEST);
        try {
            return Files.isRegularFile(latest)
                    ? Optional.of(Files.readString(latest).trim())
                    : Optional.empty();
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
