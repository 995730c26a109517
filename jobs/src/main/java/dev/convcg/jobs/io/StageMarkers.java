package dev.convcg.jobs.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;

/**
 * Success markers, one per stage and day, under {@code <storage.root>/_markers/<stage>/ds=<day>/_SUCCESS}. A marker
 * is written last, after the stage's outputs are complete, so its presence means "this stage is done for this day";
 * the nightly chain skips such stages unless forced.
 */
public final class StageMarkers {
    private final Path root;

    public StageMarkers(String storageRoot) {
        this.root = Path.of(storageRoot).toAbsolutePath().resolve(StorageLayout.MARKERS);
    }

    public Path marker(String stage, LocalDate day) {
        return root.resolve(stage).resolve("ds=" + day).resolve("_SUCCESS");
    }

    public boolean complete(String stage, LocalDate day) {
        return Files.isRegularFile(marker(stage, day));
    }

    public void markComplete(String stage, LocalDate day, String summary) {
        Path m = marker(stage, day);
        try {
            Files.createDirectories(m.getParent());
            Path tmp = m.resolveSibling("_SUCCESS.tmp");
            Files.writeString(tmp, summary + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, m, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write success marker " + m, e);
        }
    }
}
