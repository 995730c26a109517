package dev.convcg.model.features;

/** Kinds of tower inputs. */
public enum FeatureKind {
    /** One 64-bit id per row, looked up in an embedding table. */
    ID,
    /** A padded list of ids per row, looked up then pooled. */
    ID_SEQUENCE,
    /** One float per row. */
    NUMERIC,
    /** A fixed-length float vector per row, possibly absent. */
    VECTOR
}
