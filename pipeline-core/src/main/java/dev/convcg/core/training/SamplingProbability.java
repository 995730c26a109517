package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Column;
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

    /**
     * {@code examples} with a {@code pin_sampling_prob} double column. One aggregation per pin (its positives of each
     * task) and one grand total of it, joined back on {@code pin_id}: the examples are scanned twice, whatever the
     * number of tasks.
     */
    public static Dataset<Row> attach(Dataset<Row> examples) {
        Dataset<Row> perPin = examples.filter(col("task").notEqual(ExampleLabeler.NEGATIVE))
                .groupBy(col("pin_id").as("_pin"))
                .agg(
                        count(when(col("task").equalTo(ExampleLabeler.CONVERSION), 1))
                                .as("_n_conv"),
                        count(when(col("task").equalTo(ExampleLabeler.ENGAGEMENT), 1))
                                .as("_n_eng"),
                        count(lit(1)).as("_n_all"));
        Dataset<Row> totals = perPin.agg(
                sum("_n_conv").as("_total_conv"),
                sum("_n_eng").as("_total_eng"),
                sum("_n_all").as("_total_all"));
        Dataset<Row> q = perPin.crossJoin(broadcast(totals))
                .select(
                        col("_pin"),
                        share(col("_n_conv"), col("_total_conv")).as("_q_conv"),
                        share(col("_n_eng"), col("_total_eng")).as("_q_eng"),
                        share(col("_n_all"), col("_total_all")).as("_q_all"));
        Column task = col("task");
        Column prob = when(task.equalTo(ExampleLabeler.CONVERSION), col("_q_conv"))
                .when(task.equalTo(ExampleLabeler.ENGAGEMENT), col("_q_eng"))
                .when(task.equalTo(ExampleLabeler.NEGATIVE), col("_q_all"));
        return examples.join(q, examples.col("pin_id").equalTo(q.col("_pin")), "left")
                .withColumn("pin_sampling_prob", coalesce(prob, lit(0.0)))
                .drop("_pin", "_q_conv", "_q_eng", "_q_all");
    }

    private static Column share(Column n, Column total) {
        return when(total.gt(0), n.cast("double").divide(total));
    }
}
