package dev.convcg.core.embeddings;

import java.util.Optional;

/**
 * Whether today's fresh embeddings may be averaged with the previously published ones. Embeddings of two models are
 * only comparable when one was warm-started from the other (directly or through a chain): they then share a lineage
 * id. Averaging across unrelated models mixes two unrelated vector spaces, so it is refused unless the caller asks
 * for a reset, which discards the history and starts smoothing afresh.
 */
public final class LineageRule {
    private LineageRule() {}

    /** What to do with the history. */
    public enum Decision {
        /** No previous embeddings: publish the fresh ones as they are. */
        FIRST,
        /** Same lineage: smooth against the previous embeddings and carry over the missing entities. */
        CONTINUE,
        /** Reset asked for: ignore the previous embeddings (no smoothing, no carry-over). */
        RESET
    }

    /** Thrown when the serving model and the published embeddings come from different lineages. */
    public static final class LineageMismatchException extends IllegalStateException {
        public LineageMismatchException(String message) {
            super(message);
        }
    }

    /**
     * @param what             table being published, for the message
     * @param servingModel     version of the model producing today's embeddings
     * @param servingLineage   its lineage id
     * @param previousLineage  lineage id of the previously published embeddings, if any
     * @param previousDescribe where those embeddings are (day, model version), for the message
     * @param reset            the caller asked to restart smoothing
     */
    public static Decision decide(
            String what,
            String servingModel,
            String servingLineage,
            Optional<String> previousLineage,
            String previousDescribe,
            boolean reset) {
        if (servingLineage == null || servingLineage.isBlank()) {
            throw new IllegalArgumentException("model " + servingModel + " has no lineage id: cannot tell whether its "
                    + "embeddings may be averaged with the published ones");
        }
        if (reset) {
            return Decision.RESET;
        }
        if (previousLineage.isEmpty()) {
            return Decision.FIRST;
        }
        if (previousLineage.get().equals(servingLineage)) {
            return Decision.CONTINUE;
        }
        throw new LineageMismatchException("refusing to smooth " + what + ": model " + servingModel + " has lineage '"
                + servingLineage + "' but the previous embeddings (" + previousDescribe + ") have lineage '"
                + previousLineage.get() + "'. Averaging embeddings of unrelated models is meaningless. Either serve a "
                + "model warm-started from that lineage, or set infer-embeddings.reset = true to discard the history "
                + "and publish the new model's embeddings unsmoothed");
    }
}
