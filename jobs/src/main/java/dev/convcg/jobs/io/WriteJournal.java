package dev.convcg.jobs.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a write of several Delta tables all-or-nothing. Delta commits one table at a time, so a stage that writes
 * five tables for a day and is killed after the second would leave a day of new impressions next to old
 * engagements. Before its first write the stage records each table's current version in
 * {@code <storage.root>/_journal/<stage>.json}; after its last write it removes the record. A record still there
 * means the stage was interrupted: {@link #rollBack} restores every table it had already advanced to the recorded
 * version (and drops the tables it had created), so the tables are back at the old state together. The writer runs
 * it before writing again; {@code check-inputs} refuses a day while a record is pending and names the tables that
 * disagree.
 */
public final class WriteJournal {
    private static final Logger LOG = LoggerFactory.getLogger(WriteJournal.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Version recorded for a table that did not exist before the write. */
    public static final long ABSENT = -1;

    /**
     * One pending multi-table write.
     *
     * @param stage          the writing stage
     * @param runDs          its run date
     * @param input          what it was writing (e.g. the imported file and its hash)
     * @param days           the day partitions it was replacing
     * @param versionsBefore each table's Delta version before the write, {@link #ABSENT} for a table it creates
     */
    public record Entry(
            String stage, String runDs, String input, List<String> days, Map<String, Long> versionsBefore) {}

    private final SparkSession spark;
    private final DeltaTables tables;
    private final String dir;

    public WriteJournal(SparkSession spark, DeltaTables tables, String storageRoot) {
        this.spark = spark;
        this.tables = tables;
        this.dir = storageRoot.replaceAll("/+$", "") + "/_journal";
    }

    public String path(String stage) {
        return dir + "/" + stage + ".json";
    }

    /** The pending write of {@code stage}, if one was interrupted. */
    public Optional<Entry> pending(String stage) {
        Path p = new Path(path(stage));
        try {
            FileSystem fs = fs(p);
            if (!fs.exists(p)) {
                return Optional.empty();
            }
            try (var in = fs.open(p)) {
                return Optional.of(JSON.readValue(new String(in.readAllBytes(), StandardCharsets.UTF_8), Entry.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the write journal " + p, e);
        }
    }

    /** Records the tables' current versions before a write; fails when an earlier write of the stage is pending. */
    public Entry begin(String stage, String runDs, String input, List<String> days, List<String> tableNames) {
        pending(stage).ifPresent(e -> {
            throw new IllegalStateException(
                    "an interrupted " + stage + " write is pending in " + path(stage) + ": roll it back first");
        });
        Map<String, Long> versions = new LinkedHashMap<>();
        for (String t : tableNames) {
            versions.put(t, tables.version(t).orElse(ABSENT));
        }
        Entry e = new Entry(stage, runDs, input, List.copyOf(days), versions);
        try {
            TextFiles.write(spark, path(stage), JSON.writeValueAsString(e));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return e;
    }

    /** Marks the write complete: every table is at its new state. */
    public void commit(String stage) {
        Path p = new Path(path(stage));
        try {
            fs(p).delete(p, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the write journal " + p, e);
        }
    }

    /** The tables an interrupted write had already advanced past their recorded version. */
    public List<String> advanced(Entry e) {
        List<String> out = new ArrayList<>();
        e.versionsBefore().forEach((t, before) -> {
            OptionalLong now = tables.version(t);
            if (now.isPresent() && now.getAsLong() != before) {
                out.add(t);
            }
        });
        return out;
    }

    /** One line saying which tables of an interrupted write are at the new state and which at the old one. */
    public String describe(Entry e) {
        List<String> advanced = advanced(e);
        List<String> old = e.versionsBefore().keySet().stream()
                .filter(t -> !advanced.contains(t))
                .toList();
        return e.stage() + " of " + e.input() + " (run date " + e.runDs() + ", days " + span(e.days())
                + ") was interrupted: " + (advanced.isEmpty() ? "no table" : String.join(", ", advanced))
                + " at the new state, " + (old.isEmpty() ? "no table" : String.join(", ", old)) + " at the old state";
    }

    /**
     * Puts every table of an interrupted write back at its recorded version, then removes the record. Safe to run
     * again if it is itself interrupted: a table already restored is at its recorded version's content.
     */
    public void rollBack(Entry e) {
        LOG.warn("rolling back: {}", describe(e));
        for (String t : advanced(e)) {
            long before = e.versionsBefore().get(t);
            if (before == ABSENT) {
                tables.drop(t);
                LOG.warn("{}: created by the interrupted write, dropped", t);
            } else {
                tables.restore(t, before);
                LOG.warn("{}: restored to version {}", t, before);
            }
        }
        commit(e.stage());
    }

    private FileSystem fs(Path p) throws IOException {
        return p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    }

    private static String span(List<String> days) {
        return days.isEmpty()
                ? "none"
                : days.size() == 1 ? days.get(0) : days.get(0) + ".." + days.get(days.size() - 1);
    }
}
