package dev.convcg.jobs.config;

/** A configuration value that cannot be used; the message names the key, the value and what is allowed. */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
        super(message);
    }

    public InvalidConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
