package dev.convcg.core.eval;

import dev.ludovic.netlib.blas.BLAS;
import java.io.Serializable;

/**
 * The dense product at the heart of the exact top-K ({@link TopKRetrieval}): one block of queries against one block of
 * catalog pins. An interface, so that the jobs module can score with libtorch, which ships with the project and runs
 * the product several times faster than the netlib BLAS a machine set up without a native BLAS gets (its Java Vector
 * API fallback); pipeline-core itself does not depend on the model's engine. Instances travel to executors with the
 * task, so they must be serializable and cheap to rebuild.
 */
public interface BlockScorer extends Serializable {
    /**
     * Writes {@code out[i · n + j] = queries_i · pins_j} for {@code i < m}, {@code j < n}.
     *
     * @param pins    row-major {@code n × d}
     * @param queries row-major {@code m × d}
     * @param out     at least {@code m · n} values
     */
    void score(float[] pins, int n, float[] queries, int m, int d, float[] out);

    /** netlib's {@code sgemm}: native when the machine has a BLAS library, else its Java implementation. */
    BlockScorer BLAS_SGEMM = new Netlib();

    /** {@link #BLAS_SGEMM}. */
    final class Netlib implements BlockScorer {
        @Override
        public void score(float[] pins, int n, float[] queries, int m, int d, float[] out) {
            // Column-major: pins (d × n)ᵀ times queries (d × m) = out (n × m), so query i's scores are contiguous.
            BLAS.getInstance().sgemm("T", "N", n, m, d, 1.0f, pins, d, queries, d, 0.0f, out, n);
        }
    }
}
