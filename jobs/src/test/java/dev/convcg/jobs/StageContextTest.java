package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A step's Spark jobs carry the step's name as their description (what the Spark UI lists), nested steps included. */
@ExtendWith(SparkTest.class)
class StageContextTest {
    @Test
    void stepsNameTheirSparkJobs(SparkSession spark, @TempDir Path root) throws Exception {
        List<String> descriptions = new CopyOnWriteArrayList<>();
        SparkListener listener = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                descriptions.add(String.valueOf(start.properties().getProperty("spark.job.description")));
            }
        };
        spark.sparkContext().addSparkListener(listener);
        try {
            PipelineConfig c = TestConfigs.tiny(root);
            StageContext ctx =
                    new StageContext(spark, c, new DeltaTables(spark, c.storageRoot()), LocalDate.parse("2026-10-11"));
            ctx.step("outer", () -> {
                spark.range(10).count();
                ctx.step("inner", () -> spark.range(5).count());
                return spark.range(3).count();
            });
            spark.range(2).count();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (runs(descriptions).size() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            spark.sparkContext().removeSparkListener(listener);
        }
        assertEquals(
                List.of("outer (2026-10-11)", "inner (2026-10-11)", "outer (2026-10-11)", "null"),
                runs(descriptions),
                "a count may run more than one job: " + descriptions);
    }

    /** The descriptions with consecutive repeats collapsed. */
    private static List<String> runs(List<String> descriptions) {
        List<String> out = new ArrayList<>();
        for (String d : descriptions) {
            if (out.isEmpty() || !out.get(out.size() - 1).equals(d)) {
                out.add(d);
            }
        }
        return out;
    }
}
