package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.embeddings.EmbeddingColumns;
import dev.convcg.core.eval.Baselines;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.AlsFactorStore;
import dev.convcg.jobs.io.DeltaTables;
import dev.convcg.jobs.io.EmbeddingFixtures;
import dev.convcg.jobs.io.EmbeddingStore;
import dev.convcg.jobs.io.StorageLayout;
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

/** Erasure removes the users everywhere (including the files on disk) and nobody else. */
@ExtendWith(SparkTest.class)
class ForgetUsersStageTest {
    private static final LocalDate D1 = LocalDate.parse("2026-10-01");
    private static final LocalDate D2 = D1.plusDays(1);

    private static Dataset<Row> embeddings(SparkSession spark, LocalDate ds) {
        return spark.range(10, 16)
                .select(
                        col("id").as("user_id"),
                        lit("HOME_FEED").as("surface"),
                        array(lit(1f), lit(0f)).as(EmbeddingColumns.EMBEDDING),
                        array(lit(1f), lit(0f)).as(EmbeddingColumns.FRESH_EMBEDDING),
                        lit("A").as(EmbeddingColumns.MODEL_VERSION),
                        lit("A").as(EmbeddingColumns.LINEAGE_ID),
                        lit(ds.toString()).as(EmbeddingColumns.EMBEDDING_DATE),
                        lit(ds.toString()).as(EmbeddingColumns.LAST_SEEN_DS),
                        lit(false).as(EmbeddingColumns.CARRIED_OVER),
                        lit(EmbeddingColumns.NONE).as(EmbeddingColumns.SMOOTHING));
    }

    @Test
    void removesTheUsersFromEmbeddingsExamplesAndSnapshotsDownToTheFiles(SparkSession spark, @TempDir Path root)
            throws Exception {
        Path idsFile = root.resolve("forget.txt");
        Files.writeString(idsFile, "# erasure requests\n12\n\n");
        PipelineConfig c = TestConfigs.tiny(
                root.resolve("store"),
                "forget-users.user-ids",
                "[10]",
                "forget-users.user-ids-file",
                "\"" + idsFile + "\"",
                "engagement-retriever.enabled",
                "true");
        DeltaTables tables = new DeltaTables(spark, c.storageRoot());
        for (LocalDate d : List.of(D1, D2)) {
            EmbeddingFixtures.append(
                    spark,
                    tables.path(TrainingDataSchemas.USER_FEATURES_TABLE),
                    EmbeddingFixtures.USER_FEATURES,
                    List.of(
                            EmbeddingFixtures.user(d + "", 10),
                            EmbeddingFixtures.user(d + "", 11),
                            EmbeddingFixtures.user(d + "", 12)));
        }
        tables.replaceAll(
                "training_examples",
                spark.range(0, 60)
                        .select(
                                concat(lit("ex"), col("id").cast("string")).as("example_id"),
                                        col("id").mod(6).plus(10).as("user_id"),
                                col("id").as("pin_id"), lit(D1.toString()).as("ds")),
                "ds");
        EmbeddingStore out = new EmbeddingStore(spark, c.inferEmbeddings().outputRoot());
        EmbeddingStore engagement = new EmbeddingStore(
                spark, c.engagementRetrieverConfig().inferEmbeddings().outputRoot());
        for (EmbeddingStore store : List.of(out, engagement)) {
            for (LocalDate d : List.of(D1, D2)) {
                store.publish(
                        StorageLayout.USER_EMBEDDINGS,
                        d,
                        embeddings(spark, d),
                        new EmbeddingStore.Manifest(null, null, "A", "A", "NONE", 0, 0, null, "infer-embeddings"));
            }
        }

        AlsFactorStore als = new AlsFactorStore(spark, c.storageRoot());
        als.store(
                c.evaluate().als(),
                D1,
                D2,
                new Baselines.Embeddings(
                        embeddings(spark, D2).select("user_id", EmbeddingColumns.EMBEDDING),
                        spark.range(3)
                                .select(
                                        col("id").as("pin_id"),
                                        array(lit(1f), lit(0f)).as(EmbeddingColumns.EMBEDDING))));

        assertEquals(Main.EXIT_OK, Main.run("forget-users", c, spark));
        assertTrue(als.days().isEmpty(), "stored ALS fits hold users' factors: removed");

        Dataset<Row> forgotten =
                spark.range(1).select(explode(array(lit(10L), lit(12L))).as("user_id"));
        for (String t : List.of("training_examples", TrainingDataSchemas.USER_FEATURES_TABLE)) {
            assertEquals(0, tables.read(t).join(forgotten, "user_id").count(), t);
            // Vacuumed: not even the table's files on disk (all versions) hold the users any more.
            assertEquals(
                    0,
                    spark.read()
                            .parquet(tables.path(t))
                            .join(forgotten, "user_id")
                            .count(),
                    t + " files");
        }
        assertEquals(40, tables.read("training_examples").count(), "other users' examples stay");
        assertEquals(2, tables.read(TrainingDataSchemas.USER_FEATURES_TABLE).count(), "user 11 on two days");
        for (EmbeddingStore store : List.of(out, engagement)) {
            for (LocalDate d : List.of(D1, D2)) {
                Dataset<Row> day = store.readDay(StorageLayout.USER_EMBEDDINGS, d);
                assertEquals(4, day.count(), store.root());
                assertEquals(0, day.join(forgotten, "user_id").count(), store.root());
                assertTrue(
                        store.manifest(StorageLayout.USER_EMBEDDINGS, d)
                                .orElseThrow()
                                .note()
                                .contains("forget-users removed 2 rows"),
                        store.root());
            }
        }
        assertEquals(
                0,
                spark.read()
                        .parquet(out.tablePath(StorageLayout.USER_EMBEDDINGS))
                        .join(forgotten, "user_id")
                        .count(),
                "no staging or trash copy left");
        assertFalse(Files.exists(Path.of(out.tablePath(StorageLayout.USER_EMBEDDINGS), "_trash")));

        PipelineConfig none = TestConfigs.tiny(root.resolve("store"));
        assertEquals(Main.EXIT_FAILED, Main.run("forget-users", none, spark), "no ids given: refuse");
    }

    @Test
    void removesTheUsersRejectedRowsFromTheQuarantineOldAndNew(SparkSession spark, @TempDir Path root)
            throws Exception {
        Path file = ImportEventsStageTest.csv(
                root,
                "rejects.csv",
                "5,100,7,pv,1511658000",
                "5,101,7,zzz,1511658001",
                "5,102,7,pv,99",
                "6,103,7,zzz,1511658002",
                "x,104,7,pv,1511658003");
        PipelineConfig c = TestConfigs.tiny(
                root.resolve("store"),
                "import-events.input",
                ImportEventsStageTest.quoted(file),
                "run-date",
                "2017-11-27",
                "forget-users.user-ids",
                "[5]");
        assertEquals(Main.EXIT_OK, Main.run("import-events", c, spark));
        DeltaTables tables = new DeltaTables(spark, c.storageRoot());
        // a reject of build-training-data written before the quarantine had a user_id column: found by its JSON
        tables.append(
                Quarantine.TABLE,
                spark.range(1)
                        .select(
                                lit("engagements").as("source_table"),
                                lit("MISSING_PIN_ID").as("reason"),
                                lit("{\"user_id\":5,\"pin_id\":null}").as("row_json"),
                                lit("build-training-data").as("stage"),
                                lit("2017-11-27").as("run_ds")),
                "stage",
                "run_ds");
        assertEquals(5, tables.read(Quarantine.TABLE).count());

        assertEquals(Main.EXIT_OK, Main.run("forget-users", c, spark));
        List<String> left = tables.read(Quarantine.TABLE).collectAsList().stream()
                .map(r -> r.<String>getAs("reason") + " " + r.<Long>getAs("user_id"))
                .sorted()
                .toList();
        assertEquals(
                List.of("INVALID_NUMBER null", "UNKNOWN_EVENT_TYPE 6"),
                left,
                "user 5's three rejects are gone; user 6's and the unreadable id's stay");
        assertEquals(
                0,
                spark.read()
                        .parquet(tables.path(Quarantine.TABLE))
                        .filter(col("row_json")
                                .contains("\"5\"")
                                .or(col("row_json").contains(":5,")))
                        .count(),
                "vacuumed: not in the files either");
        assertEquals(
                0,
                tables.read(RawTables.IMPRESSIONS)
                        .filter(col("user_id").equalTo(5))
                        .count());
    }
}
