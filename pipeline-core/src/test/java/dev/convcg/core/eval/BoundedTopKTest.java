package dev.convcg.core.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bounded top-K keeps exactly what a full sort by (score desc, id asc) puts first, whatever the offer order. */
class BoundedTopKTest {
    private record Pair(float score, long id) {}

    @Test
    void keepsTheFullSortsFirstKWithTiesByIdAndNaNsSkipped() {
        SplittableRandom r = new SplittableRandom(5);
        for (int k : new int[] {1, 2, 7, 100, 1000}) {
            for (int n : new int[] {0, 1, k - 1, k, k + 1, 3 * k + 5, 20_000}) {
                if (n < 0) {
                    continue;
                }
                List<Pair> pairs = new ArrayList<>();
                float[] s = new float[n];
                long[] ids = new long[n];
                for (int j = 0; j < n; j++) {
                    // Few distinct scores, so ties decide much of the order; some NaN, some infinite.
                    int kind = r.nextInt(50);
                    s[j] = kind == 0 ? Float.NaN : kind == 1 ? Float.NEGATIVE_INFINITY : r.nextInt(40) / 4f;
                    ids[j] = r.nextLong(1_000_000_000L);
                    if (!Float.isNaN(s[j])) {
                        pairs.add(new Pair(s[j], ids[j]));
                    }
                }
                pairs.sort(Comparator.comparing(Pair::score, Comparator.reverseOrder())
                        .thenComparing(Pair::id));
                List<Pair> expected = pairs.subList(0, Math.min(k, pairs.size()));

                BoundedTopK top = new BoundedTopK(k);
                int at = 0;
                while (at < n) {
                    int chunk = Math.min(n - at, 1 + r.nextInt(300));
                    if (r.nextBoolean()) {
                        long[] chunkIds = new long[chunk];
                        System.arraycopy(ids, at, chunkIds, 0, chunk);
                        top.offerAll(s, at, chunkIds, chunk);
                    } else {
                        for (int j = at; j < at + chunk; j++) {
                            top.offer(s[j], ids[j]);
                        }
                    }
                    at += chunk;
                }
                assertEquals(expected.size(), top.size(), "k " + k + ", n " + n);
                long[] gotIds = new long[top.size()];
                float[] gotScores = new float[top.size()];
                top.drainBestFirst(gotIds, gotScores);
                for (int i = 0; i < expected.size(); i++) {
                    assertEquals(expected.get(i).id(), gotIds[i], "k " + k + ", n " + n + ", rank " + i);
                    assertEquals(expected.get(i).score(), gotScores[i], "k " + k + ", n " + n + ", rank " + i);
                }
                assertEquals(0, top.size(), "drained");
            }
        }
    }
}
