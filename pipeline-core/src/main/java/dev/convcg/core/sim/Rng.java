package dev.convcg.core.sim;

import java.util.SplittableRandom;

/** Seed mixing and small sampling helpers shared by the simulator's random streams. */
final class Rng {
    private Rng() {}

    /** SplitMix64 finaliser: a bijective, well-mixed 64-bit hash. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** An independent stream for (seed, kind, index). */
    static SplittableRandom stream(long seed, long kind, long index) {
        return new SplittableRandom(mix64(mix64(seed ^ mix64(kind)) + index));
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    static int poisson(SplittableRandom r, double mean) {
        if (mean > 30) {
            return Math.max(0, (int) Math.round(mean + Math.sqrt(mean) * r.nextGaussian()));
        }
        double l = Math.exp(-mean);
        double p = 1.0;
        int k = 0;
        do {
            k++;
            p *= r.nextDouble();
        } while (p > l);
        return k - 1;
    }

    static float[] gaussianUnit(SplittableRandom r, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return normalise(v);
    }

    static float[] normalise(float[] v) {
        double n = 0;
        for (float x : v) {
            n += x * x;
        }
        float inv = (float) (1.0 / Math.sqrt(Math.max(n, 1e-12)));
        for (int i = 0; i < v.length; i++) {
            v[i] *= inv;
        }
        return v;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Index of the first cumulative weight above u·total (cumulative must be non-decreasing). */
    static int sampleCumulative(double[] cumulative, int from, int to, double u) {
        double lo = from == 0 ? 0 : cumulative[from - 1];
        double target = lo + u * (cumulative[to - 1] - lo);
        int a = from;
        int b = to - 1;
        while (a < b) {
            int m = (a + b) >>> 1;
            if (cumulative[m] > target) {
                b = m;
            } else {
                a = m + 1;
            }
        }
        return a;
    }
}
