package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Serving side of the model's re-engagement bias (docs/model.md): a pin in the user's own history sequences scores
 * {@code u·p + Σ_s β_s[bucket(position)]}, every other pin {@code u·p}. {@link #candidates} turns the user's
 * sequences into one bonus per (user, history pin), which {@link TopKRetrieval} adds inside its scan, so the lists
 * are the exact top-K of the biased score.
 */
public final class Reengagement {
    private Reengagement() {}

    /**
     * The learned biases as the model reports them.
     *
     * @param sequences     user_features columns of pin ids, most recent first, in the model's order
     * @param bias          {@code slots} biases per sequence, in score units; slot 0 (not in the sequence) is 0
     * @param slots         bias slots per sequence
     * @param positionEdges exclusive upper bounds of the position buckets 1 .. edges.length; positions at or past the
     *                      last edge fall in the last slot
     */
    public record Bias(List<String> sequences, float[] bias, int slots, int[] positionEdges) implements Serializable {
        public Bias {
            sequences = List.copyOf(sequences);
            if (bias.length != slots * sequences.size()) {
                throw new IllegalArgumentException("re-engagement bias has " + bias.length + " values; expected "
                        + slots + " per sequence of " + sequences);
            }
        }
    }

    /**
     * Each pin of each user's history sequences with its bias in score units.
     *
     * @param userFeatures one snapshot of user_features: (user_id, the sequence columns, ...)
     * @return (user_id, pin_id, bonus float), the bonuses of {@link TopKRetrieval#topK(Dataset, Dataset, int, int,
     *         int, Dataset, BlockScorer)}
     */
    public static Dataset<Row> candidates(Dataset<Row> userFeatures, Bias b) {
        Dataset<Row> all = null;
        for (int s = 0; s < b.sequences().size(); s++) {
            Column slot = lit(1);
            for (int edge : b.positionEdges()) {
                slot = slot.plus(when(col("pos").geq(edge), 1).otherwise(0));
            }
            Float[] values = new Float[b.slots()];
            for (int i = 0; i < b.slots(); i++) {
                values[i] = b.bias()[s * b.slots() + i];
            }
            Dataset<Row> one = userFeatures
                    .select(col(USER_ID), posexplode(col(b.sequences().get(s))).as(new String[] {"pos", PIN_ID}))
                    .groupBy(USER_ID, PIN_ID)
                    .agg(min("pos").as("pos"))
                    .select(
                            col(USER_ID),
                            col(PIN_ID),
                            element_at(lit(values).cast("array<float>"), slot.plus(1))
                                    .as(BONUS));
            all = all == null ? one : all.unionByName(one);
        }
        return all.groupBy(USER_ID, PIN_ID).agg(sum(BONUS).cast("float").as(BONUS));
    }
}
