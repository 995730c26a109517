package dev.convcg.core.sim;

import static org.apache.spark.sql.types.DataTypes.*;

import dev.convcg.core.schema.RawTables;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Simulated raw logs as Spark Datasets (no I/O): the five raw tables of {@link RawTables} and the ground-truth side
 * tables. Every table is generated on executors from the settings alone; see {@link World} for the latent structure
 * and {@link EventGenerator} for the behaviour.
 */
public final class Simulator {
    public static final long HOUR_MS = 3_600_000L;
    public static final long DAY_MS = 24 * HOUR_MS;

    public static final String TRUTH_USERS = "truth_users";
    public static final String TRUTH_PINS = "truth_pins";

    /** Latent user vectors; true propensity is {@code sigmoid(intent_weight · intent·topic + conversion_bias)}. */
    public static final StructType TRUTH_USERS_SCHEMA = new StructType()
            .add("user_id", LongType, false)
            .add("interest", createArrayType(FloatType, false), false)
            .add("intent", createArrayType(FloatType, false), false)
            .add("intent_weight", DoubleType, false)
            .add("activity", DoubleType, false);

    public static final StructType TRUTH_PINS_SCHEMA = new StructType()
            .add("pin_id", LongType, false)
            .add("topic", createArrayType(FloatType, false), false)
            .add("clickbait", FloatType, false)
            .add("advertiser_quality", FloatType, false)
            .add("conversion_bias", FloatType, false);

    private final SparkSession spark;
    private final SimulationSettings settings;

    public Simulator(SparkSession spark, SimulationSettings settings) {
        this.spark = spark;
        this.settings = settings;
    }

    /** One of the raw tables, by name (see {@link RawTables#ALL}). */
    public Dataset<Row> table(String name) {
        return switch (name) {
            case RawTables.IMPRESSIONS, RawTables.ENGAGEMENTS, RawTables.CONVERSIONS -> events(name);
            case RawTables.PINS -> pins();
            case RawTables.USERS -> users();
            default -> throw new IllegalArgumentException("unknown raw table '" + name + "'");
        };
    }

    /** All raw tables, in {@link RawTables#ALL} order. */
    public Map<String, Dataset<Row>> rawTables() {
        LinkedHashMap<String, Dataset<Row>> m = new LinkedHashMap<>();
        for (String t : RawTables.ALL) {
            m.put(t, table(t));
        }
        return m;
    }

    private Dataset<Row> events(String table) {
        SimulationSettings s = settings;
        return userIndices()
                .mapPartitions(
                        (MapPartitionsFunction<Long, Row>)
                                users -> new FlatIterator(users, new EventGenerator(World.of(s)), table),
                        Encoders.row(RawTables.schemaOf(table)));
    }

    /** Catalog snapshot per day: pins created on or before that day. */
    private Dataset<Row> pins() {
        SimulationSettings s = settings;
        return spark.range(0, (long) s.pins() * s.days(), 1, s.partitions())
                .mapPartitions(
                        (MapPartitionsFunction<Long, Row>) it -> {
                            World w = World.of(s);
                            List<Row> rows = new ArrayList<>();
                            while (it.hasNext()) {
                                long i = it.next();
                                int day = (int) (i / s.pins());
                                int p = (int) (i % s.pins());
                                if (w.pinCreatedDay[p] > day) {
                                    continue;
                                }
                                float[] content = w.pinContentEmbedding[p];
                                rows.add(RowFactory.create(
                                        World.PIN_ID_BASE + p,
                                        World.ADVERTISER_ID_BASE + w.pinAdvertiser[p],
                                        World.categoryName(w.pinCategory[p]),
                                        (double) w.pinPrice[p],
                                        s.startDate()
                                                .plusDays(w.pinCreatedDay[p])
                                                .toString(),
                                        content == null ? null : boxed(content),
                                        s.day(day).toString()));
                            }
                            return rows.iterator();
                        },
                        Encoders.row(RawTables.PINS_SCHEMA));
    }

    /** User snapshot per day; interest categories are unknown for a share of users. */
    private Dataset<Row> users() {
        SimulationSettings s = settings;
        return spark.range(0, (long) s.users() * s.days(), 1, s.partitions())
                .mapPartitions(
                        (MapPartitionsFunction<Long, Row>) it -> {
                            World w = World.of(s);
                            List<Row> rows = new ArrayList<>();
                            while (it.hasNext()) {
                                long i = it.next();
                                int day = (int) (i / s.users());
                                World.UserLatent u = w.user((int) (i % s.users()));
                                rows.add(RowFactory.create(
                                        World.USER_ID_BASE + u.index(),
                                        u.country(),
                                        s.startDate()
                                                .minusDays(u.signupDaysBefore())
                                                .toString(),
                                        (u.index() % 10) < 3 ? null : topCategories(w, u.interest(), 3),
                                        s.day(day).toString()));
                            }
                            return rows.iterator();
                        },
                        Encoders.row(RawTables.USERS_SCHEMA));
    }

    /** Ground truth: users' latent interest and intent vectors. */
    public Dataset<Row> truthUsers() {
        SimulationSettings s = settings;
        return userIndices()
                .map(
                        (MapFunction<Long, Row>) i -> {
                            World.UserLatent u = World.of(s).user(i.intValue());
                            return RowFactory.create(
                                    World.USER_ID_BASE + u.index(),
                                    boxed(u.interest()),
                                    boxed(u.intent()),
                                    World.INTENT_WEIGHT,
                                    u.activity());
                        },
                        Encoders.row(TRUTH_USERS_SCHEMA));
    }

    /** Ground truth: pins' topic vectors, clickbait and conversion bias. */
    public Dataset<Row> truthPins() {
        SimulationSettings s = settings;
        return spark.range(0, s.pins(), 1, s.partitions())
                .map(
                        (MapFunction<Long, Row>) i -> {
                            World w = World.of(s);
                            int p = i.intValue();
                            return RowFactory.create(
                                    World.PIN_ID_BASE + p,
                                    boxed(w.pinTopic[p]),
                                    w.pinClickbait[p],
                                    w.advertiserQuality[w.pinAdvertiser[p]],
                                    w.pinConversionBias[p]);
                        },
                        Encoders.row(TRUTH_PINS_SCHEMA));
    }

    private Dataset<Long> userIndices() {
        return spark.range(0, settings.users(), 1, settings.partitions());
    }

    private static Object boxed(float[] v) {
        Float[] b = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = v[i];
        }
        return b;
    }

    private static Object topCategories(World w, float[] interest, int n) {
        Integer[] order = new Integer[w.categoryCentroid.length];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(
                order,
                (a, b) -> Double.compare(
                        Rng.dot(interest, w.categoryCentroid[b]), Rng.dot(interest, w.categoryCentroid[a])));
        String[] top = new String[Math.min(n, order.length)];
        for (int k = 0; k < top.length; k++) {
            top[k] = World.categoryName(order[k]);
        }
        return top;
    }

    /** Streams the rows of one table user by user, holding one user's rows at a time. */
    private static final class FlatIterator implements Iterator<Row> {
        private final Iterator<Long> users;
        private final EventGenerator generator;
        private final String table;
        private final List<Row> buffer = new ArrayList<>();
        private int next;

        FlatIterator(Iterator<Long> users, EventGenerator generator, String table) {
            this.users = users;
            this.generator = generator;
            this.table = table;
        }

        @Override
        public boolean hasNext() {
            while (next >= buffer.size()) {
                if (!users.hasNext()) {
                    return false;
                }
                buffer.clear();
                next = 0;
                generator.generate(users.next().intValue(), table, buffer);
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return buffer.get(next++);
        }
    }
}
