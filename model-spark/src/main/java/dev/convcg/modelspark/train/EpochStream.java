package dev.convcg.modelspark.train;

import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.train.EpochSource;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;

/**
 * Reads the single sorted stream a training task receives — every epoch's shuffled training rows, each followed by
 * the validation rows — and serves it to the trainer as one {@link EpochSource} for training and one for
 * validation, in the order {@code TwoTowerTrainer.fit} asks for them. Positives (CONVERSION, ENGAGEMENT) fill the
 * batch rows; NEGATIVE rows (served impressions with no engagement, or negatives sampled from the catalog, whose
 * sampling probability rides along for the logQ correction; 0 for served ones) met while a batch fills become its extra
 * hard-negative columns, up to {@code maxHardNegatives}. Rows of a segment the trainer did not consume (a skipped
 * epoch on resume) are passed over.
 *
 * <p>Row layout: see {@link #EPOCH} ... {@link #FEATURES}; the user tower's features follow, then the pin tower's.
 */
public final class EpochStream {
    public static final int EPOCH = 0,
            PART = 1,
            TASK = 2,
            WEIGHT = 3,
            SAMPLING_PROB = 4,
            PIN_ID = 5,
            ADVERTISER_ID = 6,
            FEATURES = 7;
    public static final int TRAIN = 0, VALIDATION = 1;

    private final Iterator<Row> rows;
    private final FeatureSchema schema;
    private final int batchSize;
    private final int maxHardNegatives;
    private final ValidationSample sample;
    private final long trainPositivesPerEpoch;
    private Row head;
    private long droppedHardNegatives;
    private long inputNanos;
    private long positives;
    private long hardNegatives;

    /** @param trainPositivesPerEpoch training positives in each epoch (batches per epoch for the ETA), or -1 */
    public EpochStream(
            Iterator<Row> rows,
            FeatureSchema schema,
            int batchSize,
            int maxHardNegatives,
            ValidationSample sample,
            long trainPositivesPerEpoch) {
        this.rows = rows;
        this.schema = schema;
        this.batchSize = batchSize;
        this.maxHardNegatives = maxHardNegatives;
        this.sample = sample;
        this.trainPositivesPerEpoch = trainPositivesPerEpoch;
    }

    public EpochSource train() {
        return new EpochSource() {
            @Override
            public Iterator<TrainingBatch> open(int epoch) {
                return segment(epoch, TRAIN);
            }

            @Override
            public long stepsPerEpoch() {
                return trainPositivesPerEpoch < 0 ? -1 : (trainPositivesPerEpoch + batchSize - 1) / batchSize;
            }
        };
    }

    public EpochSource validation() {
        return epoch -> segment(epoch, VALIDATION);
    }

    /** Hard negatives left out because a batch already had {@code maxHardNegatives}. */
    public long droppedHardNegatives() {
        return droppedHardNegatives;
    }

    /** Time spent waiting for rows and assembling batches, i.e. time the trainer waited on input. */
    public double inputSeconds() {
        return inputNanos / 1e9;
    }

    public long positives() {
        return positives;
    }

    public long hardNegatives() {
        return hardNegatives;
    }

    private Row peek() {
        if (head == null && rows.hasNext()) {
            head = rows.next();
        }
        return head;
    }

    private static int compare(Row r, int epoch, int part) {
        int c = Integer.compare(r.getInt(EPOCH), epoch);
        return c != 0 ? c : Integer.compare(r.getInt(PART), part);
    }

    private Iterator<TrainingBatch> segment(int epoch, int part) {
        long t0 = System.nanoTime();
        while (peek() != null && compare(head, epoch, part) < 0) {
            head = null;
        }
        inputNanos += System.nanoTime() - t0;
        int userFirst = FEATURES;
        int pinFirst = FEATURES + schema.user().size();
        FeatureBatchAssembler users = new FeatureBatchAssembler(schema.user(), userFirst, batchSize);
        FeatureBatchAssembler pins = new FeatureBatchAssembler(schema.pin(), pinFirst, batchSize);
        FeatureBatchAssembler negatives =
                new FeatureBatchAssembler(schema.pin(), pinFirst, Math.max(1, maxHardNegatives));
        long[] pinIds = new long[batchSize];
        long[] advertiserIds = new long[batchSize];
        byte[] tasks = new byte[batchSize];
        float[] weights = new float[batchSize];
        double[] samplingProb = new double[batchSize];
        long[] negativePinIds = new long[Math.max(1, maxHardNegatives)];
        long[] negativeAdvertiserIds = new long[Math.max(1, maxHardNegatives)];
        double[] negativeSamplingProb = new double[Math.max(1, maxHardNegatives)];
        boolean collectSample = part == VALIDATION && sample != null && !sample.complete();

        return new Iterator<>() {
            TrainingBatch next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    long t0 = System.nanoTime();
                    next = fill();
                    inputNanos += System.nanoTime() - t0;
                }
                return next != null;
            }

            @Override
            public TrainingBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                TrainingBatch b = next;
                next = null;
                return b;
            }

            private TrainingBatch fill() {
                while (!users.full() && peek() != null && compare(head, epoch, part) == 0) {
                    Row r = head;
                    head = null;
                    Task task = Task.fromName(r.getString(TASK));
                    if (collectSample) {
                        sample.offer(r, task, userFirst, pinFirst);
                    }
                    if (task == Task.NEGATIVE) {
                        hardNegatives++;
                        if (negatives.rows() < maxHardNegatives) {
                            negativePinIds[negatives.rows()] = r.getLong(PIN_ID);
                            negativeAdvertiserIds[negatives.rows()] = r.getLong(ADVERTISER_ID);
                            negativeSamplingProb[negatives.rows()] = r.getDouble(SAMPLING_PROB);
                            negatives.add(r);
                        } else {
                            droppedHardNegatives++;
                        }
                        continue;
                    }
                    positives++;
                    int i = users.rows();
                    pinIds[i] = r.getLong(PIN_ID);
                    advertiserIds[i] = r.getLong(ADVERTISER_ID);
                    tasks[i] = task.code();
                    weights[i] = r.getFloat(WEIGHT);
                    samplingProb[i] = r.getDouble(SAMPLING_PROB);
                    users.add(r);
                    pins.add(r);
                }
                if (collectSample && (peek() == null || compare(head, epoch, part) != 0)) {
                    sample.finish();
                }
                int n = users.rows();
                if (n == 0) {
                    if (negatives.rows() > 0) {
                        negatives.build();
                    }
                    return null;
                }
                int h = negatives.rows();
                FeatureBatch hard = h == 0 ? null : negatives.build();
                return new TrainingBatch(
                        users.build(),
                        pins.build(),
                        Arrays.copyOf(pinIds, n),
                        Arrays.copyOf(advertiserIds, n),
                        Arrays.copyOf(tasks, n),
                        Arrays.copyOf(weights, n),
                        Arrays.copyOf(samplingProb, n),
                        hard,
                        h == 0 ? null : Arrays.copyOf(negativePinIds, h),
                        h == 0 ? null : Arrays.copyOf(negativeAdvertiserIds, h),
                        h == 0 ? null : Arrays.copyOf(negativeSamplingProb, h));
            }
        };
    }
}
