package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Estimates, for the logQ correction of in-batch negatives, how often each pin appears in the positive stream of a
 * task over the training window (the examples of one run): {@code q_T(p) = n_T(p) / N_T}, where {@code n_T(p)} is
 * the number of examples of task T on pin p and {@code N_T} the number of examples of task T. It is therefore > 0
 * for every positive. A hard negative carries the pin's share of all positives (both tasks), 0 if it has none.
 */
public final class SamplingProbability {
    private SamplingProbability() {}

    /** {@code examples} with a {@code pin_sampling_prob} double column. */
    public static Dataset<Row> attach(Dataset<Row> examples) {
        Dataset<Row> counts = examples.filter(col("task").notEqual(ExampleLabeler.NEGATIVE))
                .groupBy("task", "pin_id").agg(count(lit(1)).as("n"));
        Dataset<Row> totals = counts.groupBy(col("task").as("t")).agg(sum("n").as("total"));
        Dataset<Row> perTask = counts.join(totals, counts.col("task").equalTo(totals.col("t")))
                .select(col("task"), col("pin_id"), col("n").divide(col("total")).as("pin_sampling_prob"));
        Dataset<Row> overall = counts.groupBy("pin_id").agg(sum("n").as("n"))
                .crossJoin(totals.agg(sum("total").as("total")))
                .select(lit(ExampleLabeler.NEGATIVE).as("task"), col("pin_id"),
                        col("n").divide(col("total")).as("pin_sampling_prob"));
        Dataset<Row> q = perTask.unionByName(overall);
        return examples.join(q, new String[] {"task", "pin_id"}, "left")
                .withColumn("pin_sampling_prob", coalesce(col("pin_sampling_prob"), lit(0.0)));
    }
}
