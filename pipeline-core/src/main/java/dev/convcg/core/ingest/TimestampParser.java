package dev.convcg.core.ingest;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;
import java.time.temporal.TemporalQueries;
import java.util.Locale;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Parses written times into epoch microseconds for a Spark UDF, with java.time semantics rather than Spark's own
 * datetime patterns: ISO-8601 (a date, or a date-time with an optional offset or [zone]; a space may stand for the
 * T), or a {@link DateTimeFormatter} pattern whose missing year is the configured default year. Times without an
 * offset are in the configured zone, times without a time of day are the start of their day. Text that is not such
 * a time gives null, never an exception.
 */
final class TimestampParser implements UDF1<String, Long> {
    private final String pattern;
    private final String zone;
    private final int defaultYear;
    private transient DateTimeFormatter formatter;
    private transient ZoneId zoneId;

    /** {@code pattern} empty: ISO-8601. */
    TimestampParser(String pattern, ZoneId zone, int defaultYear) {
        this.pattern = pattern;
        this.zone = zone.getId();
        this.defaultYear = defaultYear;
    }

    @Override
    public Long call(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            TemporalAccessor t = formatter().parse(text.trim());
            LocalDate date = t.query(TemporalQueries.localDate());
            if (date == null) {
                return null;
            }
            LocalTime time = t.query(TemporalQueries.localTime());
            ZoneId written = t.query(TemporalQueries.zone());
            Instant i = LocalDateTime.of(date, time == null ? LocalTime.MIDNIGHT : time)
                    .atZone(written == null ? zoneId : written)
                    .toInstant();
            return micros(i);
        } catch (DateTimeException | ArithmeticException e) {
            return null;
        }
    }

    /** Whether a pattern writes a year (letters y, u or Y outside quoted text). */
    static boolean hasYear(String pattern) {
        boolean quoted = false;
        for (char ch : pattern.toCharArray()) {
            if (ch == '\'') {
                quoted = !quoted;
            } else if (!quoted && (ch == 'y' || ch == 'u' || ch == 'Y')) {
                return true;
            }
        }
        return false;
    }

    static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000L);
    }

    private DateTimeFormatter formatter() {
        if (formatter == null) {
            zoneId = ZoneId.of(zone);
            DateTimeFormatterBuilder b = new DateTimeFormatterBuilder().parseCaseInsensitive();
            if (pattern.isEmpty()) {
                b.append(DateTimeFormatter.ISO_LOCAL_DATE)
                        .optionalStart()
                        .optionalStart()
                        .appendLiteral('T')
                        .optionalEnd()
                        .optionalStart()
                        .appendLiteral(' ')
                        .optionalEnd()
                        .append(DateTimeFormatter.ISO_LOCAL_TIME)
                        .optionalStart()
                        .appendOffsetId()
                        .optionalEnd()
                        .optionalStart()
                        .appendLiteral('[')
                        .parseCaseSensitive()
                        .appendZoneRegionId()
                        .appendLiteral(']')
                        .optionalEnd()
                        .optionalEnd();
            } else {
                b.appendPattern(pattern);
                if (!hasYear(pattern)) {
                    b.parseDefaulting(ChronoField.YEAR, defaultYear);
                }
            }
            formatter = b.toFormatter(Locale.ENGLISH);
        }
        return formatter;
    }

    /** The start of the day (in a zone) of an epoch-microsecond time, as epoch microseconds; null for null. */
    static final class DayStart implements UDF1<Long, Long> {
        private final String zone;
        private transient ZoneId zoneId;

        DayStart(ZoneId zone) {
            this.zone = zone.getId();
        }

        @Override
        public Long call(Long micros) {
            if (micros == null) {
                return null;
            }
            if (zoneId == null) {
                zoneId = ZoneId.of(zone);
            }
            try {
                LocalDate day = Instant.EPOCH
                        .plus(micros, ChronoUnit.MICROS)
                        .atZone(zoneId)
                        .toLocalDate();
                return micros(day.atStartOfDay(zoneId).toInstant());
            } catch (DateTimeException | ArithmeticException e) {
                return null;
            }
        }
    }
}
