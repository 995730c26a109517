package dev.convcg.model.config;

import java.util.Collection;

/**
 * Validation helpers shared by the settings records. Every failure is an {@link
 * IllegalArgumentException} naming the field, the rejected value and what is allowed, so a
 * mistyped HOCON key surfaces with a readable message.
 */
public final class Checks {
    private Checks() {}

    public static void require(boolean ok, String field, Object value, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(field + " = " + value + " is invalid; allowed: " + allowed);
        }
    }

    public static void positive(String field, long value) {
        require(value > 0, field, value, "an integer > 0");
    }

    public static void nonNegative(String field, long value) {
        require(value >= 0, field, value, "an integer >= 0");
    }

    public static void positive(String field, double value) {
        require(value > 0 && Double.isFinite(value), field, value, "a finite number > 0");
    }

    public static void nonNegative(String field, double value) {
        require(value >= 0 && Double.isFinite(value), field, value, "a finite number >= 0");
    }

    public static void inRange(String field, double value, double lo, double hi) {
        require(value >= lo && value <= hi, field, value, "a number in [" + lo + ", " + hi + "]");
    }

    public static void notNull(String field, Object value) {
        require(value != null, field, "null", "a non-null value");
    }

    public static void nonEmpty(String field, Collection<?> value) {
        require(value != null && !value.isEmpty(), field, value, "a non-empty list");
    }
}
