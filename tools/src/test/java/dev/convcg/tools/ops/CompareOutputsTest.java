package dev.convcg.tools.ops;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.tools.ops.CompareOutputs.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SparkTest.class)
class CompareOutputsTest {

    private static void write(Dataset<Row> rows, Path root, String table) {
        rows.write()
                .format("delta")
                .mode("overwrite")
                .save(root.resolve("tables").resolve(table).toString());
    }

    private static Dataset<Row> rows(SparkSession spark, int n, int partitions) {
        return spark.range(n)
                .selectExpr("id", "cast(id % 3 as string) as ds", "array(id * 0.5d, 1.0d) as v", "map('k', id) as m")
                .repartition(partitions);
    }

    @Test
    void sameRowsInAnotherLayoutMatchAndAChangedOrDuplicatedRowDoesNot(
            SparkSession spark, @TempDir Path a, @TempDir Path b) {
        write(rows(spark, 50, 1), a, "t");
        write(rows(spark, 50, 3).orderBy(col("id").desc()), b, "t");
        List<Result> same = CompareOutputs.compareTables(spark, a, b);
        assertEquals(1, same.size());
        assertTrue(same.get(0).match(), same.toString());

        write(rows(spark, 50, 2).selectExpr("case when id = 7 then 8 else id end as id", "ds", "v", "m"), b, "t");
        Result changed = CompareOutputs.compareTables(spark, a, b).get(0);
        assertFalse(changed.match());
        assertEquals("1 expected rows missing, 1 unexpected rows", changed.detail());

        write(rows(spark, 50, 2).union(rows(spark, 1, 1)), b, "t");
        Result duplicated = CompareOutputs.compareTables(spark, a, b).get(0);
        assertFalse(duplicated.match());
        assertEquals("0 expected rows missing, 1 unexpected rows", duplicated.detail());

        write(rows(spark, 5, 1), a, "only_in_a");
        write(rows(spark, 50, 1), b, "t");
        List<Result> results = CompareOutputs.compareTables(spark, a, b);
        assertEquals(
                List.of("table only_in_a", "table t"),
                results.stream().map(Result::item).toList());
        assertFalse(results.get(0).match());
        assertTrue(results.get(1).match());
    }

    private static void model(Path root, String version, double loss, double seconds) throws Exception {
        Path dir = Files.createDirectories(root.resolve("models/versions").resolve(version));
        Files.writeString(root.resolve("models/LATEST"), version + "\n");
        Files.writeString(
                dir.resolve("training.json"),
                "{\"versionId\":\"" + version + "\",\"metrics\":{\"epochs\":[{"
                        + "\"epoch\":0,\"steps\":12,\"seconds\":" + seconds + ",\"train_loss\":" + loss
                        + ",\"sampled_recall_at_100\":null}],\"train_seconds\":" + seconds
                        + ",\"examples_per_second\":" + 1000 / seconds + ",\"input_wait_share\":" + 0.01 * seconds
                        + ",\"step_phase_ms\":{\"forward\":" + seconds + "}}}");
        Files.write(dir.resolve("model.params"), new byte[] {1, 2, 3});
    }

    @Test
    void modelsMatchWithinTheToleranceIgnoringWallClock(
            @TempDir Path a, @TempDir Path b, @TempDir Path c, @TempDir Path d) throws Exception {
        model(a, "2026-10-06-abc", 5.4321, 10.0);
        model(b, "2026-10-06-abc", 5.4321 * (1 + 1e-9), 99.0);
        List<Result> close = CompareOutputs.compareModels(a, b, 1e-6);
        assertTrue(close.stream().allMatch(Result::match), close.toString());
        assertEquals("byte-identical", close.get(2).detail());

        model(c, "2026-10-06-abc", 5.44, 10.0);
        List<Result> far = CompareOutputs.compareModels(a, c, 1e-6);
        assertFalse(far.get(1).match());
        assertTrue(
                far.get(1).detail().startsWith("1 differ: metrics.epochs[0].train_loss"),
                far.get(1).detail());

        model(d, "2026-10-06-def", 5.4321, 10.0);
        assertFalse(CompareOutputs.compareModels(a, d, 1e-6).get(0).match(), "another version");
        assertTrue(CompareOutputs.compareModels(d.resolve("none"), a.resolve("none"), 1e-6)
                .isEmpty());

        Files.createDirectories(a.resolve("reports/2026-10-06"));
        Files.createDirectories(b.resolve("reports/2026-10-06"));
        Files.writeString(a.resolve("reports/2026-10-06/metrics.json"), "{\"metrics\":[{\"k\":100,\"recall\":0.25}]}");
        Files.writeString(b.resolve("reports/2026-10-06/metrics.json"), "{\"metrics\":[{\"k\":100,\"recall\":0.26}]}");
        assertFalse(CompareOutputs.compareReports(a, b, 1e-6).get(0).match());
        assertTrue(CompareOutputs.compareReports(a, b, 0.05).get(0).match());
    }
}
