package dev.convcg.modelspark.train;

import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.data.Task;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * A fixed sample of validation conversions and a candidate set of validation pins, captured once from the
 * validation stream, for the per-epoch sampled recall@K: the share of sampled conversions whose pin ranks in the
 * top K of all candidates for that user. Cheap enough to run every epoch; the full-catalog recall is the
 * evaluation stage's job.
 */
public final class ValidationSample {
    private final int maxConversions;
    private final int maxCandidates;
    private final FeatureBatchAssembler users;
    private final FeatureBatchAssembler candidates;
    private final long[] conversionPins;
    private final Map<Long, Integer> candidateIndex = new HashMap<>();
    private long[] candidatePins;
    private FeatureBatch userBatch;
    private FeatureBatch candidateBatch;
    private boolean complete;

    public ValidationSample(FeatureSchema schema, int maxConversions, int maxCandidates) {
        this.maxConversions = maxConversions;
        this.maxCandidates = maxCandidates;
        int userFirst = EpochStream.FEATURES;
        int pinFirst = EpochStream.FEATURES + schema.user().size();
        users = new FeatureBatchAssembler(schema.user(), userFirst, maxConversions);
        candidates = new FeatureBatchAssembler(schema.pin(), pinFirst, maxCandidates);
        conversionPins = new long[maxConversions];
        candidatePins = new long[maxCandidates];
    }

    boolean complete() {
        return complete;
    }

    void offer(Row r, Task task, int userFirst, int pinFirst) {
        long pin = r.getLong(EpochStream.PIN_ID);
        boolean isConversion = task == Task.CONVERSION && users.rows() < maxConversions;
        boolean known = candidateIndex.containsKey(pin);
        if (!known
                && candidates.rows() < maxCandidates
                && (isConversion || candidates.rows() < maxCandidates - maxConversions)) {
            candidateIndex.put(pin, candidates.rows());
            candidatePins[candidates.rows()] = pin;
            candidates.add(r);
            known = true;
        }
        if (isConversion && known) {
            conversionPins[users.rows()] = pin;
            users.add(r);
        }
    }

    void finish() {
        if (!complete && users.rows() > 0) {
            int n = users.rows();
            userBatch = users.build();
            candidatePins = Arrays.copyOf(candidatePins, candidates.rows());
            candidateBatch = candidates.build();
            sampledConversions = n;
        }
        complete = true;
    }

    private int sampledConversions;

    public int conversions() {
        return sampledConversions;
    }

    public int candidates() {
        return candidatePins.length;
    }

    /** Share of sampled conversions whose pin is among the top {@code k} candidates; NaN when nothing was sampled. */
    public double recallAt(TwoTowerEncoder encoder, int k) {
        if (userBatch == null) {
            return Double.NaN;
        }
        float[][] u = encoder.encodeUsers(userBatch);
        float[][] p = encoder.encodePins(candidateBatch);
        int hits = 0;
        for (int i = 0; i < u.length; i++) {
            float own = TwoTowerEncoder.score(u[i], p[candidateIndex.get(conversionPins[i])]);
            int better = 0;
            for (float[] candidate : p) {
                if (TwoTowerEncoder.score(u[i], candidate) > own && ++better >= k) {
                    break;
                }
            }
            if (better < k) {
                hits++;
            }
        }
        return (double) hits / u.length;
    }
}
