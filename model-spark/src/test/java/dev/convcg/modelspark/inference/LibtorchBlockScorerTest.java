package dev.convcg.modelspark.inference;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.eval.BlockScorer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The libtorch block product gives netlib's scores for the block asked for, in the layout the top-K reads (query i's
 * scores at i · n).
 */
class LibtorchBlockScorerTest {
    @Test
    void scoresEqualNetlibsForAnyBlockShape() {
        SplittableRandom r = new SplittableRandom(9);
        BlockScorer libtorch = new LibtorchBlockScorer(1);
        for (int[] shape : new int[][] {{1, 1, 1}, {7, 3, 5}, {300, 17, 64}}) {
            int n = shape[0], m = shape[1], d = shape[2];
            float[] pins = new float[n * d];
            float[] queries = new float[m * d];
            for (int i = 0; i < pins.length; i++) {
                pins[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < queries.length; i++) {
                queries[i] = (float) r.nextGaussian();
            }
            float[] expected = new float[n * m];
            float[] got = new float[n * m + 5];
            got[n * m] = 42;
            float[][] catalog = {new float[3 * d], pins};
            try (BlockScorer.Scan netlib = BlockScorer.BLAS_SGEMM.open(catalog, d);
                    BlockScorer.Scan torch = libtorch.open(catalog, d)) {
                netlib.score(1, queries, m, expected);
                torch.score(1, queries, m, got);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int k = 0; k < d; k++) {
                        dot += queries[i * d + k] * pins[j * d + k];
                    }
                    assertEquals(dot, expected[i * n + j], 1e-3, "netlib, query " + i + " pin " + j);
                    assertEquals(expected[i * n + j], got[i * n + j], 1e-3, "libtorch, query " + i + " pin " + j);
                }
            }
            assertEquals(42f, got[n * m], "nothing written past m · n");
        }
    }
}
