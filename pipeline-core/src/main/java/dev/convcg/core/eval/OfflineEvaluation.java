package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The evaluator every model goes through: each model's ranked lists for the users that have held-out events (exact
 * top-K retrieval over the active catalog for embedding models), then {@link #score}: {@link RecallMetrics} against
 * the held-out events and, on simulated data, the exposure-free recall against the true-propensity lists. Model names
 * are those of metrics.json.
 */
public final class OfflineEvaluation {
    public static final String TWO_TOWER = "two_tower";
    /** The click-trained two-tower this project replaces; evaluated through {@link #evaluate} once its embeddings exist. */
    public static final String ENGAGEMENT_ONLY = "engagement_only";

    public static final String POPULARITY = "popularity";
    public static final String ALS = "als";
    public static final String ORACLE = "oracle";
    public static final String HISTORY = "history";
    public static final String HISTORY_POPULARITY = "history_popularity";
    /** The history source blended with the two-tower: the user's own recent pins, then the two-tower's candidates. */
    public static final String HISTORY_TWO_TOWER = "history_two_tower";

    private OfflineEvaluation() {}

    /**
     * Recall of ranked lists: against the held-out {@code events}, and, when {@code truthLists} is given, against the
     * top pins by true conversion propensity ({@link RecallMetrics#truthRecall}). The lists are cached while both run,
     * unless the caller cached them, whose cache is then left as it is.
     */
    public static RecallMetrics.Result score(
            Dataset<Row> events, Dataset<Row> lists, EvaluationSettings s, Dataset<Row> truthLists) {
        if (truthLists == null) {
            return RecallMetrics.evaluate(events, lists, s.allKs(), s.intervals());
        }
        boolean cachedByCaller = !lists.storageLevel().equals(StorageLevel.NONE());
        Dataset<Row> cached = cachedByCaller ? lists : lists.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            RecallMetrics.Result r = RecallMetrics.evaluate(events, cached, s.allKs(), s.intervals());
            List<RecallMetrics.Recall> all = new ArrayList<>(r.recalls());
            all.addAll(RecallMetrics.truthRecall(cached, truthLists, s.allKs()));
            return new RecallMetrics.Result(List.copyOf(all), r.coverage(), r.replicates(), r.level());
        } finally {
            if (!cachedByCaller) {
                cached.unpersist();
            }
        }
    }

    /**
     * Lists of an embedding model: the exact top {@code s.maxK()} of the catalog's pins for the queries of the users
     * with held-out events, with the re-engagement bias added to the user's history pins when given.
     *
     * @param queries       (user_id, [surface], embedding): per (user, surface) for a context-aware tower; without a
     *                      surface column one vector serves every surface
     * @param pinEmbeddings (pin_id, embedding, [prior]); only pins of {@code catalog} are retrieved. With a
     *                      {@link PopularityPrior#PRIOR} column each pin's score is {@code u·p + prior}: the top-K
     *                      scores {@code [u, 1]·[p, prior]}
     * @param catalog       the active catalog of day T: (pin_id, ...)
     * @param events        held-out events: (user_id, pin_id, surface, task, ...)
     * @param history       (user_id, pin_id, bonus) from {@link Reengagement#candidates}; null: no bias
     * @param scorer        the block product of the top-K
     */
    public static Dataset<Row> embeddingLists(
            Dataset<Row> queries,
            Dataset<Row> pinEmbeddings,
            Dataset<Row> catalog,
            Dataset<Row> events,
            EvaluationSettings s,
            Dataset<Row> history,
            BlockScorer scorer) {
        Dataset<Row> evaluatedQueries =
                queries.join(events.select(USER_ID).distinct(), new String[] {USER_ID}, "left_semi");
        Dataset<Row> activePins =
                pinEmbeddings.join(catalog.select(PIN_ID).distinct(), new String[] {PIN_ID}, "left_semi");
        if (Arrays.asList(pinEmbeddings.columns()).contains(PopularityPrior.PRIOR)) {
            evaluatedQueries = evaluatedQueries.withColumn(EMBEDDING, concat(col(EMBEDDING), array(lit(1f))));
            activePins = activePins
                    .withColumn(
                            EMBEDDING,
                            concat(
                                    col(EMBEDDING),
                                    array(col(PopularityPrior.PRIOR).cast("float"))))
                    .select(PIN_ID, EMBEDDING);
        }
        return TopKRetrieval.topK(
                evaluatedQueries, activePins, s.maxK(), s.queryBlockSize(), s.itemBlockSize(), history, scorer);
    }

    /** Lists of the popularity baseline (one list for everybody). */
    public static Dataset<Row> popularityLists(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> events, EvaluationSettings s) {
        return Baselines.popularity(training, catalog, events, s.maxK());
    }

    /** Lists of the history baseline (each user's own recent positives per surface, {@link Baselines#history}). */
    public static Dataset<Row> historyLists(Dataset<Row> training, Dataset<Row> events, EvaluationSettings s) {
        return Baselines.history(
                training.join(events.select(USER_ID).distinct(), new String[] {USER_ID}, "left_semi"), s.maxK());
    }

    /** Lists of the history-then-popularity baseline ({@link Baselines#historyThenPopularity}). */
    public static Dataset<Row> historyThenPopularityLists(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> events, EvaluationSettings s) {
        return Baselines.historyThenPopularity(training, catalog, events, s.maxK());
    }

    /** Recall of an embedding model against the held-out events ({@link #embeddingLists}, {@link #score}). */
    public static RecallMetrics.Result evaluate(
            Dataset<Row> queries,
            Dataset<Row> pinEmbeddings,
            Dataset<Row> catalog,
            Dataset<Row> events,
            EvaluationSettings s) {
        return evaluate(queries, pinEmbeddings, catalog, events, s, null);
    }

    /** Recall of an embedding model whose history pins carry a re-engagement bias ({@link Reengagement}). */
    public static RecallMetrics.Result evaluate(
            Dataset<Row> queries,
            Dataset<Row> pinEmbeddings,
            Dataset<Row> catalog,
            Dataset<Row> events,
            EvaluationSettings s,
            Dataset<Row> history) {
        return score(
                events,
                embeddingLists(queries, pinEmbeddings, catalog, events, s, history, BlockScorer.BLAS_SGEMM),
                s,
                null);
    }

    /** Recall of the popularity baseline. */
    public static RecallMetrics.Result evaluatePopularity(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> events, EvaluationSettings s) {
        return score(events, popularityLists(training, catalog, events, s), s, null);
    }

    /** Recall of the history baseline. */
    public static RecallMetrics.Result evaluateHistory(
            Dataset<Row> training, Dataset<Row> events, EvaluationSettings s) {
        return score(events, historyLists(training, events, s), s, null);
    }

    /** Recall of the history-then-popularity baseline. */
    public static RecallMetrics.Result evaluateHistoryThenPopularity(
            Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> events, EvaluationSettings s) {
        return score(events, historyThenPopularityLists(training, catalog, events, s), s, null);
    }
}
