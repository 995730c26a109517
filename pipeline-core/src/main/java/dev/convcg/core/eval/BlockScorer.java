package dev.convcg.core.eval;

import dev.ludovic.netlib.blas.BLAS;
import java.io.Serializable;

/**
 * The dense product at the heart of the exact top-K ({@link TopKRetrieval}): blocks of queries against the catalog's
 * blocks of pins. An interface, so that the jobs module can score with libtorch, which ships with the project and runs
 * the product several times faster than the netlib BLAS a machine set up without a native BLAS gets (its Java Vector
 * API fallback); pipeline-core itself does not depend on the model's engine. Instances travel to executors with the
 * task, so they must be serializable and cheap to rebuild; what a scan needs resident (libtorch: the catalog as
 * native tensors, built once per task instead of once per block pair) lives in its {@link Scan}.
 */
public interface BlockScorer extends Serializable {
    /**
     * A scan of one task over the catalog {@code pinBlocks} (each row-major {@code n_b × d}), which the scan may keep
     * resident until {@link Scan#close}.
     */
    Scan open(float[][] pinBlocks, int d);

    /** One task's scan over one catalog. */
    interface Scan extends AutoCloseable {
        /**
         * Writes {@code out[i · n + j] = queries_i · pins_j} for {@code i < m} and the {@code n} pins of
         * {@code block}.
         *
         * @param queries row-major {@code m × d}
         * @param out     at least {@code m · n} values
         */
        void score(int block, float[] queries, int m, float[] out);

        @Override
        void close();
    }

    /** netlib's {@code sgemm}: native when the machine has a BLAS library, else its Java implementation. */
    BlockScorer BLAS_SGEMM = new Netlib();

    /** {@link #BLAS_SGEMM}. */
    final class Netlib implements BlockScorer {
        @Override
        public Scan open(float[][] pinBlocks, int d) {
            return new Scan() {
                @Override
                public void score(int block, float[] queries, int m, float[] out) {
                    float[] pins = pinBlocks[block];
                    int n = pins.length / d;
                    // Column-major: pins (d × n)ᵀ times queries (d × m) = out (n × m): query i's scores are contiguous.
                    BLAS.getInstance().sgemm("T", "N", n, m, d, 1.0f, pins, d, queries, d, 0.0f, out, n);
                }

                @Override
                public void close() {}
            };
        }
    }
}
