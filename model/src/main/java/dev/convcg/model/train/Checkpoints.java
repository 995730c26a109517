package dev.convcg.model.train;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.blocks.TwoTowerBlock;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Checkpoint directory layout: {@code ckpt-<12-digit step>/} with {@code model.params},
 * {@code optimizer.ndlist} (Adam moments) and {@code state.json} ({@link State}); {@code LATEST}
 * names the newest complete one. A checkpoint is written into {@code *.tmp} and renamed, then
 * {@code LATEST} is replaced atomically, so a kill at any moment leaves the previous checkpoint
 * usable. Only the newest {@code keep} checkpoints are kept.
 */
final class Checkpoints {
    static final String LATEST = "LATEST";
    static final String PARAMS = "model.params";
    static final String OPTIMIZER = "optimizer.ndlist";
    static final String STATE = "state.json";
    private static final Gson GSON = new Gson();

    private final Path root;
    private final int keep;

    Checkpoints(Path root, int keep) {
        this.root = root;
        this.keep = keep;
    }

    /**
     * Where training stands at a checkpoint.
     *
     * @param configHash model config + feature schema hash; resume refuses a different model
     * @param globalStep optimizer steps done
     * @param epoch epoch to continue in
     * @param batchesInEpoch batches of that epoch already trained (to skip on resume)
     * @param lossSums row-weighted loss sums of that epoch so far
     * @param examples rows of that epoch so far
     */
    record State(
            String configHash, long globalStep, int epoch, long batchesInEpoch, LossValues lossSums, long examples) {}

    /** Writes a checkpoint; {@code writer} fills the given directory with params and optimizer. */
    Path save(State state, IoWriter writer) {
        String name = String.format("ckpt-%012d", state.globalStep());
        Path dir = root.resolve(name);
        Path tmp = root.resolve(name + ".tmp");
        try {
            Files.createDirectories(root);
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            writer.write(tmp);
            Files.writeString(tmp.resolve(STATE), GSON.toJson(state));
            deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            Path latestTmp = root.resolve(LATEST + ".tmp");
            Files.writeString(latestTmp, name, StandardCharsets.UTF_8);
            Files.move(
                    latestTmp,
                    root.resolve(LATEST),
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            prune();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dir, e);
        }
    }

    /** Writes a checkpoint of the block's parameters and the optimizer's moments. */
    Path save(State state, TwoTowerBlock block, StatefulAdam optimizer) {
        return save(state, tmp -> {
            ModelArtifact.writeParams(tmp.resolve(PARAMS), block);
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp.resolve(OPTIMIZER)), 1 << 20);
                    NDList moments = optimizer.exportState()) {
                moments.encode(os);
            }
        });
    }

    /** Loads a checkpoint's optimizer moments into {@code optimizer}. */
    static void readOptimizer(Path dir, StatefulAdam optimizer, NDManager manager) {
        try (InputStream is = new BufferedInputStream(Files.newInputStream(dir.resolve(OPTIMIZER)), 1 << 20)) {
            optimizer.importState(NDList.decode(manager, is), manager);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read optimizer state in " + dir, e);
        }
    }

    Optional<Path> latest() {
        Path latest = root.resolve(LATEST);
        if (!Files.isRegularFile(latest)) {
            return Optional.empty();
        }
        try {
            Path dir = root.resolve(
                    Files.readString(latest, StandardCharsets.UTF_8).trim());
            return Files.isRegularFile(dir.resolve(STATE)) ? Optional.of(dir) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + latest, e);
        }
    }

    static State readState(Path dir) {
        try {
            return GSON.fromJson(Files.readString(dir.resolve(STATE)), State.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint state in " + dir, e);
        }
    }

    private void prune() throws IOException {
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "ckpt-*")) {
            for (Path p : ds) {
                if (!p.getFileName().toString().endsWith(".tmp")) {
                    all.add(p);
                }
            }
        }
        all.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (int i = 0; i < all.size() - keep; i++) {
            deleteRecursively(all.get(i));
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /** Writes files into a directory. */
    @FunctionalInterface
    interface IoWriter {
        void write(Path dir) throws IOException;
    }
}
