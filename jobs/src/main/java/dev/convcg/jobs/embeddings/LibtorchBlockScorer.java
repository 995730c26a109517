package dev.convcg.jobs.embeddings;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.convcg.core.eval.BlockScorer;
import dev.convcg.model.train.Devices;

/**
 * The exact top-K's block product on libtorch, on the CPU, with {@code intraOpThreads} threads per JVM (1 where each
 * Spark task has one core). libtorch ships with the project and, on the evaluation's shapes, runs several times
 * faster than the Java Vector API implementation netlib falls back to on a machine without a native BLAS
 * (docs/benchmarks.md); the scores come back through one copy into the caller's array.
 */
public final class LibtorchBlockScorer implements BlockScorer {
    private final int intraOpThreads;

    public LibtorchBlockScorer(int intraOpThreads) {
        this.intraOpThreads = intraOpThreads;
    }

    @Override
    public void score(float[] pins, int n, float[] queries, int m, int d, float[] out) {
        if (intraOpThreads > 0) {
            Devices.ensureIntraOpThreads(intraOpThreads);
        }
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray p = manager.create(pins, new Shape(n, d));
            NDArray q = manager.create(queries, new Shape(m, d));
            q.matMul(p.transpose()).toByteBuffer().asFloatBuffer().get(out, 0, m * n);
        }
    }
}
