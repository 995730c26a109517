package dev.convcg.core.ingest;

import dev.convcg.core.schema.Surface;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How a generic event file maps onto the raw tables: which source column holds each field, how its time is written,
 * which days are plausible, and what each source event value becomes. {@link #taobao()} is the default preset (the
 * Taobao UserBehavior CSV); docs/data-model.md, "Real logs", explains every field.
 *
 * @param columns              the source column of each field
 * @param timestampUnit        how the time is written
 * @param timestampPattern     java.time pattern of {@link TimestampUnit#PATTERN}; empty otherwise
 * @param zone                 zone of times written without an offset (ISO, PATTERN) and of FUNNEL's days
 * @param defaultYear          year of a pattern that has none (0: none given)
 * @param withinDayOrder       how events of one day are ordered when the log has dates only
 * @param hashIds              map ids that are not integers to a stable 64-bit hash instead of quarantining them
 * @param eventValues          source event value to the raw events it produces
 * @param surface              surface given to imported impressions
 * @param from                 first plausible day (null: {@code maxDaysBeforeRunDate} before the run date)
 * @param to                   last plausible day (null: the run date)
 * @param maxDaysBeforeRunDate how far before the run date a day may lie when {@code from} is not given
 */
public record ImportSettings(
        Columns columns,
        TimestampUnit timestampUnit,
        String timestampPattern,
        ZoneId zone,
        int defaultYear,
        WithinDayOrder withinDayOrder,
        boolean hashIds,
        Map<String, List<RawEvent>> eventValues,
        Surface surface,
        LocalDate from,
        LocalDate to,
        int maxDaysBeforeRunDate)
        implements Serializable {

    /** What one source event can become in the raw tables, in funnel order (see {@link WithinDayOrder#FUNNEL}). */
    public enum RawEvent {
        IMPRESSION,
        CLICK,
        SAVE,
        ADD_TO_CART,
        CHECKOUT
    }

    /**
     * SECONDS and MILLIS: integer epoch values. ISO: ISO-8601 dates or date-times (a space may stand for the T).
     * PATTERN: {@link #timestampPattern}, a java.time {@link DateTimeFormatter} pattern.
     */
    public enum TimestampUnit {
        SECONDS,
        MILLIS,
        ISO,
        PATTERN
    }

    /**
     * NONE: times are kept as written. FUNNEL, for logs whose times are dates only: every event is placed at the start
     * of its day (in {@link #zone}) plus as many seconds as its raw event's position in {@link RawEvent} (IMPRESSION
     * +0 s, CLICK +1 s, SAVE +2 s, ADD_TO_CART +3 s, CHECKOUT +4 s), so a purchase follows the same day's click.
     */
    public enum WithinDayOrder {
        NONE,
        FUNNEL
    }

    /**
     * Source columns. {@code advertiserId}, {@code category} and {@code price} may be empty (absent): the advertiser
     * then is the category column's value, else the pin id itself; the category is the advertiser column's value,
     * else null; the price is null.
     */
    public record Columns(
            String userId,
            String pinId,
            String advertiserId,
            String category,
            String price,
            String eventType,
            String timestamp)
            implements Serializable {
        public Columns {
            require("user-id", userId);
            require("pin-id", pinId);
            require("event-type", eventType);
            require("timestamp", timestamp);
            advertiserId = advertiserId == null ? "" : advertiserId.trim();
            category = category == null ? "" : category.trim();
            price = price == null ? "" : price.trim();
        }

        /** The configured columns by their {@code import-events} key, absent optional ones left out. */
        public Map<String, String> byKey() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("user-id", userId);
            m.put("pin-id", pinId);
            m.put("advertiser-id", advertiserId);
            m.put("category", category);
            m.put("price", price);
            m.put("event-type", eventType);
            m.put("timestamp", timestamp);
            m.values().removeIf(String::isEmpty);
            return m;
        }

        private static void require(String key, String column) {
            if (column == null || column.isBlank()) {
                throw new IllegalArgumentException(key + " is empty: name the source column that holds it");
            }
        }
    }

    /** The days an import accepts, both included. */
    public record DayWindow(LocalDate first, LocalDate last) {
        public boolean contains(LocalDate d) {
            return !d.isBefore(first) && !d.isAfter(last);
        }
    }

    public ImportSettings {
        eventValues = Map.copyOf(eventValues);
        zone = zone.normalized();
        timestampPattern = timestampPattern == null ? "" : timestampPattern;
        if (eventValues.isEmpty()) {
            throw new IllegalArgumentException(
                    "event-values is empty: map at least one source value to " + List.of(RawEvent.values()));
        }
        eventValues.forEach((value, events) -> {
            if (events.isEmpty()) {
                throw new IllegalArgumentException(
                        "event-values." + value + " is empty: list at least one of " + List.of(RawEvent.values()));
            }
            if (events.contains(RawEvent.CLICK) && !events.contains(RawEvent.IMPRESSION)) {
                throw new IllegalArgumentException("event-values." + value + " = " + events
                        + ": a CLICK needs an IMPRESSION to belong to; add IMPRESSION");
            }
        });
        if (timestampUnit == TimestampUnit.PATTERN) {
            if (timestampPattern.isBlank()) {
                throw new IllegalArgumentException("timestamp-pattern is empty: timestamp-unit = pattern needs a "
                        + "java.time DateTimeFormatter pattern such as \"yyyy-MM-dd HH:mm:ss\" or \"M-d\"");
            }
            try {
                DateTimeFormatter.ofPattern(timestampPattern);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("timestamp-pattern = \"" + timestampPattern
                        + "\": not a java.time DateTimeFormatter pattern (" + e.getMessage() + ")");
            }
            if (!TimestampParser.hasYear(timestampPattern) && defaultYear == 0) {
                throw new IllegalArgumentException("default-year = 0: timestamp-pattern \"" + timestampPattern
                        + "\" has no year; set the year its dates are in (e.g. 2013)");
            }
        } else if (!timestampPattern.isBlank()) {
            throw new IllegalArgumentException(
                    "timestamp-pattern = \"" + timestampPattern + "\" is set but timestamp-unit = " + timestampUnit
                            + ": set timestamp-unit = pattern, or empty timestamp-pattern");
        }
        if (defaultYear < 0 || defaultYear > 9999) {
            throw new IllegalArgumentException(
                    "default-year = " + defaultYear + ": expected a year in 1..9999, or 0 for none");
        }
        if (maxDaysBeforeRunDate < 0) {
            throw new IllegalArgumentException(
                    "max-days-before-run-date = " + maxDaysBeforeRunDate + ": expected an integer >= 0");
        }
        if (from != null && to != null && from.isAfter(to)) {
            throw new IllegalArgumentException("from = " + from + " is after to = " + to + ": expected from <= to");
        }
    }

    /** The Taobao UserBehavior preset (see docs/data-model.md, "Real logs"): the defaults of reference.conf. */
    public static ImportSettings taobao() {
        return new ImportSettings(
                new Columns("user_id", "item_id", "category_id", "category_id", "", "behavior", "timestamp"),
                TimestampUnit.SECONDS,
                "",
                ZoneOffset.UTC,
                0,
                WithinDayOrder.NONE,
                false,
                Map.of(
                        "pv",
                        List.of(RawEvent.IMPRESSION, RawEvent.CLICK),
                        "fav",
                        List.of(RawEvent.SAVE),
                        "cart",
                        List.of(RawEvent.ADD_TO_CART),
                        "buy",
                        List.of(RawEvent.CHECKOUT)),
                Surface.HOME_FEED,
                null,
                null,
                3650);
    }

    /** The days accepted for a run: {@code from}..{@code to} where given, else the run date and the days before it. */
    public DayWindow plausibleDays(LocalDate runDate) {
        return new DayWindow(from != null ? from : runDate.minusDays(maxDaysBeforeRunDate), to != null ? to : runDate);
    }

    Set<String> valuesProducing(RawEvent e) {
        return eventValues.entrySet().stream()
                .filter(x -> x.getValue().contains(e))
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
    }
}
