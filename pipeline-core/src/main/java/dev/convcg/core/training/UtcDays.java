package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Column;

/** Day and hour of a timestamp in UTC, whatever the session time zone (partitions are UTC days). */
final class UtcDays {
    private UtcDays() {}

    static final long MICROS_PER_DAY = 86_400_000_000L;

    /** The UTC date of a timestamp. */
    static Column dateOf(Column ts) {
        return date_from_unix_date(floor(unix_micros(ts).divide(MICROS_PER_DAY)).cast("int"));
    }

    /** The UTC day of a timestamp as a {@code yyyy-MM-dd} partition value. */
    static Column dsOf(Column ts) {
        return dateOf(ts).cast("string");
    }

    /** The UTC hour of day, 0–23. */
    static Column hourOf(Column ts) {
        return pmod(floor(unix_micros(ts).divide(3_600_000_000L)), lit(24L)).cast("int");
    }

    /** Microseconds of a window of {@code days} days. */
    static long days(int days) {
        return days * MICROS_PER_DAY;
    }
}
