package dev.convcg.tools.bench;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.eval.Baselines;
import dev.convcg.core.eval.TopKRetrieval;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.OnlineReplay;
import dev.convcg.core.sim.SimulationSettings;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.sim.World;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Times the simulated online A/B ({@link OnlineReplay}) of the medium world ({@code conf/sim-medium.conf}: 20,000
 * users, its 7 evaluation days) with 5 arms of 100 candidates per (user, surface): the true-propensity lists and four
 * lists of uniformly drawn pins. The requests and the lists are generated and cached first; the figure is the replay
 * and its summary (what {@code evaluate}'s "online A/B" step runs). The limit in the same JVM: the same grouping of
 * requests and lists by user, joined and counted, without the replay itself. Not a test:
 * {@code scripts/bench.sh online-ab [CONFIG]}.
 */
public final class OnlineAbBenchmark {
    private static final List<String> ARMS = List.of("oracle", "random_1", "random_2", "random_3", "random_4");

    private OnlineAbBenchmark() {}

    public static void main(String[] args) throws Exception {
        String conf = args.length > 0 ? args[0] : "conf/sim-medium.conf";
        PipelineConfig config = PipelineConfig.load(new File(conf), Map.of());
        SimulationSettings world = config.simulate();
        SparkSession spark = SparkSessions.create(config.spark());
        int evalDays = config.evaluate().evalDays(), k = config.evaluate().onlineAbK();
        String from = world.day(world.days() - evalDays).toString();
        Simulator sim = new Simulator(spark, world);
        long t0 = System.nanoTime();
        Dataset<Row> impressions = sim.table(RawTables.IMPRESSIONS)
                .filter(col(RawTables.DS).geq(from))
                .persist(StorageLevel.MEMORY_AND_DISK());
        long slots = impressions.count();
        Baselines.Embeddings truth = Baselines.oracle(sim.truthUsers(), sim.truthPins());
        Dataset<Row> queries = TopKRetrieval.forAllSurfaces(truth.users());
        Dataset<Row> candidates = TopKRetrieval.topK(queries, truth.pins(), k, 256, 4096)
                .select(lit("oracle").as(OnlineReplay.ARM), col("user_id"), col("surface"), col("pin_ids"));
        for (int a = 1; a < ARMS.size(); a++) {
            candidates = candidates.unionByName(queries.select(
                    lit(ARMS.get(a)).as(OnlineReplay.ARM),
                    col("user_id"),
                    col("surface"),
                    randomPins(world, k, a).as("pin_ids")));
        }
        candidates = candidates.persist(StorageLevel.MEMORY_AND_DISK());
        long lists = candidates.count();
        System.out.printf(
                "inputs ready in %.1f s: %,d logged slots of days %s.., %,d candidate lists of %d pins%n",
                (System.nanoTime() - t0) / 1e9, slots, from, lists, k);

        long t1 = System.nanoTime();
        long grouped = floor(impressions, candidates);
        double floorSeconds = (System.nanoTime() - t1) / 1e9;

        long t2 = System.nanoTime();
        List<Row> outcomes =
                OnlineReplay.replay(world, impressions, candidates, ARMS).collectAsList();
        List<OnlineReplay.ArmResult> table = OnlineReplay.summarize(
                outcomes, ARMS, "random_1", config.evaluate().intervals());
        double seconds = (System.nanoTime() - t2) / 1e9;

        System.out.printf(
                "%nonline A/B benchmark (%s): %d cores, %,d users, %d evaluation days, %d arms, k = %d%n",
                conf, Runtime.getRuntime().availableProcessors(), grouped, evalDays, ARMS.size(), k);
        for (OnlineReplay.ArmResult a : table) {
            System.out.printf(
                    "  %-9s %,9d requests %,10d impressions %,7d conversions  %.3f per 1,000 impressions%n",
                    a.arm(),
                    a.requests(),
                    a.impressions(),
                    a.conversions(),
                    a.rates().get("conversions_per_1000").value());
        }
        System.out.printf(
                "  replay + summary  %.1f s (%,.0f impression slots/s over all arms)%n",
                seconds, (double) slots * ARMS.size() / seconds);
        System.out.printf(
                "  floor             %.1f s: requests and lists grouped by user, joined, counted%n", floorSeconds);
        System.out.printf("  ratio             %.2f x the floor%n", seconds / floorSeconds);
        System.out.printf(
                "  goal              the medium world's A/B (5 arms) in < 300 s: %s%n",
                seconds < 300 ? "MET" : "NOT MET");
        spark.stop();
    }

    /** {@code k} distinct pins per row, uniformly drawn from the catalog, fixed by (user, surface, arm). */
    private static Column randomPins(SimulationSettings world, int k, int arm) {
        Column seed = xxhash64(col("user_id"), col("surface"), lit(arm));
        Column draws = transform(
                sequence(lit(1), lit(2 * k)),
                i -> pmod(xxhash64(seed, i), lit((long) world.pins())).plus(lit(World.PIN_ID_BASE)));
        return slice(array_distinct(draws), 1, k);
    }

    /** The replay's input work alone: both inputs grouped by user, joined, rows counted. */
    private static long floor(Dataset<Row> impressions, Dataset<Row> candidates) {
        Dataset<Row> slots = impressions
                .groupBy("user_id")
                .agg(collect_list(struct(col("request_id"), col("surface"), col("ts"), col("position"), col("pin_id")))
                        .as("slots"));
        Dataset<Row> lists = candidates
                .groupBy("user_id")
                .agg(collect_list(struct(col(OnlineReplay.ARM), col("surface"), col("pin_ids")))
                        .as("lists"));
        return slots
                .join(lists, new String[] {"user_id"}, "left")
                .mapPartitions(
                        (MapPartitionsFunction<Row, Long>) rows -> {
                            long n = 0;
                            while (rows.hasNext()) {
                                rows.next();
                                n++;
                            }
                            List<Long> out = new ArrayList<>();
                            out.add(n);
                            return out.iterator();
                        },
                        Encoders.LONG())
                .collectAsList()
                .stream()
                .mapToLong(Long::longValue)
                .sum();
    }
}
