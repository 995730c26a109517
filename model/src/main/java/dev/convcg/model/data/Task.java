package dev.convcg.model.data;

import java.util.Locale;

/** The {@code task} label of a training example, stored in batches as its byte {@link #code()}. */
public enum Task {
    CONVERSION((byte) 0),
    ENGAGEMENT((byte) 1),
    /** A served impression without engagement: never a softmax row, only a hard-negative column. */
    NEGATIVE((byte) 2);

    private final byte code;

    Task(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }

    public static Task fromCode(byte code) {
        for (Task t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("task code = " + code + " is invalid; allowed: 0, 1, 2");
    }

    public static Task fromName(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "task = " + name + " is invalid; allowed: CONVERSION, ENGAGEMENT, NEGATIVE", e);
        }
    }
}
