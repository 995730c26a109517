package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.RankingMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Recall of ranked recommendations against held-out positive events, per task (conversion, engagement), per surface
 * and over all surfaces, at several cut-offs K. Two metrics:
 * <ul>
 *   <li>event hit rate: the share of held-out events whose pin is in the top K of the event's own (user, surface)
 *       query; every event counts, repeats included;</li>
 *   <li>user recall: per user, the share of their distinct positives ((surface, pin) pairs) in those top Ks,
 *       averaged over users; per surface this is MLlib's {@code RankingMetrics.recallAt} (see
 *       {@link #mllibUserRecall}).</li>
 * </ul>
 * Events of a (user, surface) without recommendations (no query embedding) are misses, and are counted in
 * {@link Coverage}, never dropped.
 */
public final class RecallMetrics {
    public static final String TASK = "task";
    public static final String ALL_SURFACES = "all";
    /** Held-out positive tasks; other rows of an events table (hard negatives) are ignored. */
    public static final List<String> POSITIVE_TASKS = List.of("CONVERSION", "ENGAGEMENT");

    private static final String RANK = "rank";
    private static final String HAS_QUERY = "has_query";
    private static final String GROUP = "surface_group";

    private RecallMetrics() {}

    /** The two metrics, with the names metrics.json uses. */
    public enum Metric {
        EVENT_HIT_RATE, USER_RECALL;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One figure: recall at {@code k} of a metric for a task ("conversion", "engagement") and a surface ("all",
     * "home_feed", "related_pins", "search"); {@code users} and {@code events} are the held-out users and events
     * it was computed over.
     */
    public record Recall(String task, String surface, int k, Metric metric, double recall, long users, long events) {}

    /** Held-out users and events of a (task, surface), and how many of them had no query embedding (all misses). */
    public record Coverage(String task, String surface, long users, long events, long usersWithoutQuery,
                           long eventsWithoutQuery) {}

    /** All figures of one model. */
    public record Result(List<Recall> recalls, List<Coverage> coverage) {
        /** The figure for (task, surface, k, metric); fails when it was not computed. */
        public Recall get(String task, String surface, int k, Metric metric) {
            return recalls.stream().filter(r -> r.task.equals(task) && r.surface.equals(surface) && r.k == k
                    && r.metric == metric).findFirst().orElseThrow(() -> new IllegalArgumentException(
                            "no recall for " + task + "/" + surface + "@" + k + " " + metric));
        }
    }

    /**
     * Recall at every {@code ks} of {@code recommendations} against {@code events}.
     *
     * @param events          at least (user_id long, pin_id long, surface string, task string)
     * @param recommendations (user_id long, [surface string], pin_ids array&lt;long&gt;) ranked best first, at least
     *                        max(ks) long; without a surface column a user's list serves every surface
     */
    public static Result evaluate(Dataset<Row> events, Dataset<Row> recommendations, List<Integer> ks) {
        Dataset<Row> judged = judge(events, recommendations)
                .withColumn(TASK, lower(col(TASK)))
                .withColumn(GROUP, explode(array(lower(col(SURFACE)), lit(ALL_SURFACES))))
                .cache();
        try {
            List<Column> eventAggs = new ArrayList<>(List.of(
                    count(lit(1)).as("events"),
                    countDistinct(col(USER_ID)).as("users"),
                    sum(when(col(HAS_QUERY), 0).otherwise(1)).as("events_without_query"),
                    countDistinct(when(not(col(HAS_QUERY)), col(USER_ID))).as("users_without_query")));
            List<Column> positiveAggs = new ArrayList<>();
            List<Column> userAggs = new ArrayList<>();
            List<Column> groupAggs = new ArrayList<>();
            for (int k : ks) {
                Column hit = when(col(RANK).between(1, k), 1.0).otherwise(0.0);
                eventAggs.add(avg(hit).as("hit_" + k));
                positiveAggs.add(max(hit).as("hit_" + k));
                userAggs.add(avg(col("hit_" + k)).as("hit_" + k));
                groupAggs.add(avg(col("hit_" + k)).as("user_recall_" + k));
            }
            Dataset<Row> byEvent = judged.groupBy(TASK, GROUP).agg(headOf(eventAggs), tailOf(eventAggs));
            Dataset<Row> byUser = judged.groupBy(TASK, GROUP, USER_ID, SURFACE, PIN_ID).agg(headOf(positiveAggs), tailOf(positiveAggs))
                    .groupBy(TASK, GROUP, USER_ID).agg(headOf(userAggs), tailOf(userAggs))
                    .groupBy(TASK, GROUP).agg(headOf(groupAggs), tailOf(groupAggs));
            List<Recall> recalls = new ArrayList<>();
            List<Coverage> coverage = new ArrayList<>();
            for (Row r : byEvent.join(byUser, new String[] {TASK, GROUP}).collectAsList()) {
                String task = r.getAs(TASK), surface = r.getAs(GROUP);
                long users = r.getAs("users"), n = r.getAs("events");
                coverage.add(new Coverage(task, surface, users, n, r.<Long>getAs("users_without_query"),
                        r.<Long>getAs("events_without_query")));
                for (int k : ks) {
                    recalls.add(new Recall(task, surface, k, Metric.EVENT_HIT_RATE, r.<Double>getAs("hit_" + k), users, n));
                    recalls.add(new Recall(task, surface, k, Metric.USER_RECALL, r.<Double>getAs("user_recall_" + k), users, n));
                }
            }
            recalls.sort(Comparator.comparing(Recall::task).thenComparing(Recall::surface).thenComparing(Recall::metric)
                    .thenComparingInt(Recall::k));
            coverage.sort(Comparator.comparing(Coverage::task).thenComparing(Coverage::surface));
            return new Result(List.copyOf(recalls), List.copyOf(coverage));
        } finally {
            judged.unpersist();
        }
    }

    /**
     * User recall at {@code k} of one task and surface (a {@link dev.convcg.core.schema.Surface} name) computed by
     * MLlib's {@link RankingMetrics#recallAt}: a cross-check of {@link #evaluate}. Users without recommendations get
     * an empty prediction.
     */
    public static double mllibUserRecall(Dataset<Row> events, Dataset<Row> recommendations, String task, String surface, int k) {
        Dataset<Row> labels = events.filter(col(TASK).equalTo(task).and(col(SURFACE).equalTo(surface)))
                .groupBy(USER_ID, SURFACE).agg(collect_set(PIN_ID).as("labels"));
        boolean bySurface = Arrays.asList(recommendations.columns()).contains(SURFACE);
        String[] keys = bySurface ? new String[] {USER_ID, SURFACE} : new String[] {USER_ID};
        Dataset<Row> joined = labels.join(recommendations.select(bySurface
                ? new Column[] {col(USER_ID), col(SURFACE), col(PIN_IDS)}
                : new Column[] {col(USER_ID), col(PIN_IDS)}), keys, "left");
        JavaRDD<Tuple2<List<Long>, List<Long>>> pairs = joined.select(col(PIN_IDS), col("labels")).javaRDD()
                .map(r -> new Tuple2<>(r.isNullAt(0) ? List.<Long>of() : r.<Long>getList(0), r.<Long>getList(1)));
        return RankingMetrics.of(pairs).recallAt(k);
    }

    /** Each event with the 1-based rank of its pin in its query's list (0: not retrieved) and whether it had one. */
    static Dataset<Row> judge(Dataset<Row> events, Dataset<Row> recommendations) {
        boolean bySurface = Arrays.asList(recommendations.columns()).contains(SURFACE);
        String[] keys = bySurface ? new String[] {USER_ID, SURFACE} : new String[] {USER_ID};
        List<Column> recColumns = new ArrayList<>();
        for (String key : keys) {
            recColumns.add(col(key));
        }
        recColumns.add(col(PIN_IDS));
        Dataset<Row> lists = recommendations.select(recColumns.toArray(Column[]::new));
        return events.filter(col(TASK).isin(POSITIVE_TASKS.toArray()))
                .select(USER_ID, PIN_ID, SURFACE, TASK)
                .join(lists, keys, "left")
                .select(col(USER_ID), col(PIN_ID), col(SURFACE), col(TASK),
                        coalesce(array_position(col(PIN_IDS), col(PIN_ID)), lit(0L)).as(RANK),
                        col(PIN_IDS).isNotNull().as(HAS_QUERY));
    }

    private static Column headOf(List<Column> aggs) {
        return aggs.get(0);
    }

    private static Column[] tailOf(List<Column> aggs) {
        return aggs.subList(1, aggs.size()).toArray(Column[]::new);
    }
}
