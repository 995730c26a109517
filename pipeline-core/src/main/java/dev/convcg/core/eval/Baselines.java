package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import dev.convcg.core.eval.EvaluationSettings.AlsSettings;
import java.util.List;
import org.apache.spark.ml.feature.IndexToString;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The baselines the two-tower retriever is measured against, each as input to the same evaluator: popularity as one
 * ranked list for everybody, the user's own recent history as one list per (user, surface), that history filled up
 * with the popularity list (what a shop shows without a model), ALS and the simulator's
 * oracle as user and pin embeddings scored by dot product.
 */
public final class Baselines {
    private Baselines() {}

    /** User embeddings (user_id, embedding) and pin embeddings (pin_id, embedding) of a context-free model. */
    public record Embeddings(Dataset<Row> users, Dataset<Row> pins) {}

    /**
     * The {@code k} pins of the active catalog most converted in the training window, most first, ties by smaller
     * pin id (so never-converted pins fill the tail in pin-id order); the same list for every user.
     *
     * @param training training-window examples: (user_id, pin_id, task, ...)
     * @param catalog  the active catalog: (pin_id, ...)
     * @param users    the users to recommend to: (user_id, ...)
     * @return (user_id, pin_ids array&lt;long&gt;)
     */
    public static Dataset<Row> popularity(Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> users, int k) {
        return users.select(USER_ID).distinct().withColumn(PIN_IDS, pinList(mostConverted(training, catalog, k)));
    }

    /**
     * What a shop shows without any model: the user's own history list ({@link #history}) for the surface, then the
     * most converted pins ({@link #popularity}) it does not hold, cut to {@code k}; a (user, surface) without history
     * gets the popularity list.
     *
     * @param training the whole training window's examples (popularity counts every user's conversions)
     * @param queries  the (user_id, surface) pairs to recommend to, and possibly more columns
     * @return (user_id, surface, pin_ids array&lt;long&gt;)
     */
    public static Dataset<Row> historyThenPopularity(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> queries, int k) {
        Dataset<Row> queried = queries.select(USER_ID, SURFACE).distinct();
        Dataset<Row> histories =
                history(training.join(queried.select(USER_ID).distinct(), new String[] {USER_ID}, "left_semi"), k);
        return historyThen(histories, popularityPerQuery(training, catalog, queried, k), k);
    }

    /** The {@link #popularity} list for every (user_id, surface) of {@code queries}. */
    public static Dataset<Row> popularityPerQuery(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> queries, int k) {
        return queries.select(USER_ID, SURFACE)
                .distinct()
                .withColumn(PIN_IDS, pinList(mostConverted(training, catalog, k)));
    }

    /**
     * A blend of the history candidate source with another source's lists: per (user, surface) the user's own history
     * list first, then the pins of {@code lists} it does not hold, cut to {@code k}; a (user, surface) without history
     * keeps its list. It has no parameter to tune: the history list takes the slots it fills.
     *
     * @param histories the {@link #history} lists, for at least the users of {@code lists} (computed once, they serve
     *                  every blend of an evaluation)
     * @param lists     (user_id, surface, pin_ids array&lt;long&gt;): the other source's lists, best first
     * @return (user_id, surface, pin_ids array&lt;long&gt;) for every row of {@code lists}
     */
    public static Dataset<Row> historyThen(Dataset<Row> histories, Dataset<Row> lists, int k) {
        String historyPins = "history_" + PIN_IDS;
        return lists.join(histories.withColumnRenamed(PIN_IDS, historyPins), new String[] {USER_ID, SURFACE}, "left")
                .select(
                        col(USER_ID),
                        col(SURFACE),
                        slice(
                                        array_distinct(concat(
                                                coalesce(col(historyPins), array().cast("array<bigint>")),
                                                col(PIN_IDS))),
                                        1,
                                        k)
                                .as(PIN_IDS));
    }

    /** The {@code k} catalog pins most converted in the training window, most first, ties by smaller pin id. */
    private static Long[] mostConverted(Dataset<Row> training, Dataset<Row> catalog, int k) {
        Dataset<Row> conversions = training.filter(col(RecallMetrics.TASK).equalTo("CONVERSION"))
                .groupBy(PIN_ID)
                .agg(count(lit(1)).as("conversions"));
        List<Row> top = catalog.select(PIN_ID)
                .distinct()
                .join(conversions, new String[] {PIN_ID}, "left")
                .na()
                .fill(0L, new String[] {"conversions"})
                .orderBy(col("conversions").desc(), col(PIN_ID).asc())
                .limit(k)
                .collectAsList();
        return top.stream().map(r -> r.getLong(0)).toArray(Long[]::new);
    }

    /**
     * The user's own recent positives, per surface: the pins the user engaged with or converted on in the training
     * window, most recently first, ties by the number of such events (more first), then by smaller pin id; at most
     * {@code k}, and no fill, so a list ends where the user's history ends. It measures how much of the outcome is
     * plain re-engagement. Held-out events of a (user, surface) without history are misses.
     *
     * @param training training-window examples: (user_id, pin_id, surface, task, event_ts, ...)
     * @return (user_id, surface, pin_ids array&lt;long&gt;)
     */
    public static Dataset<Row> history(Dataset<Row> training, int k) {
        Dataset<Row> perPin = training.filter(col(RecallMetrics.TASK).isin(RecallMetrics.POSITIVE_TASKS.toArray()))
                .groupBy(USER_ID, SURFACE, PIN_ID)
                .agg(max("event_ts").as("last_ts"), count(lit(1)).as("events"));
        Dataset<Row> ranked = perPin.withColumn(
                        "_rank",
                        row_number()
                                .over(Window.partitionBy(USER_ID, SURFACE)
                                        .orderBy(
                                                col("last_ts").desc(),
                                                col("events").desc(),
                                                col(PIN_ID).asc())))
                .filter(col("_rank").leq(k));
        return ranked.groupBy(USER_ID, SURFACE)
                .agg(transform(sort_array(collect_list(struct(col("_rank"), col(PIN_ID)))), x -> x.getField(PIN_ID))
                        .as(PIN_IDS));
    }

    private static Column pinList(Long[] pins) {
        return lit(pins).cast("array<bigint>");
    }

    /**
     * Implicit-feedback ALS (MLlib) on the training window's positives: the preference of (user, pin) is its number
     * of engagements plus {@code conversionWeight} per conversion. Ids are re-indexed to ints with
     * {@link StringIndexer} and mapped back. Pins never engaged with in the window get no embedding, so ALS can
     * never retrieve them.
     *
     * @param training training-window examples: (user_id, pin_id, task, ...); tasks other than CONVERSION and
     *                 ENGAGEMENT (hard negatives) are ignored
     */
    public static Embeddings als(Dataset<Row> training, AlsSettings s) {
        Dataset<Row> preferences = training.filter(col(RecallMetrics.TASK).isin(RecallMetrics.POSITIVE_TASKS.toArray()))
                .groupBy(USER_ID, PIN_ID)
                .agg(sum(when(col(RecallMetrics.TASK).equalTo("CONVERSION"), s.conversionWeight())
                                .otherwise(1.0))
                        .as("preference"));
        StringIndexerModel indexer = new StringIndexer()
                .setInputCols(new String[] {USER_ID, PIN_ID})
                .setOutputCols(new String[] {"user_index", "pin_index"})
                .setStringOrderType("alphabetAsc")
                .fit(preferences);
        Dataset<Row> indexed = indexer.transform(preferences).cache();
        try {
            ALSModel model = new ALS()
                    .setImplicitPrefs(true)
                    .setRank(s.rank())
                    .setRegParam(s.regParam())
                    .setAlpha(s.alpha())
                    .setMaxIter(s.iterations())
                    .setSeed(s.seed())
                    .setUserCol("user_index")
                    .setItemCol("pin_index")
                    .setRatingCol("preference")
                    .fit(indexed);
            Dataset<Row> users = backToIds(model.userFactors(), indexer.labelsArray()[0], USER_ID);
            Dataset<Row> pins = backToIds(model.itemFactors(), indexer.labelsArray()[1], PIN_ID);
            return new Embeddings(users.localCheckpoint(), pins.localCheckpoint());
        } finally {
            indexed.unpersist();
        }
    }

    private static Dataset<Row> backToIds(Dataset<Row> factors, String[] labels, String idColumn) {
        Dataset<Row> withIndex = factors.withColumn("index", col("id").cast("double"));
        return new IndexToString()
                .setInputCol("index")
                .setOutputCol("label")
                .setLabels(labels)
                .transform(withIndex)
                .select(
                        col("label").cast("bigint").as(idColumn),
                        col("features").as(EMBEDDING));
    }

    /**
     * The ceiling on simulated data: ranking by the true conversion logit
     * {@code intent_weight · intent·topic + conversion_bias}, written as the dot product of
     * {@code [intent_weight · intent, 1]} and {@code [topic, conversion_bias]} (the sigmoid keeps the order).
     *
     * @param truthUsers the simulator's truth_users table
     * @param truthPins  the simulator's truth_pins table
     */
    public static Embeddings oracle(Dataset<Row> truthUsers, Dataset<Row> truthPins) {
        Dataset<Row> users = truthUsers.select(
                col(USER_ID),
                concat(
                                transform(col("intent"), x -> x.multiply(col("intent_weight")))
                                        .cast("array<float>"),
                                array(lit(1.0f)))
                        .as(EMBEDDING));
        Dataset<Row> pins = truthPins.select(
                col(PIN_ID),
                concat(col("topic"), array(col("conversion_bias").cast("float")))
                        .as(EMBEDDING));
        return new Embeddings(users, pins);
    }
}
