package dev.convcg.tools.bench;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.eval.BlockScorer;
import dev.convcg.core.eval.EvaluationSettings;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.TopKRetrieval;
import dev.convcg.core.schema.Surface;
import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.stages.Evaluation;
import dev.convcg.model.bench.TrainingBenchmark;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The evaluation's exact top-K ({@link OfflineEvaluation#embeddingLists}, the path {@code evaluate} takes for every
 * embedding model) at a nightly's shapes on synthetic embeddings, against two limits measured in this JVM on one block
 * pair: libtorch's matmul on all cores (the best GEMM rate), and the configured {@code evaluate.scorer} on one thread
 * with the scores copied out, times the cores. Prints the scan's GFLOP/s and both ratios, without and with a
 * re-engagement bonus for 30 pins per user.
 *
 * <p>Usage: {@code RetrievalBenchmark [users=37000] [pins=200000] [k=1000] [key=value]...}, surfaces per user as
 * the model serves (3); run with {@code scripts/bench.sh retrieval}.
 */
public final class RetrievalBenchmark {
    private RetrievalBenchmark() {}

    public static void main(String[] args) throws Exception {
        BenchArgs parsed = BenchArgs.parse(args);
        long users = Long.parseLong(parsed.at(0, "37000"));
        long pins = Long.parseLong(parsed.at(1, "200000"));
        int k = Integer.parseInt(parsed.at(2, "1000"));
        Map<String, String> sets = new LinkedHashMap<>();
        sets.put("evaluate.ks", "[" + Math.min(100, k) + ", " + k + "]");
        sets.putAll(parsed.overrides());
        PipelineConfig config = PipelineConfig.load(null, sets);
        EvaluationSettings s = config.evaluate();
        int d = config.model().embeddingDim();
        BlockScorer scorer = Evaluation.scorer(config);
        int cores = Runtime.getRuntime().availableProcessors();
        int m = s.queryBlockSize(), n = s.itemBlockSize();
        // Before the scorer's own figure: a libtorch scorer sets the JVM's intra-op threads to its tasks' count.
        double best = TrainingBenchmark.matmulFlops(List.of(new TrainingBenchmark.Gemm(m, d, n, 1)), 8);
        double perThread = NightlyScaleBenchmark.blockFlops(scorer, m, d, n);
        System.out.printf(
                Locale.ROOT,
                "limits on one %dx%dx%d block: libtorch matmul on all %d cores %.1f GFLOP/s"
                        + " (the best GEMM rate); evaluate.scorer = %s on one thread, scores copied out, %.1f GFLOP/s"
                        + " (x %d cores = %.1f)%n",
                m,
                d,
                n,
                cores,
                best / 1e9,
                config.scorer(),
                perThread / 1e9,
                cores,
                cores * perThread / 1e9);

        SparkSession spark = SparkSessions.create(config.spark());
        Dataset<Row> userEmbeddings = TopKRetrieval.forAllSurfaces(
                        unitVectors(spark.range(users).select(col("id").as("user_id")), "user_id", d, 1))
                .cache();
        Dataset<Row> pinEmbeddings = unitVectors(
                        spark.range(pins).select(col("id").as("pin_id")), "pin_id", d, 2)
                .cache();
        Dataset<Row> catalog = pinEmbeddings.select("pin_id");
        Dataset<Row> events = spark.range(users)
                .select(col("id").as("user_id"), lit(Surface.HOME_FEED.name()).as("surface"));
        Dataset<Row> bonuses = spark.range(users * 30)
                .select(
                        col("id").mod(users).as("user_id"),
                        xxhash64(col("id")).mod(pins).cast("long").as("pin_id"),
                        lit(0.3f).as("bonus"))
                .cache();
        long queries = userEmbeddings.count();
        pinEmbeddings.count();
        bonuses.count();
        double flops = 2.0 * queries * pins * d;
        System.out.printf(
                Locale.ROOT,
                "%,d queries (%,d users x 3 surfaces) x %,d pins x %d dims, K = %d: %.2f TFLOP%n",
                queries,
                users,
                pins,
                d,
                k,
                flops / 1e12);

        for (String variant : new String[] {"top-K", "top-K with bonuses"}) {
            Dataset<Row> lists = OfflineEvaluation.embeddingLists(
                    userEmbeddings,
                    pinEmbeddings,
                    catalog,
                    events,
                    s,
                    variant.endsWith("bonuses") ? bonuses : null,
                    scorer);
            long t0 = System.nanoTime();
            lists.write().format("noop").mode("overwrite").save();
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%-20s %7.1f s  %6.1f GFLOP/s  %.3f of the best GEMM rate, %.3f of the" + " scorer's  (%d tasks)%n",
                    variant,
                    sec,
                    flops / sec / 1e9,
                    flops / sec / best,
                    flops / sec / (cores * perThread),
                    lists.rdd().getNumPartitions());
        }
        spark.stop();
    }

    private static Dataset<Row> unitVectors(Dataset<Row> ids, String id, int d, int seed) {
        Dataset<Row> raw = ids.select(
                col(id),
                transform(
                                sequence(lit(1), lit(d)),
                                i -> xxhash64(col(id), i, lit(seed))
                                        .mod(1000)
                                        .cast("float")
                                        .minus(500f))
                        .as("v"));
        return raw.select(
                col(id),
                transform(
                                col("v"),
                                x -> x.divide(sqrt(aggregate(col("v"), lit(0f), (acc, y) -> acc.plus(y.multiply(y))))))
                        .cast("array<float>")
                        .as("embedding"));
    }
}
