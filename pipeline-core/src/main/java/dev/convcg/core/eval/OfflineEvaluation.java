package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The evaluator every model goes through: exact top-K retrieval over the active catalog for the users that have
 * held-out events, then {@link RecallMetrics}. Model names are those of metrics.json.
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

    private OfflineEvaluation() {}

    /**
     * Recall of an embedding model.
     *
     * @param queries       (user_id, [surface], embedding): per (user, surface) for a context-aware tower; without a
     *                      surface column one vector serves every surface
     * @param pinEmbeddings (pin_id, embedding); only pins of {@code catalog} are retrieved
     * @param catalog       the active catalog of day T: (pin_id, ...)
     * @param events        held-out events: (user_id, pin_id, surface, task, ...)
     */
    public static RecallMetrics.Result evaluate(Dataset<Row> queries, Dataset<Row> pinEmbeddings, Dataset<Row> catalog,
                                                Dataset<Row> events, EvaluationSettings s) {
        return evaluate(queries, pinEmbeddings, catalog, events, s, null);
    }

    /**
     * Recall of an embedding model whose history pins carry a re-engagement bias ({@link Reengagement}).
     *
     * @param history (user_id, pin_id, bonus) from {@link Reengagement#candidates}; null: no bias
     */
    public static RecallMetrics.Result evaluate(Dataset<Row> queries, Dataset<Row> pinEmbeddings, Dataset<Row> catalog,
                                                Dataset<Row> events, EvaluationSettings s, Dataset<Row> history) {
        Dataset<Row> evaluatedQueries = queries.join(events.select(USER_ID).distinct(), new String[] {USER_ID}, "left_semi");
        Dataset<Row> activePins = pinEmbeddings.join(catalog.select(PIN_ID).distinct(), new String[] {PIN_ID}, "left_semi");
        Dataset<Row> recommendations = TopKRetrieval.topK(evaluatedQueries, activePins, s.maxK(), s.queryBlockSize(), s.itemBlockSize());
        if (history != null) {
            recommendations = Reengagement.rescore(recommendations, evaluatedQueries, activePins, history, s.maxK());
        }
        return RecallMetrics.evaluate(events, recommendations, s.allKs(), s.intervals());
    }

    /** Recall of the popularity baseline (one list for everybody). */
    public static RecallMetrics.Result evaluatePopularity(Dataset<Row> training, Dataset<Row> catalog, Dataset<Row> events,
                                                         EvaluationSettings s) {
        return RecallMetrics.evaluate(events, Baselines.popularity(training, catalog, events, s.maxK()), s.allKs(), s.intervals());
    }

    /** Recall of the history baseline (each user's own recent positives per surface, {@link Baselines#history}). */
    public static RecallMetrics.Result evaluateHistory(Dataset<Row> training, Dataset<Row> events, EvaluationSettings s) {
        Dataset<Row> lists = Baselines.history(training.join(events.select(USER_ID).distinct(), new String[] {USER_ID},
                "left_semi"), s.maxK());
        return RecallMetrics.evaluate(events, lists, s.allKs(), s.intervals());
    }

    /** Recall of the history-then-popularity baseline ({@link Baselines#historyThenPopularity}). */
    public static RecallMetrics.Result evaluateHistoryThenPopularity(Dataset<Row> training, Dataset<Row> catalog,
                                                                     Dataset<Row> events, EvaluationSettings s) {
        Dataset<Row> lists = Baselines.historyThenPopularity(training, catalog, events, s.maxK());
        return RecallMetrics.evaluate(events, lists, s.allKs(), s.intervals());
    }
}
