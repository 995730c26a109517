package dev.convcg.core.sim;

import static org.apache.spark.sql.functions.*;
import static org.apache.spark.sql.types.DataTypes.*;

import dev.convcg.core.eval.Bootstrap;
import dev.convcg.core.schema.Surface;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * The simulated online A/B test: the evaluation days' logged requests (same users, surfaces, queries, times and slot
 * counts, read from the impressions table) are served again once per arm, each arm's candidate lists replacing the
 * serving policy's pool. The simulator's own policy fills every slot from the arm's candidates (the category the
 * logged policy chose for the slot first, then by the policy's serving weight, no pin twice in a request), and the
 * user answers through the world's click, dwell and conversion model ({@link EventGenerator}). Only the world's
 * ground truth decides outcomes, so an arm gains only by putting what the user would buy in front of them.
 *
 * <p>Common random numbers: the slot's pick draws from a stream of (user, request, position) and the user's answer
 * from a stream of (user, request, pin), never from the arm, so two arms with identical candidates have identical
 * outcomes and two arms that show the same pin in the same request get the same answer to it. Conversions are counted
 * when they happen (add-to-cart, then checkout with the world's probability), not as advertisers report them; return
 * visits and organic purchases do not depend on the retriever and are not replayed.
 */
public final class OnlineReplay {
    public static final String ARM = "arm";
    public static final String USER_ID = "user_id";
    public static final String SURFACE = "surface";
    public static final String PIN_IDS = "pin_ids";

    /** A dwell longer than this is a long click. */
    public static final long LONG_CLICK_MS = 30_000L;

    /** Per (user, arm): what the user did with what the arm's candidates got shown. */
    public static final StructType OUTCOME_SCHEMA = new StructType()
            .add(USER_ID, LongType, false)
            .add(ARM, StringType, false)
            .add("requests", LongType, false)
            .add("impressions", LongType, false)
            .add("clicks", LongType, false)
            .add("long_clicks", LongType, false)
            .add("add_to_carts", LongType, false)
            .add("checkouts", LongType, false)
            .add("conversion_value", DoubleType, false)
            .add("converting_advertisers", createArrayType(LongType, false), false);

    private static final long K_PICK = 21, K_ANSWER = 22;

    private OnlineReplay() {}

    /**
     * Replays the logged requests of {@code impressions} once per arm.
     *
     * @param world       settings of the world that wrote the logs (its truth decides every answer)
     * @param impressions the raw impressions of the replayed days; rows without a user, a known pin or a known
     *                    surface (the deliberate corruptions) are not replayed
     * @param candidates  (arm, user_id, [surface], pin_ids): each arm's candidates, best first, per user and surface
     *                    (a null or absent surface serves every surface)
     * @param arms        the arms to report; a user without candidates in an arm gets its requests with no impression
     * @return one row per (user with a replayed request, arm), {@link #OUTCOME_SCHEMA}
     */
    public static Dataset<Row> replay(
            SimulationSettings world, Dataset<Row> impressions, Dataset<Row> candidates, List<String> arms) {
        if (arms.isEmpty() || new TreeSet<>(arms).size() != arms.size()) {
            throw new IllegalArgumentException("online A/B arms = " + arms + ": must be distinct and at least one");
        }
        long firstPin = World.PIN_ID_BASE, lastPin = World.PIN_ID_BASE + world.pins() - 1;
        Dataset<Row> slots = impressions
                .filter(col(USER_ID)
                        .isNotNull()
                        .and(col("pin_id").between(firstPin, lastPin))
                        .and(col(SURFACE).isin((Object[])
                                Arrays.stream(Surface.values()).map(Enum::name).toArray()))
                        .and(col("position").isNotNull())
                        .and(col("ts").isNotNull()))
                .groupBy(USER_ID)
                .agg(collect_list(struct(
                                col("request_id"),
                                col(SURFACE),
                                col("ts").cast("long").as("ts"),
                                col("position"),
                                col("pin_id")))
                        .as("slots"));
        Column listSurface = Arrays.asList(candidates.columns()).contains(SURFACE)
                ? col(SURFACE)
                : lit(null).cast(StringType);
        Dataset<Row> lists = candidates
                .groupBy(USER_ID)
                .agg(collect_list(struct(col(ARM), listSurface.as(SURFACE), col(PIN_IDS)))
                        .as("lists"));
        List<String> armList = List.copyOf(arms);
        return slots.join(lists, new String[] {USER_ID}, "left")
                .mapPartitions(
                        (MapPartitionsFunction<Row, Row>) users -> {
                            World w = World.of(world);
                            List<Row> out = new ArrayList<>();
                            while (users.hasNext()) {
                                replayUser(w, users.next(), armList, out);
                            }
                            return out.iterator();
                        },
                        Encoders.row(OUTCOME_SCHEMA));
    }

    /**
     * Fails unless {@code truthPins} (the truth table {@code simulate} wrote) comes from the world of {@code world}: the
     * replay answers through that world, so evaluating with other simulate settings would judge the arms by another
     * world's truth.
     */
    public static void requireWorld(SimulationSettings world, Dataset<Row> truthPins) {
        World w = World.of(world);
        long firstPin = World.PIN_ID_BASE;
        List<Row> sample = truthPins
                .filter(col("pin_id").lt(firstPin + 16))
                .select("pin_id", "conversion_bias", "clickbait")
                .collectAsList();
        long pins = truthPins.count();
        String problem =
                pins != world.pins() ? pins + " pins in truth_pins, " + world.pins() + " in the settings" : null;
        for (Row r : sample) {
            int p = (int) (r.getLong(0) - firstPin);
            if (problem == null
                    && (p >= world.pins()
                            || r.getFloat(1) != w.pinConversionBias[p]
                            || r.getFloat(2) != w.pinClickbait[p])) {
                problem = "pin " + r.getLong(0) + " differs (conversion_bias " + r.getFloat(1) + " in truth_pins)";
            }
        }
        if (problem != null) {
            throw new IllegalStateException("the online A/B needs the world that wrote the logs, but convcg.simulate.* "
                    + "describes another one: " + problem
                    + ". Evaluate with the configuration simulate ran with, or set "
                    + "convcg.evaluate.online-ab.k = 0");
        }
    }

    /** A rate of the A/B with its interval and, for an arm other than the reference, its paired lift. */
    public record Figure(double value, Bootstrap.Interval interval, double lift, Bootstrap.Interval liftInterval) {}

    /**
     * One arm's totals over the replayed users and its rates: {@code ctr} (clicks per impression),
     * {@code long_clicks_per_1000}, {@code conversions_per_1000} (add-to-carts and checkouts per 1,000 impressions),
     * {@code conversion_value_per_1000} (checkout value per 1,000 impressions, the RoAS proxy) and
     * {@code conversions_per_1000_requests} (conversion volume, the same denominator for every arm).
     */
    public record ArmResult(
            String arm,
            long users,
            long requests,
            long impressions,
            long clicks,
            long longClicks,
            long addToCarts,
            long checkouts,
            double conversionValue,
            long advertisersConverted,
            Map<String, Figure> rates) {
        public long conversions() {
            return addToCarts + checkouts;
        }
    }

    /** The rates of {@link ArmResult}, in report order. */
    public static final List<String> RATES = List.of(
            "conversions_per_1000",
            "conversion_value_per_1000",
            "ctr",
            "long_clicks_per_1000",
            "conversions_per_1000_requests");

    /**
     * The A/B table from the per-user outcomes of {@link #replay}: each arm's totals and rates, each rate with its
     * percentile bootstrap interval over users and, against {@code reference}, the paired interval of the relative
     * difference (every arm is resampled with the same draws of users, {@link Bootstrap}).
     *
     * @param outcomes every (user, arm) row of {@link #replay} for the arms given
     * @param reference the arm the others are compared with (e.g. engagement_only); null: no lifts
     */
    public static List<ArmResult> summarize(
            List<Row> outcomes, List<String> arms, String reference, Bootstrap.Settings intervals) {
        Map<String, List<Row>> byArm = new LinkedHashMap<>();
        arms.forEach(a -> byArm.put(a, new ArrayList<>()));
        for (Row r : outcomes) {
            List<Row> rows = byArm.get(r.<String>getAs(ARM));
            if (rows != null) {
                rows.add(r);
            }
        }
        Map<String, double[][]> replicates = new HashMap<>();
        Map<String, double[]> values = new HashMap<>();
        Map<String, long[]> totals = new HashMap<>();
        Map<String, Double> valueTotals = new HashMap<>();
        Map<String, Long> advertisers = new HashMap<>();
        for (Map.Entry<String, List<Row>> e : byArm.entrySet()) {
            List<Row> rows = e.getValue();
            rows.sort(Comparator.comparingLong(r -> r.<Long>getAs(USER_ID)));
            int n = rows.size();
            double[] impressions = new double[n], requests = new double[n];
            double[][] perImpression = new double[4][n];
            double[][] perRequest = new double[1][n];
            long[] sum = new long[6];
            double value = 0;
            TreeSet<Long> converting = new TreeSet<>();
            for (int u = 0; u < n; u++) {
                Row r = rows.get(u);
                long[] v = {
                    r.getAs("requests"),
                    r.getAs("impressions"),
                    r.getAs("clicks"),
                    r.getAs("long_clicks"),
                    r.getAs("add_to_carts"),
                    r.getAs("checkouts")
                };
                for (int i = 0; i < v.length; i++) {
                    sum[i] += v[i];
                }
                double conversions = v[4] + v[5];
                requests[u] = v[0];
                impressions[u] = v[1];
                perImpression[0][u] = 1000 * conversions;
                perImpression[1][u] = 1000 * r.<Double>getAs("conversion_value");
                perImpression[2][u] = v[2];
                perImpression[3][u] = 1000.0 * v[3];
                perRequest[0][u] = 1000 * conversions;
                value += r.<Double>getAs("conversion_value");
                converting.addAll(r.getList(r.fieldIndex("converting_advertisers")));
            }
            double[] point = {
                ratio(sum[4] + sum[5], sum[1]) * 1000,
                ratio(value, sum[1]) * 1000,
                ratio(sum[2], sum[1]),
                ratio(sum[3], sum[1]) * 1000,
                ratio(sum[4] + sum[5], sum[0]) * 1000
            };
            double[][] reps = new double[RATES.size()][];
            if (intervals.replicates() > 0) {
                double[][] a = Bootstrap.ratioReplicates(perImpression, impressions, "online_ab", intervals);
                double[][] b = Bootstrap.ratioReplicates(perRequest, requests, "online_ab", intervals);
                System.arraycopy(a, 0, reps, 0, 4);
                reps[4] = b[0];
            }
            replicates.put(e.getKey(), reps);
            values.put(e.getKey(), point);
            totals.put(e.getKey(), new long[] {n, sum[0], sum[1], sum[2], sum[3], sum[4], sum[5]});
            valueTotals.put(e.getKey(), value);
            advertisers.put(e.getKey(), (long) converting.size());
        }
        List<ArmResult> out = new ArrayList<>();
        for (String arm : arms) {
            Map<String, Figure> rates = new LinkedHashMap<>();
            for (int i = 0; i < RATES.size(); i++) {
                double[] reps = replicates.get(arm)[i];
                Bootstrap.Interval interval = reps == null ? null : Bootstrap.percentile(reps, intervals.level());
                double lift = Double.NaN;
                Bootstrap.Interval liftInterval = null;
                if (reference != null && !arm.equals(reference) && values.containsKey(reference)) {
                    double base = values.get(reference)[i];
                    lift = base == 0 ? Double.NaN : values.get(arm)[i] / base - 1;
                    double[] baseReps = replicates.get(reference)[i];
                    if (reps != null && baseReps != null) {
                        liftInterval =
                                Bootstrap.percentile(Bootstrap.relativeDifference(reps, baseReps), intervals.level());
                    }
                }
                rates.put(RATES.get(i), new Figure(values.get(arm)[i], interval, lift, liftInterval));
            }
            long[] t = totals.get(arm);
            out.add(new ArmResult(
                    arm, t[0], t[1], t[2], t[3], t[4], t[5], t[6], valueTotals.get(arm), advertisers.get(arm), rates));
        }
        return out;
    }

    private static double ratio(double a, double b) {
        return b == 0 ? Double.NaN : a / b;
    }

    private static void replayUser(World w, Row user, List<String> arms, List<Row> out) {
        long userId = user.getLong(0);
        World.UserLatent latent = w.user((int) (userId - World.USER_ID_BASE));
        List<Request> requests = requests(user.getList(1));
        Map<String, Map<String, int[]>> byArm = new HashMap<>();
        List<Row> lists = user.isNullAt(2) ? List.of() : user.getList(2);
        for (Row l : lists) {
            byArm.computeIfAbsent(l.getString(0), a -> new HashMap<>())
                    .put(l.isNullAt(1) ? "" : l.getString(1), pinIndices(w, l.getList(2)));
        }
        for (String arm : arms) {
            Map<String, int[]> armLists = byArm.getOrDefault(arm, Map.of());
            Tally t = new Tally();
            for (Request q : requests) {
                t.requests++;
                int[] pool = armLists.getOrDefault(q.surface.name(), armLists.get(""));
                if (pool == null || pool.length == 0) {
                    continue;
                }
                boolean[] used = new boolean[pool.length];
                for (int i = 0; i < q.positions.length; i++) {
                    long slotKey = Rng.mix64(Rng.mix64(userId * 0x9E3779B97F4A7C15L + q.key) + q.positions[i]);
                    int pick = pick(
                            w,
                            pool,
                            used,
                            w.pinCategory[q.loggedPins[i]],
                            Rng.stream(w.settings.seed(), K_PICK, slotKey).nextDouble());
                    if (pick < 0) {
                        break;
                    }
                    used[pick] = true;
                    answer(w, latent, pool[pick], q, q.positions[i], userId, t);
                }
            }
            out.add(RowFactory.create(
                    userId,
                    arm,
                    t.requests,
                    t.impressions,
                    t.clicks,
                    t.longClicks,
                    t.addToCarts,
                    t.checkouts,
                    t.value,
                    t.advertisers.toArray(Long[]::new)));
        }
    }

    /**
     * The slot's pin: among the pool's unused pins, those of the slot's category if any, else all of them, drawn by
     * the serving weight; -1 when the pool is used up.
     */
    private static int pick(World w, int[] pool, boolean[] used, int category, double u) {
        double inCategory = 0, all = 0;
        for (int j = 0; j < pool.length; j++) {
            if (!used[j]) {
                double weight = w.pinServingWeight[pool[j]];
                all += weight;
                if (w.pinCategory[pool[j]] == category) {
                    inCategory += weight;
                }
            }
        }
        if (all == 0) {
            return -1;
        }
        boolean restrict = inCategory > 0;
        double target = u * (restrict ? inCategory : all), acc = 0;
        int last = -1;
        for (int j = 0; j < pool.length; j++) {
            if (used[j] || (restrict && w.pinCategory[pool[j]] != category)) {
                continue;
            }
            acc += w.pinServingWeight[pool[j]];
            last = j;
            if (acc > target) {
                return j;
            }
        }
        return last;
    }

    /** The user's answer to {@code pin} shown at {@code position}: click, dwell, add-to-cart, checkout. */
    private static void answer(World w, World.UserLatent user, int pin, Request q, int position, long userId, Tally t) {
        long key = Rng.mix64(Rng.mix64(userId * 0x9E3779B97F4A7C15L + q.key) + pin);
        SplittableRandom r = Rng.stream(w.settings.seed(), K_ANSWER, key);
        double uClick = r.nextDouble(),
                dwellNoise = r.nextGaussian(),
                uConvert = r.nextDouble(),
                uCheckout = r.nextDouble();
        int surface = q.surface.ordinal();
        boolean clicked = uClick < Rng.sigmoid(EventGenerator.clickLogit(w, user, pin, surface, position));
        double conversionLogit = w.conversionLogit(user.intent(), pin);
        t.impressions++;
        boolean converted;
        if (clicked) {
            t.clicks++;
            if (EventGenerator.dwellMillis(EventGenerator.meanLogDwell(w, user, pin), dwellNoise) > LONG_CLICK_MS) {
                t.longClicks++;
            }
            converted = uConvert < Rng.sigmoid(conversionLogit);
        } else {
            converted = uConvert
                    < Rng.sigmoid(conversionLogit - w.settings.behaviour().viewThroughPenalty());
        }
        if (converted) {
            t.addToCarts++;
            t.advertisers.add(World.ADVERTISER_ID_BASE + w.pinAdvertiser[pin]);
            if (uCheckout < EventGenerator.CHECKOUT_AFTER_CART) {
                t.checkouts++;
                t.value += w.pinPrice[pin] * (1 + Rng.poisson(r, 0.3));
            }
        }
    }

    private static int[] pinIndices(World w, List<Long> pinIds) {
        return pinIds.stream()
                .mapToLong(Long::longValue)
                .map(id -> id - World.PIN_ID_BASE)
                .filter(p -> p >= 0 && p < w.settings.pins())
                .mapToInt(p -> (int) p)
                .toArray();
    }

    /** The user's logged requests in time order, each with its slots in position order. */
    private static List<Request> requests(List<Row> slots) {
        Map<String, List<Row>> byRequest = new LinkedHashMap<>();
        for (Row s : slots) {
            byRequest.computeIfAbsent(s.getString(0), k -> new ArrayList<>()).add(s);
        }
        List<Request> out = new ArrayList<>();
        for (Map.Entry<String, List<Row>> e : byRequest.entrySet()) {
            List<Row> rs = e.getValue();
            rs.sort(Comparator.comparingInt(x -> x.getInt(3)));
            int[] positions = rs.stream().mapToInt(x -> x.getInt(3)).toArray();
            int[] logged = rs.stream()
                    .mapToInt(x -> (int) (x.getLong(4) - World.PIN_ID_BASE))
                    .toArray();
            long ts = rs.stream().mapToLong(x -> x.getLong(2)).min().orElse(0);
            out.add(new Request(e.getKey(), Surface.valueOf(rs.get(0).getString(1)), ts, positions, logged));
        }
        out.sort(Comparator.comparingLong((Request q) -> q.ts).thenComparing(q -> q.id));
        return out;
    }

    private record Request(String id, Surface surface, long ts, int[] positions, int[] loggedPins, long key) {
        Request(String id, Surface surface, long ts, int[] positions, int[] loggedPins) {
            this(id, surface, ts, positions, loggedPins, Rng.mix64(id.hashCode()));
        }
    }

    private static final class Tally {
        long requests, impressions, clicks, longClicks, addToCarts, checkouts;
        double value;
        final TreeSet<Long> advertisers = new TreeSet<>();
    }
}
