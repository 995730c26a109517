package dev.convcg.jobs.io;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.EvaluationSettings.AlsSettings;
import dev.convcg.core.testing.SparkTest;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A stored ALS fit is reused within the refit cadence, never after it, never from the future, never across settings. */
@ExtendWith(SparkTest.class)
class AlsFactorStoreTest {
    static final AlsSettings WEEKLY = new AlsSettings(8, 0.05, 10.0, 5, 42, 5.0, 7);
    static final LocalDate FROM = LocalDate.parse("2026-09-27");
    static final LocalDate DAY = LocalDate.parse("2026-10-10");

    static Baselines.Embeddings factors(SparkSession spark, float scale) {
        return new Baselines.Embeddings(
                spark.range(3)
                        .select(
                                col("id").as("user_id"),
                                array(lit(scale), lit(0f)).as("embedding")),
                spark.range(5)
                        .select(
                                col("id").plus(100).as("pin_id"),
                                array(lit(0f), lit(scale)).as("embedding")));
    }

    @Test
    void reusesAFitWithinTheCadenceOnly(SparkSession spark, @TempDir Path root) {
        AlsFactorStore store = new AlsFactorStore(spark, root.toString());
        assertTrue(store.reusable(WEEKLY, DAY).isEmpty(), "nothing stored yet");
        AlsFactorStore.Stored stored = store.store(WEEKLY, FROM, DAY, factors(spark, 1f));
        assertEquals(3, stored.fit().users());
        assertEquals(5, stored.fit().pins());
        for (int d = 0; d < 7; d++) {
            assertEquals(
                    DAY, store.reusable(WEEKLY, DAY.plusDays(d)).orElseThrow().day(), "day +" + d);
        }
        assertTrue(store.reusable(WEEKLY, DAY.plusDays(7)).isEmpty(), "a week later it is refitted");
        assertTrue(store.reusable(WEEKLY, DAY.minusDays(1)).isEmpty(), "a fit never serves an earlier window");
        assertTrue(
                store.reusable(new AlsSettings(16, 0.05, 10.0, 5, 42, 5.0, 7), DAY)
                        .isEmpty(),
                "other settings");
        assertTrue(
                store.reusable(new AlsSettings(8, 0.05, 10.0, 5, 42, 5.0, 1), DAY.plusDays(1))
                        .isEmpty(),
                "refit-every-days = 1 refits every day");
        Baselines.Embeddings back = store.reusable(WEEKLY, DAY).orElseThrow().read(spark);
        assertEquals(List.of(1f, 0f), back.users().orderBy("user_id").first().getList(1));
        assertEquals(5, back.pins().count());
    }

    @Test
    void aLaterFitWinsAndARefitReplacesItsDay(SparkSession spark, @TempDir Path root) {
        AlsFactorStore store = new AlsFactorStore(spark, root.toString());
        store.store(WEEKLY, FROM, DAY, factors(spark, 1f));
        store.store(WEEKLY, FROM.plusDays(3), DAY.plusDays(3), factors(spark, 2f));
        assertEquals(
                DAY.plusDays(3),
                store.reusable(WEEKLY, DAY.plusDays(4)).orElseThrow().day());
        store.store(WEEKLY, FROM.plusDays(3), DAY.plusDays(3), factors(spark, 3f));
        Baselines.Embeddings back =
                store.reusable(WEEKLY, DAY.plusDays(4)).orElseThrow().read(spark);
        assertEquals(List.of(3f, 0f), back.users().orderBy("user_id").first().getList(1));
        assertEquals(List.of(DAY, DAY.plusDays(3)), store.days());
    }
}
