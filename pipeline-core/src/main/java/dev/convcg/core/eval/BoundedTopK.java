package dev.convcg.core.eval;

/**
 * The best {@code k} (score, pin id) pairs offered so far, on primitive arrays. Order: higher score first, then
 * smaller pin id, which makes every top-K deterministic whatever order the pairs arrive in.
 *
 * <p>Offers go into a buffer of {@code 2k}; when it fills, a partial selection (quickselect) keeps the best
 * {@code k}, and the worst of those becomes the threshold every later offer must beat, so most offers cost one
 * comparison and an accepted one costs amortised O(1) instead of a heap's O(log k) sift (a heap spent 40% of the
 * evaluation's Java time in its sift at K = 1000, docs/benchmarks.md).
 */
final class BoundedTopK {
    private final int k;
    private final float[] scores;
    private final long[] ids;
    private int size;
    private boolean thresholded;
    private float thresholdScore;
    private long thresholdId;

    BoundedTopK(int k) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive: " + k);
        }
        this.k = k;
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8, 2L * k);
        this.scores = new float[Math.max(capacity, k + 1)];
        this.ids = new long[scores.length];
    }

    /** Whether (score a, id a) ranks after (score b, id b). */
    static boolean worse(float sa, long ia, float sb, long ib) {
        return sa < sb || (sa == sb && ia > ib);
    }

    /** Offers the scores {@code s[from .. from+n)} of pins {@code pinIds[0 .. n)}; NaN scores are skipped. */
    void offerAll(float[] s, int from, long[] pinIds, int n) {
        float t = thresholded ? thresholdScore : Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            float x = s[from + j];
            if (!(x >= t)) {
                continue;
            }
            if (thresholded && x == t && pinIds[j] > thresholdId) {
                continue;
            }
            if (add(x, pinIds[j])) {
                t = thresholdScore;
            }
        }
    }

    void offer(float score, long id) {
        if (Float.isNaN(score) || (thresholded && !worse(thresholdScore, thresholdId, score, id))) {
            return;
        }
        add(score, id);
    }

    /** Appends the pair; returns whether the buffer was compacted (and the threshold moved). */
    private boolean add(float score, long id) {
        scores[size] = score;
        ids[size] = id;
        if (++size < scores.length) {
            return false;
        }
        compact();
        return true;
    }

    /** Keeps the best k of the buffer in {@code [0, k)}, the worst of them at {@code k − 1}: the threshold. */
    private void compact() {
        select(0, size - 1, k - 1);
        size = k;
        thresholded = true;
        thresholdScore = scores[k - 1];
        thresholdId = ids[k - 1];
    }

    int size() {
        return Math.min(size, k);
    }

    /** Empties the buffer into {@code outIds}/{@code outScores} (length {@link #size()}), best first. */
    void drainBestFirst(long[] outIds, float[] outScores) {
        if (size > k) {
            compact();
        }
        sort(0, size - 1);
        System.arraycopy(ids, 0, outIds, 0, size);
        System.arraycopy(scores, 0, outScores, 0, size);
        size = 0;
        thresholded = false;
    }

    /** Whether position i ranks before position j. */
    private boolean before(int i, int j) {
        return worse(scores[j], ids[j], scores[i], ids[i]);
    }

    /** Rearranges {@code [lo, hi]} so that position {@code nth} holds what a full sort would put there. */
    private void select(int lo, int hi, int nth) {
        while (hi > lo) {
            int p = partition(lo, hi);
            if (p == nth) {
                return;
            }
            if (nth < p) {
                hi = p - 1;
            } else {
                lo = p + 1;
            }
        }
    }

    private void sort(int lo, int hi) {
        while (hi - lo > 16) {
            int p = partition(lo, hi);
            if (p - lo < hi - p) {
                sort(lo, p - 1);
                lo = p + 1;
            } else {
                sort(p + 1, hi);
                hi = p - 1;
            }
        }
        for (int i = lo + 1; i <= hi; i++) {
            for (int j = i; j > lo && before(j, j - 1); j--) {
                swap(j, j - 1);
            }
        }
    }

    /** Lomuto partition around the median of three; returns the pivot's final position. */
    private int partition(int lo, int hi) {
        int mid = (lo + hi) >>> 1;
        if (before(mid, lo)) {
            swap(mid, lo);
        }
        if (before(hi, lo)) {
            swap(hi, lo);
        }
        if (before(hi, mid)) {
            swap(hi, mid);
        }
        swap(mid, hi);
        int store = lo;
        for (int i = lo; i < hi; i++) {
            if (before(i, hi)) {
                swap(i, store++);
            }
        }
        swap(store, hi);
        return store;
    }

    private void swap(int i, int j) {
        float s = scores[i];
        scores[i] = scores[j];
        scores[j] = s;
        long id = ids[i];
        ids[i] = ids[j];
        ids[j] = id;
    }
}
