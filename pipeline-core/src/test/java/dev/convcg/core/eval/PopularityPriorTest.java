package dev.convcg.core.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The popularity bins (positives in the window before the day, log2-binned) and serving with the prior. */
@ExtendWith(SparkTest.class)
class PopularityPriorTest {
    @Test
    void countsPositivesOfTheWindowBeforeTheDayAndBinsThemByLog2(SparkSession spark) {
        Dataset<Row> pins = spark.sql("SELECT explode(array(1L, 2L, 3L, 4L)) AS pin_id");
        // pin 1: 3 positives in the window (a negative and a positive outside it do not count); pin 2: 1; pin 3: 4
        // (one on each day), pin 4: none.
        Dataset<Row> examples = spark.sql("""
                SELECT * FROM VALUES
                  ('2026-10-08', 1L, 'ENGAGEMENT'), ('2026-10-09', 1L, 'CONVERSION'), ('2026-10-09', 1L, 'ENGAGEMENT'),
                  ('2026-10-09', 1L, 'NEGATIVE'), ('2026-10-10', 1L, 'ENGAGEMENT'), ('2026-10-07', 1L, 'ENGAGEMENT'),
                  ('2026-10-09', 2L, 'CONVERSION'),
                  ('2026-10-08', 3L, 'ENGAGEMENT'), ('2026-10-08', 3L, 'ENGAGEMENT'), ('2026-10-09', 3L, 'ENGAGEMENT'),
                  ('2026-10-09', 3L, 'ENGAGEMENT')
                AS t(ds, pin_id, task)""");
        Map<Long, List<Long>> got = new TreeMap<>();
        for (Row r : PopularityPrior.bins(pins, examples, LocalDate.parse("2026-10-10"), 2)
                .collectAsList()) {
            got.put(r.getLong(0), List.of(r.getLong(1), (long) r.getInt(2)));
        }
        assertEquals(Map.of(1L, List.of(3L, 2L), 2L, List.of(1L, 1L), 3L, List.of(4L, 3L), 4L, List.of(0L, 0L)), got);
    }

    @Test
    void binsAreCappedAtTheLast(SparkSession spark) {
        Row r = spark.sql("SELECT 1L AS n")
                .select(
                        PopularityPrior.bin(org.apache.spark.sql.functions.lit(1L << 40)),
                        PopularityPrior.bin(org.apache.spark.sql.functions.lit(7L)),
                        PopularityPrior.bin(org.apache.spark.sql.functions.lit(8L)))
                .first();
        assertEquals(List.of(PopularityPrior.BINS - 1, 3, 4), List.of(r.getInt(0), r.getInt(1), r.getInt(2)));
    }

    /** A prior large enough to beat the dot product reorders the top-K; pins without a bin row get bin 0's. */
    @Test
    void thePriorIsAddedToEachPinsScoreInTheTopK(SparkSession spark) {
        Dataset<Row> queries = spark.sql(
                "SELECT 1L AS user_id, 'HOME_FEED' AS surface, array(CAST(1 AS FLOAT), CAST(0 AS FLOAT)) AS embedding");
        Dataset<Row> pins = spark.sql("""
                SELECT * FROM VALUES (10L, array(CAST(1 AS FLOAT), CAST(0 AS FLOAT))),
                  (11L, array(CAST(0.6 AS FLOAT), CAST(0.8 AS FLOAT))),
                  (12L, array(CAST(0 AS FLOAT), CAST(1 AS FLOAT)))
                AS t(pin_id, embedding)""");
        Dataset<Row> bins = spark.sql("SELECT * FROM VALUES (10L, 0), (11L, 5) AS t(pin_id, popularity_bin)");
        float[] prior = new float[PopularityPrior.BINS];
        prior[0] = -0.1f;
        prior[5] = 0.5f;
        Dataset<Row> withPrior = PopularityPrior.withPrior(pins, bins, prior);
        Map<Long, Float> priors = new TreeMap<>();
        withPrior.collectAsList().forEach(r -> priors.put(r.getLong(0), r.getFloat(2)));
        assertEquals(Map.of(10L, -0.1f, 11L, 0.5f, 12L, -0.1f), priors);
        EvaluationSettings s = EvaluationSettings.defaults();
        Row list = OfflineEvaluation.embeddingLists(
                        queries,
                        withPrior,
                        pins.select("pin_id"),
                        queries.select("user_id"),
                        s,
                        null,
                        BlockScorer.BLAS_SGEMM)
                .first();
        // scores: 10 -> 1 - 0.1 = 0.9, 11 -> 0.6 + 0.5 = 1.1, 12 -> 0 - 0.1
        assertEquals(List.of(11L, 10L, 12L), list.getList(list.fieldIndex("pin_ids")));
        float[] scores = new float[3];
        List<Float> got = list.getList(list.fieldIndex("scores"));
        for (int i = 0; i < 3; i++) {
            scores[i] = got.get(i);
        }
        assertArrayEquals(new float[] {1.1f, 0.9f, -0.1f}, scores, 1e-6f, Arrays.toString(scores));
    }
}
