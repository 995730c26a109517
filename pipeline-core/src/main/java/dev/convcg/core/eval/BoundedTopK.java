package dev.convcg.core.eval;

/**
 * The best {@code k} (score, pin id) pairs offered so far, on primitive arrays: a min-heap whose root is the worst
 * pair kept, so most offers are rejected by one comparison. Order: higher score first, then smaller pin id, which
 * makes every top-K deterministic whatever order the pairs arrive in.
 */
final class BoundedTopK {
    private final int k;
    private final float[] scores;
    private final long[] ids;
    private int size;

    BoundedTopK(int k) {
        this.k = k;
        this.scores = new float[k];
        this.ids = new long[k];
    }

    /** Whether (score a, id a) ranks after (score b, id b). */
    static boolean worse(float sa, long ia, float sb, long ib) {
        return sa < sb || (sa == sb && ia > ib);
    }

    /** Offers the scores {@code s[from .. from+n)} of pins {@code pinIds[0 .. n)}. */
    void offerAll(float[] s, int from, long[] pinIds, int n) {
        for (int j = 0; j < n; j++) {
            float x = s[from + j];
            if (size == k && x < scores[0]) {
                continue;
            }
            offer(x, pinIds[j]);
        }
    }

    void offer(float score, long id) {
        if (Float.isNaN(score)) {
            return;
        }
        if (size < k) {
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!worse(score, id, scores[parent], ids[parent])) {
                    break;
                }
                scores[i] = scores[parent];
                ids[i] = ids[parent];
                i = parent;
            }
            scores[i] = score;
            ids[i] = id;
        } else if (worse(scores[0], ids[0], score, id)) {
            siftDownFromRoot(score, id);
        }
    }

    private void siftDownFromRoot(float score, long id) {
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && worse(scores[child + 1], ids[child + 1], scores[child], ids[child])) {
                child++;
            }
            if (!worse(scores[child], ids[child], score, id)) {
                break;
            }
            scores[i] = scores[child];
            ids[i] = ids[child];
            i = child;
        }
        scores[i] = score;
        ids[i] = id;
    }

    int size() {
        return size;
    }

    /** Empties the heap into {@code outIds}/{@code outScores} (length {@link #size()}), best first. */
    void drainBestFirst(long[] outIds, float[] outScores) {
        for (int n = size; n > 0; n--) {
            outIds[n - 1] = ids[0];
            outScores[n - 1] = scores[0];
            float lastScore = scores[size - 1];
            long lastId = ids[size - 1];
            size--;
            if (size > 0) {
                siftDownFromRoot(lastScore, lastId);
            }
        }
    }
}
