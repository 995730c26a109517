package dev.convcg.jobs;

/** A day's upstream inputs are not there (yet): the run must wait or fail, never proceed on nothing. */
public final class InputsMissingException extends RuntimeException {
    public InputsMissingException(String message) {
        super(message);
    }
}
