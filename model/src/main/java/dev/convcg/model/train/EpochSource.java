package dev.convcg.model.train;

import dev.convcg.model.data.TrainingBatch;
import java.util.Collection;
import java.util.Iterator;

/**
 * Supplies one iterator of batches per epoch. Resume replays the interrupted epoch by re-opening it
 * and skipping the batches already trained, so {@code open(e)} must yield the same batches in the
 * same order every time it is called with the same e (shuffle with a seed derived from e).
 */
@FunctionalInterface
public interface EpochSource {
    Iterator<TrainingBatch> open(int epoch);

    /** Batches per epoch if known (for the ETA), else -1. */
    default long stepsPerEpoch() {
        return -1;
    }

    /** The same batches every epoch; a collection's size is the epoch's known length. */
    static EpochSource of(Iterable<TrainingBatch> batches) {
        long steps = batches instanceof Collection<?> c ? c.size() : -1;
        return new EpochSource() {
            @Override
            public Iterator<TrainingBatch> open(int epoch) {
                return batches.iterator();
            }

            @Override
            public long stepsPerEpoch() {
                return steps;
            }
        };
    }
}
