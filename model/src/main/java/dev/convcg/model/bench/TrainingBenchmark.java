package dev.convcg.model.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.train.TwoTowerTrainer;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Training throughput of the default model on synthetic batches, and its achieved FLOP/s relative
 * to libtorch's dense matmul FLOP/s on the model's own GEMM shapes, measured in the same JVM.
 *
 * <p>FLOPs are counted analytically: every matrix product of shape (m×k)·(k×n) costs 2mkn; per
 * step that is the cross layers, MLP, projection and heads of the user tower (B rows) and the pin
 * tower (B + H rows), mean/attention pooling products, and the logits {@code U Pᵀ} per head
 * (B × E × (B + H)). Backward costs twice the forward (gradient w.r.t. inputs and weights), so a
 * step is 3× the forward GEMM FLOPs. Element-wise ops, embedding gathers/scatters and the Adam
 * update are not counted: they are the overhead the ratio exposes.
 *
 * <p>The program is {@code dev.convcg.tools.bench.ModelTrainingBenchmark} ({@code scripts/bench.sh model}), which
 * binds the shipped configuration (reference.conf) and calls {@link #run}; this class has no configuration of its
 * own, so the benchmark measures the model the pipeline trains. {@link #run} also prints the mean time per step
 * phase ({@code TwoTowerTrainer.PHASES}).
 */
public final class TrainingBenchmark {
    private TrainingBenchmark() {}

    /** A GEMM (m×k)·(k×n) executed {@code count} times per forward. */
    public record Gemm(long m, long k, long n, int count) {
        public double flops() {
            return 2.0 * m * k * n * count;
        }
    }

    /**
     * Trains {@code model} on synthetic batches for {@code seconds} after 3 warm-up steps and prints its throughput,
     * its GEMM FLOP/s and their ratio to libtorch's matmul on the same shapes.
     *
     * @param hard hard negatives per batch (at most {@code model.hardNegatives().maxCount()})
     */
    public static void run(ModelConfig model, FeatureSchema schema, TrainerConfig cfg, double seconds, int hard) {
        int batch = cfg.batchSize();
        int h = Math.min(hard, model.hardNegatives().maxCount());
        List<Gemm> gemms = forwardGemms(model, schema, batch, h);
        double stepFlops = 3 * gemms.stream().mapToDouble(Gemm::flops).sum();

        SyntheticBatches data = new SyntheticBatches(schema, batch, h, 1_000_000, 20_000);
        List<TrainingBatch> batches = data.batches(1, 4);
        try (TwoTowerTrainer t = new TwoTowerTrainer(model, schema, cfg)) {
            System.out.printf(
                    Locale.ROOT,
                    "parameters: %d, intra-op threads: %d, sparse embedding" + " updates: %b, load avg: %.2f%n",
                    t.parameterCount(),
                    JniUtils.getNumThreads(),
                    t.sparseEmbeddingUpdates(),
                    loadAverage());
            for (int i = 0; i < 3; i++) {
                t.trainStep(batches.get(i % batches.size()));
            }
            t.resetPhaseTimes();
            String trace = System.getProperty("convcg.profile");
            if (trace != null) {
                JniUtils.startProfile(false, true, false);
            }
            long steps = 0;
            long t0 = System.nanoTime();
            double elapsed;
            do {
                t.trainStep(batches.get((int) (steps % batches.size())));
                steps++;
                elapsed = (System.nanoTime() - t0) / 1e9;
            } while (elapsed < seconds);
            if (trace != null) {
                JniUtils.stopProfile(trace);
            }
            double examplesPerSec = steps * batch / elapsed;
            double modelFlops = steps * stepFlops / elapsed;
            StringBuilder phases = new StringBuilder("ms/step by phase:");
            t.phaseSeconds().forEach((k, v) -> phases.append(String.format(Locale.ROOT, " %s %.1f", k, 1000 * v)));
            System.out.println(phases);
            double reference = matmulFlops(gemms, Math.max(3, seconds / 6));
            double square = matmulFlops(List.of(new Gemm(2048, 2048, 2048, 1)), 3);
            System.out.printf(
                    Locale.ROOT, "batch %d + %d hard negatives, %d steps in %.1f s%n", batch, h, steps, elapsed);
            System.out.printf(
                    Locale.ROOT, "training examples/s: %.0f (%.1f ms/step)%n", examplesPerSec, 1000 * elapsed / steps);
            System.out.printf(Locale.ROOT, "model GEMM FLOPs per step (fwd+bwd): %.3f GFLOP%n", stepFlops / 1e9);
            System.out.printf(Locale.ROOT, "achieved model FLOP/s: %.2f GFLOP/s%n", modelFlops / 1e9);
            System.out.printf(
                    Locale.ROOT, "libtorch matmul on the model's GEMM shapes: %.2f GFLOP/s%n", reference / 1e9);
            System.out.printf(Locale.ROOT, "libtorch matmul 2048^3: %.2f GFLOP/s%n", square / 1e9);
            System.out.printf(Locale.ROOT, "ratio (model / libtorch same shapes): %.3f%n", modelFlops / reference);
            System.out.printf(Locale.ROOT, "load avg after: %.2f%n", loadAverage());
        }
    }

    /** Forward GEMMs of one training step over a batch of {@code b} examples and {@code h} hard negatives. */
    public static List<Gemm> forwardGemms(ModelConfig model, FeatureSchema schema, long b, long h) {
        List<Gemm> g = new ArrayList<>();
        tower(g, model, schema.user(), b);
        tower(g, model, schema.pin(), b + h);
        int heads = model.heads().headCount();
        long e = model.embeddingDim();
        g.add(new Gemm(b, e, e, heads));
        g.add(new Gemm(b + h, e, e, heads));
        g.add(new Gemm(b, e, b + h, heads));
        return g;
    }

    /**
     * Forward GEMMs of one tower over {@code rows} rows plus the per-head projections: what
     * encoding a batch costs (inference reuses the training count).
     */
    public static List<Gemm> towerForwardGemms(ModelConfig model, List<FeatureSpec> specs, long rows) {
        List<Gemm> g = new ArrayList<>();
        tower(g, model, specs, rows);
        g.add(new Gemm(
                rows, model.embeddingDim(), model.embeddingDim(), model.heads().headCount()));
        return g;
    }

    private static void tower(List<Gemm> g, ModelConfig model, List<FeatureSpec> specs, long rows) {
        long d0 = specs.stream().mapToInt(FeatureSpec::outputWidth).sum();
        for (FeatureSpec s : specs) {
            if (s.kind() == FeatureKind.ID_SEQUENCE) {
                g.add(new Gemm(rows, s.maxLength(), s.dim(), 1)); // pooling (batched 1×L·L×d)
            }
        }
        ModelConfig.TowerConfig t = model.tower();
        if (t.crossLayers() > 0) {
            if (t.crossRank() == 0) {
                g.add(new Gemm(rows, d0, d0, t.crossLayers()));
            } else {
                g.add(new Gemm(rows, d0, t.crossRank(), t.crossLayers()));
                g.add(new Gemm(rows, t.crossRank(), d0, t.crossLayers()));
            }
        }
        long in = d0; // PARALLEL reads x0, STACKED reads the cross output; both are d0 wide
        for (int w : t.mlpWidths()) {
            g.add(new Gemm(rows, in, w, 1));
            in = w;
        }
        long last = t.mlpWidths().get(t.mlpWidths().size() - 1);
        long projIn = t.arrangement() == ModelConfig.Arrangement.PARALLEL ? d0 + last : last;
        g.add(new Gemm(rows, projIn, model.embeddingDim(), 1));
    }

    /** FLOP/s of plain libtorch matmuls over the given GEMMs, repeated for about {@code sec}. */
    public static double matmulFlops(List<Gemm> gemms, double sec) {
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray[]> ops = new ArrayList<>();
            for (Gemm x : gemms) {
                if (x.count() == 0) {
                    continue;
                }
                ops.add(new NDArray[] {
                    m.randomUniform(-1, 1, new Shape(x.m(), x.k())), m.randomUniform(-1, 1, new Shape(x.k(), x.n()))
                });
            }
            double flopsPerRound = gemms.stream().mapToDouble(Gemm::flops).sum();
            runRound(m, gemms, ops);
            long rounds = 0;
            long t0 = System.nanoTime();
            double elapsed;
            do {
                runRound(m, gemms, ops);
                rounds++;
                elapsed = (System.nanoTime() - t0) / 1e9;
            } while (elapsed < sec);
            return rounds * flopsPerRound / elapsed;
        }
    }

    private static void runRound(NDManager m, List<Gemm> gemms, List<NDArray[]> ops) {
        try (NDManager s = m.newSubManager()) {
            int i = 0;
            NDArray sink = null;
            for (Gemm x : gemms) {
                if (x.count() == 0) {
                    continue;
                }
                NDArray[] ab = ops.get(i++);
                for (int c = 0; c < x.count(); c++) {
                    NDArray r = ab[0].matMul(ab[1]);
                    r.attach(s);
                    sink = r;
                }
            }
            if (sink != null) {
                sink.getFloat(0, 0);
            }
        }
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
