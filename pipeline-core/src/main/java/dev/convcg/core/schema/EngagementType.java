package dev.convcg.core.schema;

/** Onsite engagement on a served pin. Only CLICK carries a dwell duration. */
public enum EngagementType {
    CLICK,
    SAVE
}
