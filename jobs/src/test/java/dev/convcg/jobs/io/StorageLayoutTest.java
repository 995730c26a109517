package dev.convcg.jobs.io;

import static org.junit.jupiter.api.Assertions.*;

import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class StorageLayoutTest {
    @Test
    void pathsJoinWhateverTheRootsTrailingSlashes() {
        for (String root : List.of("out/x", "out/x/", "out/x//", "s3a://bucket/x/")) {
            String base = root.replaceAll("/+$", "");
            assertEquals(base + "/models", StorageLayout.models(root));
            assertEquals(base + "/embeddings", StorageLayout.embeddings(root));
            assertEquals(base + "/reports/2026-10-14", StorageLayout.reports(root, LocalDate.of(2026, 10, 14)));
            assertEquals(base + "/baselines/als", StorageLayout.under(root, StorageLayout.ALS_BASELINE));
        }
    }

    @Test
    void everyTableNameIsListedOnceAndIsAPlainDirectoryName() {
        List<String> all = Stream.concat(StorageLayout.DELTA_TABLES.stream(), StorageLayout.EMBEDDING_TABLES.stream())
                .toList();
        Set<String> distinct = new HashSet<>(all);
        assertEquals(all.size(), distinct.size(), "a table name listed twice: " + all);
        for (String name : all) {
            assertTrue(name.matches("[a-z][a-z_]*"), "table name " + name);
        }
        assertTrue(StorageLayout.DELTA_TABLES.containsAll(List.of(
                "impressions",
                "engagements",
                "conversions",
                "pins",
                "users",
                "quarantine",
                "training_examples",
                "user_features",
                "pin_features")));
    }
}
