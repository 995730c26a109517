package dev.convcg.core.training;

/** A raw table had more quarantined rows than {@code quarantine-threshold} allows; the run must stop. */
public final class QuarantineThresholdExceededException extends IllegalStateException {
    public QuarantineThresholdExceededException(String message) {
        super(message);
    }
}
