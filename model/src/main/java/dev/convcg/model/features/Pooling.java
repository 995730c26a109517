package dev.convcg.model.features;

/** Pooling of an embedded id sequence into one vector. */
public enum Pooling {
    /** {@code Σ_l m_l e_l / max(1, Σ_l m_l)} over the valid positions. */
    MEAN,
    /**
     * {@code Σ_l a_l e_l} with {@code a = softmax_l(q·e_l / √d)} over valid positions and a learned
     * query q per feature (target-free attention); empty sequences pool to zeros.
     */
    ATTENTION
}
