package dev.convcg.core.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Serving the re-engagement bias: the bias per history pin, and the biased top-K it gives. */
@ExtendWith(SparkTest.class)
class ReengagementTest {
    /** Two sequences, slots [0, b1, b2, b3, b4] each; edges {1, 3, 7}. */
    static final Reengagement.Bias BIAS = new Reengagement.Bias(
            List.of("engaged", "converted"), new float[] {0, 4, 2, 1, 0.5f, 0, 10, 8, 6, 4}, 5, new int[] {1, 3, 7});

    @Test
    void eachHistoryPinGetsTheBiasOfItsFirstPositionInEverySequence(SparkSession spark) {
        Dataset<Row> features = spark.sql("""
                SELECT * FROM VALUES
                  (1L, array(7L, 8L, 7L, 9L, 5L, 5L, 5L, 6L), array(8L)),
                  (2L, array(), array())
                AS t(user_id, engaged, converted)""");
        Map<String, Float> got = new TreeMap<>();
        for (Row r : Reengagement.candidates(features, BIAS).collectAsList()) {
            got.put(r.getLong(0) + "/" + r.getLong(1), r.getFloat(2));
        }
        assertEquals(
                Map.of(
                        "1/7", 4f, // engaged position 0 -> slot 1
                        "1/8", 2f + 10f, // engaged position 1 -> slot 2, converted position 0 -> slot 1
                        "1/9", 1f, // position 3 -> slot 3
                        "1/5", 1f, // first at position 4 -> slot 3
                        "1/6", 0.5f),
                got); // position 7 -> slot 4
    }

    @Test
    void historyPinsOutrankTheEmbeddingTopKByTheirBias(SparkSession spark) {
        Dataset<Row> queries = spark.sql("""
                SELECT * FROM VALUES (1L, 'HOME_FEED', array(CAST(1 AS FLOAT), CAST(0 AS FLOAT))),
                  (1L, 'SEARCH', array(CAST(0 AS FLOAT), CAST(1 AS FLOAT)))
                AS t(user_id, surface, embedding)""");
        Dataset<Row> pins = spark.sql("""
                SELECT * FROM VALUES (10L, array(CAST(1 AS FLOAT), CAST(0 AS FLOAT))),
                  (11L, array(CAST(0 AS FLOAT), CAST(1 AS FLOAT))),
                  (12L, array(CAST(0.5 AS FLOAT), CAST(0.5 AS FLOAT)))
                AS t(pin_id, embedding)""");
        Dataset<Row> features = spark.sql("SELECT 1L AS user_id, array(12L) AS engaged, array() AS converted");
        Reengagement.Bias b = new Reengagement.Bias(
                List.of("engaged", "converted"), new float[] {0, 0.6f, 0, 0, 0, 0, 0, 0, 0, 0}, 5, new int[] {1, 3, 7});
        Map<String, List<Long>> lists = new TreeMap<>();
        for (Row r : TopKRetrieval.topK(
                        queries, pins, 2, 8, 8, Reengagement.candidates(features, b), BlockScorer.BLAS_SGEMM)
                .collectAsList()) {
            lists.put(r.getString(1), r.getList(2));
        }
        // HOME_FEED: 10 scores 1.0, 12 scores 0.5 + 0.6 = 1.1; SEARCH: 11 scores 1.0, 12 scores 1.1.
        assertEquals(Map.of("HOME_FEED", List.of(12L, 10L), "SEARCH", List.of(12L, 11L)), lists);
    }
}
