package dev.convcg.core.ingest;

import dev.convcg.core.schema.Surface;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a generic event file maps onto the raw tables: which source column holds each field, and what each source
 * event value becomes. The default preset describes the Taobao UserBehavior CSV.
 *
 * @param userIdColumn       source column with the user id (integer)
 * @param pinIdColumn        source column with the pin/item id (integer)
 * @param advertiserIdColumn source column used as advertiser id (integer)
 * @param categoryColumn     source column used as the pin category
 * @param eventTypeColumn    source column with the event value
 * @param timestampColumn    source column with the event time
 * @param timestampUnit      how the time is written
 * @param eventValues        source event value to raw events it produces
 * @param surface            surface given to imported impressions
 */
public record ImportSettings(
        String userIdColumn,
        String pinIdColumn,
        String advertiserIdColumn,
        String categoryColumn,
        String eventTypeColumn,
        String timestampColumn,
        TimestampUnit timestampUnit,
        Map<String, List<RawEvent>> eventValues,
        Surface surface) implements Serializable {

    /** What one source event can become in the raw tables. */
    public enum RawEvent { IMPRESSION, CLICK, SAVE, ADD_TO_CART, CHECKOUT }

    public enum TimestampUnit { SECONDS, MILLIS, ISO }

    public ImportSettings {
        eventValues = Map.copyOf(eventValues);
        if (eventValues.isEmpty()) {
            throw new IllegalArgumentException("event-values is empty: map at least one source value to "
                    + List.of(RawEvent.values()));
        }
        eventValues.forEach((value, events) -> {
            if (events.isEmpty()) {
                throw new IllegalArgumentException("event-values." + value + " is empty: list at least one of "
                        + List.of(RawEvent.values()));
            }
            if (events.contains(RawEvent.CLICK) && !events.contains(RawEvent.IMPRESSION)) {
                throw new IllegalArgumentException("event-values." + value + " = " + events
                        + ": a CLICK needs an IMPRESSION to belong to; add IMPRESSION");
            }
        });
    }

    /** The Taobao UserBehavior preset (see docs/data-model.md, "Real logs"). */
    public static ImportSettings taobao() {
        return new ImportSettings("user_id", "item_id", "category_id", "category_id", "behavior", "timestamp",
                TimestampUnit.SECONDS,
                Map.of("pv", List.of(RawEvent.IMPRESSION, RawEvent.CLICK),
                        "fav", List.of(RawEvent.SAVE),
                        "cart", List.of(RawEvent.ADD_TO_CART),
                        "buy", List.of(RawEvent.CHECKOUT)),
                Surface.HOME_FEED);
    }

    Set<String> valuesProducing(RawEvent e) {
        return eventValues.entrySet().stream().filter(x -> x.getValue().contains(e)).map(Map.Entry::getKey)
                .collect(java.util.stream.Collectors.toSet());
    }
}
