package dev.convcg.core.eval;

import static dev.convcg.core.eval.TopKRetrieval.*;
import static org.apache.spark.sql.functions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
 * {@link Coverage}, never dropped. Each figure can carry a bootstrap interval over users ({@link Bootstrap}), and two
 * models' figures a paired interval of their relative difference ({@link Result#liftOver}).
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

    /**
     * The metrics, with the names metrics.json uses: two against held-out events, and, on simulated data, the
     * exposure-free recall against the true-propensity lists ({@link #truthRecall}).
     */
    public enum Metric {
        EVENT_HIT_RATE,
        USER_RECALL,
        TRUE_PROPENSITY_RECALL;

        /** The metrics judged against held-out events. */
        public static final List<Metric> HELD_OUT = List.of(EVENT_HIT_RATE, USER_RECALL);

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
    public record Coverage(
            String task, String surface, long users, long events, long usersWithoutQuery, long eventsWithoutQuery) {}

    /**
     * All figures of one model. {@code replicates} holds, per figure ({@link #figure}), the bootstrap replicates over
     * users ({@link Bootstrap}; empty when no interval was asked for), resampled identically for every model
     * evaluated on the same events, so that two models' replicates pair up.
     */
    public record Result(
            List<Recall> recalls, List<Coverage> coverage, Map<String, double[]> replicates, double level) {
        public Result(List<Recall> recalls, List<Coverage> coverage) {
            this(recalls, coverage, Map.of(), 0.95);
        }

        /** The figure for (task, surface, k, metric); fails when it was not computed. */
        public Recall get(String task, String surface, int k, Metric metric) {
            return recalls.stream()
                    .filter(r -> r.task.equals(task) && r.surface.equals(surface) && r.k == k && r.metric == metric)
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "no recall for " + task + "/" + surface + "@" + k + " " + metric));
        }

        /** The bootstrap interval of a figure; empty when intervals were not computed. */
        public Optional<Bootstrap.Interval> interval(String task, String surface, int k, Metric metric) {
            double[] r = replicates.get(figure(task, surface, k, metric));
            return r == null ? Optional.empty() : Optional.of(Bootstrap.percentile(r, level));
        }

        /**
         * This model's figure relative to {@code reference}'s on the same events ({@code this / reference - 1}), with
         * the paired bootstrap interval; empty when either lacks replicates.
         */
        public Optional<Lift> liftOver(Result reference, String task, String surface, int k, Metric metric) {
            String f = figure(task, surface, k, metric);
            double[] a = replicates.get(f);
            double[] b = reference.replicates.get(f);
            if (a == null || b == null || a.length != b.length) {
                return Optional.empty();
            }
            double base = reference.get(task, surface, k, metric).recall();
            double lift = base == 0 ? Double.NaN : get(task, surface, k, metric).recall() / base - 1;
            return Optional.of(new Lift(lift, Bootstrap.percentile(Bootstrap.relativeDifference(a, b), level)));
        }
    }

    /** A relative difference between two models' figures with its paired interval. */
    public record Lift(double lift, Bootstrap.Interval interval) {}

    /** The key of one figure in {@link Result#replicates}. */
    public static String figure(String task, String surface, int k, Metric metric) {
        return task + "/" + surface + "/" + k + "/" + metric.label();
    }

    /** Recall at every {@code ks} of {@code recommendations} against {@code events}, without intervals. */
    public static Result evaluate(Dataset<Row> events, Dataset<Row> recommendations, List<Integer> ks) {
        return evaluate(events, recommendations, ks, Bootstrap.Settings.NONE);
    }

    /**
     * Recall at every {@code ks} of {@code recommendations} against {@code events}, with bootstrap intervals over
     * users as {@code intervals} says. One Spark job sums each user's events and hits per (task, surface group);
     * the figures and their replicates are computed from those per-user sums on the driver.
     *
     * @param events          at least (user_id long, pin_id long, surface string, task string)
     * @param recommendations (user_id long, [surface string], pin_ids array&lt;long&gt;) ranked best first, at least
     *                        max(ks) long; without a surface column a user's list serves every surface
     */
    public static Result evaluate(
            Dataset<Row> events, Dataset<Row> recommendations, List<Integer> ks, Bootstrap.Settings intervals) {
        Dataset<Row> judged = judge(events, recommendations)
                .withColumn(TASK, lower(col(TASK)))
                .withColumn(GROUP, explode(array(lower(col(SURFACE)), lit(ALL_SURFACES))));
        List<Column> positiveAggs = new ArrayList<>(List.of(
                count(lit(1)).as("events"),
                sum(when(col(HAS_QUERY), 0L).otherwise(1L)).as("events_without_query")));
        List<Column> userAggs = new ArrayList<>(List.of(
                sum(col("events")).as("events"),
                sum(col("events_without_query")).as("events_without_query")));
        for (int k : ks) {
            Column hit = when(col(RANK).between(1, k), 1.0).otherwise(0.0);
            positiveAggs.add(sum(hit).as("hits_" + k));
            positiveAggs.add(max(hit).as("found_" + k));
            userAggs.add(sum(col("hits_" + k)).as("hits_" + k));
            userAggs.add(avg(col("found_" + k)).as("recall_" + k));
        }
        List<Row> perUser = judged.groupBy(TASK, GROUP, USER_ID, SURFACE, PIN_ID)
                .agg(headOf(positiveAggs), tailOf(positiveAggs))
                .groupBy(TASK, GROUP, USER_ID)
                .agg(headOf(userAggs), tailOf(userAggs))
                .orderBy(TASK, GROUP, USER_ID)
                .collectAsList();
        List<Recall> recalls = new ArrayList<>();
        List<Coverage> coverage = new ArrayList<>();
        Map<String, double[]> replicates = new LinkedHashMap<>();
        int from = 0;
        while (from < perUser.size()) {
            String task = perUser.get(from).getAs(TASK),
                    surface = perUser.get(from).getAs(GROUP);
            int to = from;
            while (to < perUser.size()
                    && perUser.get(to).getAs(TASK).equals(task)
                    && perUser.get(to).getAs(GROUP).equals(surface)) {
                to++;
            }
            List<Row> users = perUser.subList(from, to);
            int n = users.size();
            double[] eventsOf = new double[n];
            double[] ones = new double[n];
            double[][] hits = new double[ks.size()][n];
            double[][] found = new double[ks.size()][n];
            long withoutQuery = 0, eventsWithoutQuery = 0;
            for (int u = 0; u < n; u++) {
                Row r = users.get(u);
                eventsOf[u] = r.<Long>getAs("events");
                ones[u] = 1;
                long nq = r.getAs("events_without_query");
                eventsWithoutQuery += nq;
                withoutQuery += nq > 0 ? 1 : 0;
                for (int i = 0; i < ks.size(); i++) {
                    hits[i][u] = r.<Double>getAs("hits_" + ks.get(i));
                    found[i][u] = r.<Double>getAs("recall_" + ks.get(i));
                }
            }
            long eventCount = Math.round(Arrays.stream(eventsOf).sum());
            coverage.add(new Coverage(task, surface, n, eventCount, withoutQuery, eventsWithoutQuery));
            for (int i = 0; i < ks.size(); i++) {
                int k = ks.get(i);
                recalls.add(new Recall(
                        task,
                        surface,
                        k,
                        Metric.EVENT_HIT_RATE,
                        Arrays.stream(hits[i]).sum() / eventCount,
                        n,
                        eventCount));
                recalls.add(new Recall(
                        task,
                        surface,
                        k,
                        Metric.USER_RECALL,
                        Arrays.stream(found[i]).sum() / n,
                        n,
                        eventCount));
            }
            if (intervals.replicates() > 0) {
                double[][] hitRate =
                        Bootstrap.ratioReplicates(hits, eventsOf, task + "/" + surface + "/events", intervals);
                double[][] userRecall =
                        Bootstrap.ratioReplicates(found, ones, task + "/" + surface + "/users", intervals);
                for (int i = 0; i < ks.size(); i++) {
                    replicates.put(figure(task, surface, ks.get(i), Metric.EVENT_HIT_RATE), hitRate[i]);
                    replicates.put(figure(task, surface, ks.get(i), Metric.USER_RECALL), userRecall[i]);
                }
            }
            from = to;
        }
        recalls.sort(Comparator.comparing(Recall::task)
                .thenComparing(Recall::surface)
                .thenComparing(Recall::metric)
                .thenComparingInt(Recall::k));
        coverage.sort(Comparator.comparing(Coverage::task).thenComparing(Coverage::surface));
        return new Result(List.copyOf(recalls), List.copyOf(coverage), replicates, intervals.level());
    }

    /**
     * Exposure-free recall at each of {@code ks}: per evaluated user (a row of {@code truthLists}), the share of the
     * user's top k pins by true conversion propensity that the model's top k holds, averaged over the user's queries
     * (a user, or a user and surface), 0 for a user the model has no list for; then averaged over users. It does not
     * depend on what the serving policy happened to show, so copying the policy earns nothing here; the
     * true-propensity ranking itself scores 1. Reported as task conversion, surface all, with {@code users} the users
     * and {@code events} the model's queries.
     *
     * @param lists      (user_id, [surface], pin_ids) ranked best first
     * @param truthLists (user_id, pin_ids) ranked by true conversion propensity, at least max(ks) long
     */
    public static List<Recall> truthRecall(Dataset<Row> lists, Dataset<Row> truthLists, List<Integer> ks) {
        Dataset<Row> truth = truthLists.select(col(USER_ID), col(PIN_IDS).as("truth_ids"));
        List<Column> perQuery = new ArrayList<>(List.of(count(lit(1)).as("queries")));
        List<Column> perUser = new ArrayList<>(List.of(
                countDistinct(col(USER_ID)).as("users"),
                sum(coalesce(col("queries"), lit(0L))).as("queries")));
        for (int k : ks) {
            perQuery.add(avg(size(array_intersect(slice(col(PIN_IDS), 1, k), slice(col("truth_ids"), 1, k)))
                            .divide(least(lit(k), size(col("truth_ids")))))
                    .as("recall_" + k));
            perUser.add(avg(coalesce(col("recall_" + k), lit(0.0))).as("recall_" + k));
        }
        Dataset<Row> byUser = lists.join(truth, USER_ID).groupBy(USER_ID).agg(headOf(perQuery), tailOf(perQuery));
        Row r = truth.select(USER_ID)
                .distinct()
                .join(byUser, new String[] {USER_ID}, "left")
                .agg(headOf(perUser), tailOf(perUser))
                .first();
        List<Recall> out = new ArrayList<>();
        long users = r.getLong(0);
        long queries = r.isNullAt(1) ? 0 : r.getLong(1);
        for (int i = 0; i < ks.size(); i++) {
            out.add(new Recall(
                    "conversion",
                    ALL_SURFACES,
                    ks.get(i),
                    Metric.TRUE_PROPENSITY_RECALL,
                    r.isNullAt(2 + i) ? 0.0 : r.getDouble(2 + i),
                    users,
                    queries));
        }
        return out;
    }

    /**
     * User recall at {@code k} of one task and surface (a {@link dev.convcg.core.schema.Surface} name) computed by
     * MLlib's {@link RankingMetrics#recallAt}: a cross-check of {@link #evaluate}. Users without recommendations get
     * an empty prediction.
     */
    public static double mllibUserRecall(
            Dataset<Row> events, Dataset<Row> recommendations, String task, String surface, int k) {
        Dataset<Row> labels = events.filter(
                        col(TASK).equalTo(task).and(col(SURFACE).equalTo(surface)))
                .groupBy(USER_ID, SURFACE)
                .agg(collect_set(PIN_ID).as("labels"));
        boolean bySurface = Arrays.asList(recommendations.columns()).contains(SURFACE);
        String[] keys = bySurface ? new String[] {USER_ID, SURFACE} : new String[] {USER_ID};
        Dataset<Row> joined = labels.join(
                recommendations.select(
                        bySurface
                                ? new Column[] {col(USER_ID), col(SURFACE), col(PIN_IDS)}
                                : new Column[] {col(USER_ID), col(PIN_IDS)}),
                keys,
                "left");
        JavaRDD<Tuple2<List<Long>, List<Long>>> pairs = joined.select(col(PIN_IDS), col("labels"))
                .javaRDD()
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
                .select(
                        col(USER_ID),
                        col(PIN_ID),
                        col(SURFACE),
                        col(TASK),
                        coalesce(array_position(col(PIN_IDS), col(PIN_ID)), lit(0L))
                                .as(RANK),
                        col(PIN_IDS).isNotNull().as(HAS_QUERY));
    }

    private static Column headOf(List<Column> aggs) {
        return aggs.get(0);
    }

    private static Column[] tailOf(List<Column> aggs) {
        return aggs.subList(1, aggs.size()).toArray(Column[]::new);
    }
}
