package dev.convcg.modelspark.inference;

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
 * (docs/benchmarks.md). A scan copies the catalog into native tensors once; each block pair then costs the query
 * block's copy in, the product, and one copy of the scores out of libtorch's own buffer (no intermediate heap
 * buffer): 2.3x the rate of copying the pin block in and the scores out through a heap buffer on every call.
 */
public final class LibtorchBlockScorer implements BlockScorer {
    private final int intraOpThreads;

    public LibtorchBlockScorer(int intraOpThreads) {
        this.intraOpThreads = intraOpThreads;
    }

    @Override
    public Scan open(float[][] pinBlocks, int d) {
        if (intraOpThreads > 0) {
            Devices.ensureIntraOpThreads(intraOpThreads);
        }
        NDManager manager = NDManager.newBaseManager(Device.cpu());
        NDArray[] transposed = new NDArray[pinBlocks.length];
        try {
            for (int b = 0; b < pinBlocks.length; b++) {
                transposed[b] = manager.create(pinBlocks[b], new Shape(pinBlocks[b].length / d, d))
                        .transpose();
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return new Scan() {
            @Override
            public void score(int block, float[] queries, int m, float[] out) {
                NDArray pins = transposed[block];
                int n = (int) pins.getShape().get(1);
                try (NDManager call = manager.newSubManager()) {
                    NDArray q = call.create(queries, new Shape(m, d));
                    NDArray s = q.matMul(pins);
                    s.toByteBuffer(true).asFloatBuffer().get(out, 0, m * n);
                }
            }

            @Override
            public void close() {
                manager.close();
            }
        };
    }
}
