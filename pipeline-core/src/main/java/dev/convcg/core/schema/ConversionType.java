package dev.convcg.core.schema;

/** Offsite conversion reported by an advertiser, after the fact. */
public enum ConversionType {
    ADD_TO_CART,
    CHECKOUT
}
