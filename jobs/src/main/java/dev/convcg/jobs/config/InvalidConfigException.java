package dev.convcg.jobs.config;

/**
 * A configuration value, or an input's shape, that cannot be used and that a retry cannot fix (exit code 2); the
 * message names the key or the table and column, the value and what is allowed.
 */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
        super(message);
    }

    public InvalidConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
