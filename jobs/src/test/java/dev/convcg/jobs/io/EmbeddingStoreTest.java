package dev.convcg.jobs.io;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.embeddings.EmbeddingColumns;
import dev.convcg.core.testing.SparkTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Atomic publish: a write that fails half-way leaves every existing day readable and untouched. */
@ExtendWith(SparkTest.class)
class EmbeddingStoreTest {
    private static final LocalDate D1 = LocalDate.parse("2026-10-01");
    private static final LocalDate D2 = D1.plusDays(1);
    private static final String T = StorageLayout.PIN_EMBEDDINGS;

    /** {@code n} published-shaped rows over 4 partitions; with {@code failAt} >= 0 the task holding that id fails. */
    private static Dataset<Row> rows(SparkSession spark, int n, long failAt, String tag) {
        Dataset<Row> r = spark.range(0, n, 1, 4)
                .select(
                        col("id").as("pin_id"),
                        array(lit(1f), lit(0f)).as(EmbeddingColumns.EMBEDDING),
                        array(lit(1f), lit(0f)).as(EmbeddingColumns.FRESH_EMBEDDING),
                        lit(tag).as(EmbeddingColumns.MODEL_VERSION),
                        lit("L").as(EmbeddingColumns.LINEAGE_ID),
                        lit(D1.toString()).as(EmbeddingColumns.EMBEDDING_DATE),
                        lit(D1.toString()).as(EmbeddingColumns.LAST_SEEN_DS),
                        col("id").equalTo(0).as(EmbeddingColumns.CARRIED_OVER),
                        lit("NONE").as(EmbeddingColumns.SMOOTHING));
        return failAt < 0
                ? r
                : r.withColumn(
                        "pin_id",
                        when(col("pin_id").equalTo(failAt), raise_error(lit("injected failure mid-write")))
                                .otherwise(col("pin_id")));
    }

    private static EmbeddingStore.Manifest manifest(String version) {
        return new EmbeddingStore.Manifest(T, null, version, "L", "NONE", 0, 0, null, "test");
    }

    @Test
    void aFailedWriteNeverTouchesPublishedDaysAndARerunReplacesTheDay(SparkSession spark, @TempDir Path root) {
        EmbeddingStore store = new EmbeddingStore(spark, root.toString());
        EmbeddingStore.Manifest m1 = store.publish(T, D1, rows(spark, 100, -1, "v1"), manifest("v1"));
        assertEquals(100, m1.rows());
        assertEquals(1, m1.carriedOver());
        assertEquals(List.of(D1), store.publishedDays(T));

        // A new day fails half-way: some tasks have written their files, one throws.
        assertThrows(Exception.class, () -> store.publish(T, D2, rows(spark, 100, 90, "v2"), manifest("v2")));
        assertFalse(Files.exists(Path.of(store.dayPath(T, D2))), "no partial ds directory");
        assertEquals(List.of(D1), store.publishedDays(T));
        assertEquals(100, store.readDay(T, D1).count());

        // Re-running an existing day fails half-way: the day keeps its previous content and marker.
        assertThrows(Exception.class, () -> store.publish(T, D1, rows(spark, 50, 40, "v1b"), manifest("v1b")));
        assertEquals(100, store.readDay(T, D1).count());
        assertEquals("v1", store.manifest(T, D1).orElseThrow().modelVersion());
        assertEquals(
                0,
                store.readDay(T, D1)
                        .filter(col(EmbeddingColumns.MODEL_VERSION).notEqual("v1"))
                        .count());

        // A successful re-run replaces the day; the whole table reads as one ds-partitioned dataset.
        store.publish(T, D1, rows(spark, 50, -1, "v1c"), manifest("v1c"));
        store.publish(T, D2, rows(spark, 30, -1, "v2"), manifest("v2"));
        assertEquals(50, store.readDay(T, D1).count());
        assertEquals("v1c", store.manifest(T, D1).orElseThrow().modelVersion());
        assertEquals(List.of(D1, D2), store.publishedDays(T));
        assertEquals(D1, store.latestBefore(T, D2).orElseThrow());
        assertEquals(80, spark.read().parquet(store.tablePath(T)).count(), "staging and trash are invisible");
        try (var s = Files.list(Path.of(store.tablePath(T), "_staging"))) {
            assertEquals(0, s.count(), "failed attempts leave no staging data behind");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
