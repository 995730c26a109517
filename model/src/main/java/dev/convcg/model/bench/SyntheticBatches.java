package dev.convcg.model.bench;

import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic batches for any {@link FeatureSchema}, for the benchmark and tests.
 * Pins are drawn from a skewed pool (so accidental hits and logQ matter), advertisers are
 * {@code pin % advertisers}; features named {@code pin_id} / {@code advertiser_id} carry the
 * same ids as the label columns. Same seed, same batches.
 */
public final class SyntheticBatches {
    private final FeatureSchema schema;
    private final int rows;
    private final int hardNegatives;
    private final int pinPool;
    private final int advertisers;

    public SyntheticBatches(FeatureSchema schema, int rows, int hardNegatives, int pinPool, int advertisers) {
        this.schema = schema;
        this.rows = rows;
        this.hardNegatives = hardNegatives;
        this.pinPool = pinPool;
        this.advertisers = advertisers;
    }

    /** Batch number {@code index} of the stream with this seed. */
    public TrainingBatch batch(long seed, long index) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        long[] pins = new long[rows];
        long[] advs = new long[rows];
        byte[] tasks = new byte[rows];
        float[] weights = new float[rows];
        double[] q = new double[rows];
        long[] users = new long[rows];
        for (int i = 0; i < rows; i++) {
            pins[i] = skewedPin(r);
            advs[i] = pins[i] % advertisers;
            tasks[i] = r.nextInt(4) == 0 ? Task.CONVERSION.code() : Task.ENGAGEMENT.code();
            weights[i] = 0.5f + (float) r.nextDouble();
            q[i] = Math.min(1.0, 2.0 / (1 + pins[i]) / Math.log(pinPool));
            users[i] = r.nextLong(1_000_000);
        }
        long[] negPins = new long[hardNegatives];
        long[] negAdvs = new long[hardNegatives];
        for (int j = 0; j < hardNegatives; j++) {
            negPins[j] = skewedPin(r);
            negAdvs[j] = negPins[j] % advertisers;
        }
        FeatureBatch user = features(schema.user(), r, users, null, null);
        FeatureBatch pin = features(schema.pin(), r, pins, pins, advs);
        FeatureBatch neg = hardNegatives == 0 ? null : features(schema.pin(), r, negPins, negPins, negAdvs);
        return new TrainingBatch(user, pin, pins, advs, tasks, weights, q, neg, negPins, negAdvs, null);
    }

    /** {@code count} batches of the stream with this seed. */
    public List<TrainingBatch> batches(long seed, int count) {
        List<TrainingBatch> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(batch(seed, i));
        }
        return out;
    }

    private long skewedPin(SplittableRandom r) {
        return (long) Math.floor(Math.pow(pinPool, r.nextDouble())) - 1;
    }

    private FeatureBatch features(
            List<FeatureSpec> specs, SplittableRandom r, long[] rowIds, long[] pinIds, long[] advIds) {
        int b = rowIds.length;
        FeatureBatch.Builder fb = FeatureBatch.builder(b);
        for (FeatureSpec s : specs) {
            switch (s.kind()) {
                case ID -> {
                    long[] v = new long[b];
                    for (int i = 0; i < b; i++) {
                        if (s.name().equals("pin_id") && pinIds != null) {
                            v[i] = pinIds[i];
                        } else if (s.name().equals("advertiser_id") && advIds != null) {
                            v[i] = advIds[i];
                        } else if (s.name().equals("user_id")) {
                            v[i] = rowIds[i];
                        } else {
                            v[i] = s.hashed() ? r.nextLong() % 5000 : r.nextInt(s.buckets());
                        }
                    }
                    fb.id(s.name(), v);
                }
                case ID_SEQUENCE -> {
                    int w = s.maxLength();
                    long[] v = new long[b * w];
                    int[] len = new int[b];
                    for (int i = 0; i < b; i++) {
                        len[i] = r.nextInt(w + 1);
                        for (int j = 0; j < len[i]; j++) {
                            v[i * w + j] = skewedPin(r);
                        }
                    }
                    fb.sequence(s.name(), v, w, len);
                }
                case NUMERIC -> {
                    float[] v = new float[b];
                    for (int i = 0; i < b; i++) {
                        v[i] = s.log1p() ? r.nextInt(100) : (float) r.nextDouble() * 0.1f;
                    }
                    fb.numeric(s.name(), v);
                }
                case VECTOR -> {
                    float[] v = new float[b * s.dim()];
                    boolean[] present = new boolean[b];
                    for (int i = 0; i < b; i++) {
                        present[i] = r.nextInt(10) != 0;
                        for (int k = 0; k < s.dim(); k++) {
                            v[i * s.dim() + k] = (float) (r.nextDouble() - 0.5);
                        }
                    }
                    fb.vector(s.name(), v, s.dim(), present);
                }
            }
        }
        return fb.build();
    }
}
