package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Serving side of the model's re-engagement bias (docs/model.md): a pin in the user's own history sequences scores
 * {@code u·p + Σ_s β_s[bucket(position)]}, every other pin {@code u·p}. The embedding top-K cannot see the bias,
 * so the history pins are scored apart and merged into each query's list. The result is the exact top-K of the
 * biased score whenever every bias is at least 0 (a negative bias can only demote a pin the list already holds).
 */
public final class Reengagement {
    /** Bias in score units of a (user, pin). */
    public static final String BONUS = "bonus";

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
    public record Bias(List<String> sequences, float[] bias, int slots, int[] positionEdges)
            implements Serializable {
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
     * @return (user_id, pin_id, bonus float)
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
            Dataset<Row> one = userFeatures.select(col(USER_ID), posexplode(col(b.sequences().get(s))).as(new String[] {"pos", PIN_ID}))
                    .groupBy(USER_ID, PIN_ID).agg(min("pos").as("pos"))
                    .select(col(USER_ID), col(PIN_ID), element_at(lit(values).cast("array<float>"), slot.plus(1)).as(BONUS));
            all = all == null ? one : all.unionByName(one);
        }
        return all.groupBy(USER_ID, PIN_ID).agg(sum(BONUS).cast("float").as(BONUS));
    }

    /**
     * Merges the history pins into each query's top-K list.
     *
     * @param topK       (user_id, [surface], pin_ids, scores) from {@link TopKRetrieval#topK}
     * @param queries    the queries it was computed from: (user_id, [surface], embedding)
     * @param pins       the retrievable pins: (pin_id, embedding)
     * @param candidates (user_id, pin_id, bonus) from {@link #candidates}
     * @return topK's schema, each list re-ranked by the biased score and cut to {@code k}
     */
    public static Dataset<Row> rescore(Dataset<Row> topK, Dataset<Row> queries, Dataset<Row> pins,
                                       Dataset<Row> candidates, int k) {
        boolean bySurface = Arrays.asList(topK.columns()).contains(SURFACE);
        String[] keys = bySurface ? new String[] {USER_ID, SURFACE} : new String[] {USER_ID};
        Dataset<Row> history = candidates.join(queries.withColumnRenamed(EMBEDDING, "_u"), USER_ID)
                .join(pins.withColumnRenamed(EMBEDDING, "_p"), PIN_ID)
                .withColumn("_score", aggregate(zip_with(col("_u"), col("_p"), (x, y) -> x.multiply(y)), lit(0.0),
                        (acc, x) -> acc.plus(x)).plus(col(BONUS)).cast("float"))
                .groupBy(Arrays.stream(keys).map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
                .agg(collect_list(PIN_ID).as("_h_pins"), collect_list("_score").as("_h_scores"));
        Dataset<Row> joined = topK.join(history, keys, "left");
        int n = keys.length;
        return joined.map((MapFunction<Row, Row>) r -> {
            List<Long> pinIds = r.getList(n);
            List<Float> scores = r.getList(n + 1);
            List<Long> hPins = r.isNullAt(n + 2) ? List.of() : r.getList(n + 2);
            List<Float> hScores = r.isNullAt(n + 3) ? List.of() : r.getList(n + 3);
            Object[] out = new Object[n + 2];
            for (int i = 0; i < n; i++) {
                out[i] = r.get(i);
            }
            Ranked merged = merge(pinIds, scores, hPins, hScores, k);
            out[n] = merged.pins().stream().mapToLong(Long::longValue).toArray();
            float[] f = new float[merged.scores().size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = merged.scores().get(i);
            }
            out[n + 1] = f;
            return RowFactory.create(out);
        }, Encoders.row(topK.schema()));
    }

    /** A ranked list. */
    record Ranked(List<Long> pins, List<Float> scores) {}

    /**
     * The list with every history pin at its history score (replacing its embedding score), ordered by score, higher
     * first, then by smaller pin id, cut to {@code k}.
     */
    static Ranked merge(List<Long> pins, List<Float> scores, List<Long> hPins, List<Float> hScores, int k) {
        Map<Long, Float> score = new HashMap<>(pins.size() + hPins.size());
        for (int i = 0; i < pins.size(); i++) {
            score.put(pins.get(i), scores.get(i));
        }
        for (int i = 0; i < hPins.size(); i++) {
            score.put(hPins.get(i), hScores.get(i));
        }
        List<Map.Entry<Long, Float>> entries = new ArrayList<>(score.entrySet());
        entries.sort((a, b) -> a.getValue().equals(b.getValue()) ? Long.compare(a.getKey(), b.getKey())
                : Float.compare(b.getValue(), a.getValue()));
        int kept = Math.min(k, entries.size());
        List<Long> outPins = new ArrayList<>(kept);
        List<Float> outScores = new ArrayList<>(kept);
        for (int i = 0; i < kept; i++) {
            outPins.add(entries.get(i).getKey());
            outScores.add(entries.get(i).getValue());
        }
        return new Ranked(outPins, outScores);
    }
}
