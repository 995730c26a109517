package dev.convcg.core.eval;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import java.time.LocalDate;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A pin's popularity bin, the input of a model's popularity prior: its positives (engagement and conversion examples)
 * over the {@code windowDays} days before the day being predicted, binned by {@code log2} (bin 0: none; bin b ≥ 1:
 * {@code 2^(b−1)} to {@code 2^b − 1} positives; the last bin holds everything above). The same function gives the bins
 * the refit fits on (the validation day) and those serving adds the prior by (the days after the model's day), so the
 * two agree; the prior itself is a per-bin score learned after training ({@code ReengagementCalibration}).
 */
public final class PopularityPrior {
    /** Number of bins: up to 2^22 positives per pin in the window get a bin of their own. */
    public static final int BINS = 24;

    public static final String POSITIVES = "positives";
    public static final String BIN = "popularity_bin";
    /** The score serving adds to a pin's dot product. */
    public static final String PRIOR = "prior";

    private PopularityPrior() {}

    /**
     * (pin_id, positives, popularity_bin) for every pin of {@code pins}, counting the positives of {@code examples}
     * (training_examples: ds, pin_id, task) with ds in {@code [day − windowDays, day − 1]}.
     */
    public static Dataset<Row> bins(Dataset<Row> pins, Dataset<Row> examples, LocalDate day, int windowDays) {
        if (windowDays < 1) {
            throw new IllegalArgumentException("popularity window of " + windowDays + " days: expected at least 1");
        }
        Dataset<Row> counts = examples.filter(col(RawTables.DS)
                        .between(
                                day.minusDays(windowDays).toString(),
                                day.minusDays(1).toString())
                        .and(col("task").isin(RecallMetrics.POSITIVE_TASKS.toArray())))
                .groupBy("pin_id")
                .agg(count(lit(1)).as(POSITIVES));
        return pins.select("pin_id")
                .distinct()
                .join(counts, new String[] {"pin_id"}, "left")
                .select(col("pin_id"), coalesce(col(POSITIVES), lit(0L)).as(POSITIVES))
                .withColumn(BIN, bin(col(POSITIVES)));
    }

    /** The bin of a count of positives. */
    public static Column bin(Column positives) {
        return when(positives.leq(0), lit(0))
                .otherwise(
                        least(lit(BINS - 1), floor(log2(positives)).cast("int").plus(1)));
    }

    /**
     * {@code pinEmbeddings} (pin_id, embedding, ...) with the {@link #PRIOR} column: {@code prior[bin]} of the pin's
     * bin in {@code bins} ({@link #bins}); a pin without a row there gets bin 0's.
     */
    public static Dataset<Row> withPrior(Dataset<Row> pinEmbeddings, Dataset<Row> bins, float[] prior) {
        if (prior.length != BINS) {
            throw new IllegalArgumentException("a popularity prior of " + prior.length + " bins: expected " + BINS);
        }
        Column[] values = new Column[prior.length];
        for (int g = 0; g < prior.length; g++) {
            values[g] = lit(prior[g]);
        }
        return pinEmbeddings
                .join(bins.select("pin_id", BIN), new String[] {"pin_id"}, "left")
                .withColumn(
                        PRIOR,
                        element_at(array(values), coalesce(col(BIN), lit(0)).plus(1)))
                .drop(BIN);
    }
}
