package dev.convcg.core.ingest;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.ingest.ImportSettings.Columns;
import dev.convcg.core.ingest.ImportSettings.DayWindow;
import dev.convcg.core.ingest.ImportSettings.RawEvent;
import dev.convcg.core.ingest.ImportSettings.TimestampUnit;
import dev.convcg.core.ingest.ImportSettings.WithinDayOrder;
import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.RawValidation.Reason;
import dev.convcg.core.training.StableHash;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.storage.StorageLevel;

/**
 * Maps a flat event log (one row per user action) onto the raw tables. Each source row gets the first reason of
 * {@link Reason} that applies, in the order of the fields (field count, user, pin, advertiser, event value, time,
 * price), or none; rejected rows go to the quarantine with that one reason, so rows in = accepted + quarantined.
 * Exact duplicate rows are kept: in such logs they are real repeats (several clicks on one day).
 *
 * <p>What such logs lack is filled in plainly and documented (docs/data-model.md, "Real logs"): impressions exist
 * only where an event implies one (no unengaged impressions, hence no served hard negatives), clicks carry no
 * duration, conversions are reported at their event time (no lag is known), the catalog of a day is the set of pins
 * the file shows up to that day, users carry no profile.
 */
public final class EventImporter {
    public static final String STAGE = "import-events";
    public static final String SOURCE = "events";
    /** Column of a CSV read in PERMISSIVE mode that holds a line with too many or too few fields. */
    public static final String CORRUPT_RECORD = "_corrupt_record";

    static final long MICROS_PER_SECOND = 1_000_000L;
    static final long MICROS_PER_DAY = 86_400L * MICROS_PER_SECOND;

    private static final String P = "_import_";
    private static final String REASON = P + "reason";
    private static final String USER = P + "user_id";
    private static final String PIN = P + "pin_id";
    private static final String ADVERTISER = P + "advertiser_id";
    private static final String CATEGORY = P + "category";
    private static final String PRICE = P + "price";
    private static final String VALUE = P + "event_value";
    /** Epoch microseconds of the time as written. */
    private static final String PARSED = P + "parsed";
    /** Epoch microseconds of the event (the start of its day under FUNNEL). */
    private static final String MICROS = P + "micros";
    /** The UTC day of {@link #MICROS}, whether or not it is plausible. */
    private static final String DAY = P + "day";
    /** The integer as written, for epoch units: what the unit hint of an all-implausible file looks at. */
    private static final String EPOCH = P + "epoch";
    /** FUNNEL replaced a time of day that was not the start of the day. */
    private static final String TIME_DROPPED = P + "time_dropped";

    private static final String PLAUSIBLE = P + "plausible";
    /** The source row as JSON, for rejected rows only: the source columns are not kept once mapped. */
    private static final String ROW_JSON = P + "row_json";
    /** Two hashes of the source row (96 bits in all), which tell exact duplicates apart. */
    private static final String ROW_HASH = P + "row_hash";

    private static final String ROW_HASH_2 = P + "row_hash_2";

    /**
     * The mapped import of one file. {@code tagged} (every source row, with its reason) and {@code accepted} are
     * persisted, since the quarantine, the summary and every raw table read them; {@link #release()} frees them.
     *
     * @param tagged     every source row as its mapped fields, its reason (null: accepted) and, when rejected, its JSON
     * @param accepted   accepted rows as user_id, pin_id, advertiser_id, category, price, event_value, micros, ds,
     *                   event_seq
     * @param quarantine the rejected rows in the {@link Quarantine} schema, with the input's path and hash
     * @param rawTables  the raw tables by name, each covering the days of {@code accepted}
     * @param window     the plausible days
     */
    public record Result(
            Dataset<Row> tagged,
            Dataset<Row> accepted,
            Dataset<Row> quarantine,
            Map<String, Dataset<Row>> rawTables,
            DayWindow window) {
        public void release() {
            tagged.unpersist();
            accepted.unpersist();
        }
    }

    /**
     * Counts of one import.
     *
     * @param rows             source rows
     * @param accepted         rows mapped
     * @param quarantined      rejected rows by reason
     * @param duplicateRows    rows that repeat an earlier row exactly (rows minus distinct rows, told apart by a
     *                         96-bit hash of the row); kept
     * @param days             the days (ds) the accepted rows occupy, ascending
     * @param timed            rows whose time could be read as a number or a time
     * @param inWindow         rows whose time lies on a plausible day
     * @param firstDay         first day of a readable time, plausible or not (null: none)
     * @param lastDay          last such day
     * @param minEpoch         smallest epoch value as written (epoch units; null otherwise)
     * @param maxEpoch         largest epoch value as written
     * @param droppedTimesOfDay accepted rows whose time of day FUNNEL replaced (their log has times, not dates only)
     */
    public record Summary(
            long rows,
            long accepted,
            Map<String, Long> quarantined,
            long duplicateRows,
            List<String> days,
            long timed,
            long inWindow,
            LocalDate firstDay,
            LocalDate lastDay,
            Long minEpoch,
            Long maxEpoch,
            long droppedTimesOfDay) {
        public long quarantinedRows() {
            return quarantined.values().stream().mapToLong(Long::longValue).sum();
        }

        /** True when no row was accepted although some times were readable, none of them on a plausible day. */
        public boolean allOutsideWindow() {
            return accepted == 0 && timed > 0 && inWindow == 0;
        }
    }

    private EventImporter() {}

    /**
     * Maps {@code events} (strings, or typed columns of a Parquet file) for a run of {@code runDate}. {@code inputHash}
     * identifies the input: it tags the quarantine rows and prefixes the generated impression and conversion ids, so
     * that files imported into the same days never share an id and re-importing a file gives the same ids.
     */
    public static Result map(
            Dataset<Row> events, ImportSettings s, LocalDate runDate, String inputPath, String inputHash) {
        StructType schema = events.schema();
        List<String> source = List.of(events.columns());
        Columns c = s.columns();
        DayWindow window = s.plausibleDays(runDate);

        Id user = id(schema, c.userId(), s.hashIds());
        Id pin = id(schema, c.pinId(), s.hashIds());
        Id advertiser = !c.advertiserId().isEmpty()
                ? id(schema, c.advertiserId(), s.hashIds())
                : !c.category().isEmpty()
                        ? id(schema, c.category(), true)
                        : new Id(pin.value(), lit(false), lit(false));
        Column category = !c.category().isEmpty()
                ? text(c.category())
                : !c.advertiserId().isEmpty()
                        ? text(c.advertiserId())
                        : lit(null).cast("string");
        Column priceText = c.price().isEmpty() ? lit(null).cast("string") : text(c.price());
        Column price = priceText.try_cast("double");
        Column badPrice = priceText
                .isNotNull()
                .and(coalesce(
                        price.isNull().or(isnan(price)).or(abs(price).equalTo(lit(Double.POSITIVE_INFINITY))),
                        lit(true)));
        Column value = text(c.eventType());
        Time time = time(schema, s);
        Column funnel = col(PARSED);
        if (s.withinDayOrder() == WithinDayOrder.FUNNEL) {
            funnel = s.zone().normalized().equals(ZoneOffset.UTC)
                    ? try_multiply(floor(col(PARSED).divide(MICROS_PER_DAY)), lit(MICROS_PER_DAY))
                    : udf(new TimestampParser.DayStart(s.zone()), DataTypes.LongType)
                            .apply(col(PARSED));
        }
        Column plausible = col(DAY).between(
                        lit(window.first().toString()).cast("date"),
                        lit(window.last().toString()).cast("date"));

        List<Column> reasons = new ArrayList<>();
        if (source.contains(CORRUPT_RECORD)) {
            reasons.add(when(col(CORRUPT_RECORD).isNotNull(), reason(Reason.WRONG_FIELD_COUNT)));
        }
        reasons.addAll(List.of(
                when(user.missing(), reason(Reason.MISSING_USER_ID)),
                when(user.invalid(), reason(Reason.INVALID_NUMBER)),
                when(pin.missing(), reason(Reason.MISSING_PIN_ID)),
                when(pin.invalid(), reason(Reason.INVALID_NUMBER)),
                when(advertiser.missing(), reason(Reason.MISSING_ADVERTISER_ID)),
                when(advertiser.invalid(), reason(Reason.INVALID_NUMBER)),
                when(
                        col(VALUE)
                                .isNull()
                                .or(not(col(VALUE).isin(s.eventValues().keySet().toArray()))),
                        reason(Reason.UNKNOWN_EVENT_TYPE)),
                when(time.missing(), reason(Reason.MISSING_TIMESTAMP)),
                when(time.unparseable(), reason(Reason.UNPARSEABLE_TIMESTAMP)),
                when(col(MICROS).isNull().or(not(plausible)), reason(Reason.TIMESTAMP_OUT_OF_RANGE)),
                when(badPrice, reason(Reason.INVALID_NUMBER)),
                when(col(PRICE).lt(0), reason(Reason.NEGATIVE_PRICE))));

        Column[] sourceColumns = source.stream().map(EventImporter::source).toArray(Column[]::new);
        List<Column> all = new ArrayList<>(List.of(sourceColumns));
        all.addAll(List.of(
                user.value().as(USER),
                pin.value().as(PIN),
                advertiser.value().as(ADVERTISER),
                category.as(CATEGORY),
                price.as(PRICE),
                value.as(VALUE),
                time.micros().as(PARSED),
                time.epoch().as(EPOCH)));
        Dataset<Row> tagged = events.select(all.toArray(Column[]::new))
                .withColumn(MICROS, funnel)
                .withColumn(
                        DAY,
                        date_from_unix_date(
                                floor(col(MICROS).divide(MICROS_PER_DAY)).cast("int")))
                .withColumn(TIME_DROPPED, coalesce(col(MICROS).notEqual(col(PARSED)), lit(false)))
                .withColumn(PLAUSIBLE, coalesce(plausible, lit(false)))
                .withColumn(REASON, coalesce(reasons.toArray(Column[]::new)))
                .withColumn(ROW_JSON, when(col(REASON).isNotNull(), to_json(struct(sourceColumns))))
                .withColumns(rowHash(source))
                .drop(source.toArray(String[]::new))
                .persist(StorageLevel.MEMORY_AND_DISK());

        Dataset<Row> quarantine = Quarantine.fromInput(
                Quarantine.ofJson(
                        tagged.filter(col(REASON).isNotNull()),
                        SOURCE,
                        REASON,
                        ROW_JSON,
                        USER,
                        STAGE,
                        runDate.toString()),
                inputPath,
                inputHash);

        Dataset<Row> accepted = tagged.filter(col(REASON).isNull())
                .select(
                        col(USER).as("user_id"),
                        col(PIN).as("pin_id"),
                        col(ADVERTISER).as("advertiser_id"),
                        col(CATEGORY).as("category"),
                        col(PRICE).as("price"),
                        col(VALUE).as("event_value"),
                        col(MICROS).as("micros"),
                        col(DAY).cast("string").as(RawTables.DS))
                .withColumn(
                        "event_seq",
                        row_number()
                                .over(Window.partitionBy("user_id")
                                        .orderBy(
                                                col("micros"),
                                                col("pin_id"),
                                                col("event_value"),
                                                col("advertiser_id"),
                                                col("category"),
                                                col("price"))))
                .persist(StorageLevel.MEMORY_AND_DISK());
        String tag = inputHash == null ? "" : inputHash.substring(0, Math.min(12, inputHash.length()));
        return new Result(tagged, accepted, quarantine, tables(accepted, s, tag), window);
    }

    /** Counts the import: rows in, accepted, quarantined by reason, duplicates, days and what the times look like. */
    public static Summary summarize(Result r) {
        List<Column> counts = new ArrayList<>(List.of(
                count(lit(1)),
                count(when(col(REASON).isNull(), lit(1))),
                count(when(col(EPOCH).isNotNull().or(col(DAY).isNotNull()), lit(1))),
                count(when(col(PLAUSIBLE), lit(1))),
                min(col(DAY)),
                max(col(DAY)),
                min(col(EPOCH)),
                max(col(EPOCH)),
                count(when(col(REASON).isNull().and(col(TIME_DROPPED)), lit(1))),
                sort_array(collect_set(when(col(REASON).isNull(), col(DAY).cast("string"))))));
        for (Reason reason : Reason.values()) {
            counts.add(count(when(col(REASON).equalTo(reason.name()), lit(1))));
        }
        Row a = r.tagged()
                .agg(counts.get(0), counts.subList(1, counts.size()).toArray(Column[]::new))
                .first();
        Map<String, Long> byReason = new TreeMap<>();
        for (Reason reason : Reason.values()) {
            long n = a.getLong(10 + reason.ordinal());
            if (n > 0) {
                byReason.put(reason.name(), n);
            }
        }
        List<String> days = a.<String>getList(9);
        long distinct = r.tagged().select(ROW_HASH, ROW_HASH_2).distinct().count();
        return new Summary(
                a.getLong(0),
                a.getLong(1),
                byReason,
                a.getLong(0) - distinct,
                List.copyOf(days),
                a.getLong(2),
                a.getLong(3),
                a.isNullAt(4) ? null : a.getDate(4).toLocalDate(),
                a.isNullAt(5) ? null : a.getDate(5).toLocalDate(),
                a.isNullAt(6) ? null : a.getLong(6),
                a.isNullAt(7) ? null : a.getLong(7),
                a.getLong(8));
    }

    /**
     * Why no row of a file lies on a plausible day, and the likely fix: the unit the epoch values look like, the
     * default year of a pattern, or the run date and window.
     */
    public static String explainAllOutsideWindow(Summary m, ImportSettings s, LocalDate runDate) {
        DayWindow w = s.plausibleDays(runDate);
        StringBuilder b = new StringBuilder("all ").append(m.timed()).append(" timestamps ");
        if (m.firstDay() == null) {
            b.append("overflow as epoch ").append(unitName(s.timestampUnit()));
        } else {
            b.append("fall on ")
                    .append(m.firstDay())
                    .append(" .. ")
                    .append(m.lastDay())
                    .append(", ")
                    .append(relation(m.firstDay(), m.lastDay(), w, runDate));
        }
        b.append(", outside the accepted days ")
                .append(w.first())
                .append(" .. ")
                .append(w.last())
                .append(
                        s.from() != null || s.to() != null
                                ? " (import-events.from / to)"
                                : " (import-events.max-days-before-run-date = " + s.maxDaysBeforeRunDate()
                                        + " before run-date)");
        String guess = m.maxEpoch() == null
                ? null
                : guessEpochUnit(Math.max(Math.abs((double) m.minEpoch()), Math.abs((double) m.maxEpoch())));
        String unit = unitName(s.timestampUnit());
        String values = " (" + m.minEpoch() + " .. " + m.maxEpoch() + ")";
        if (guess != null && !guess.equals(unit)) {
            b.append(": is import-events.timestamp-unit = ")
                    .append(s.timestampUnit().name().toLowerCase())
                    .append(" right? the values")
                    .append(values)
                    .append(" look like epoch ")
                    .append(guess);
            if (guess.equals("microseconds") || guess.equals("nanoseconds")) {
                b.append(", which timestamp-unit cannot read: convert them to milliseconds");
            }
        } else if (s.timestampUnit() == TimestampUnit.PATTERN && !TimestampParser.hasYear(s.timestampPattern())) {
            b.append(": is import-events.default-year = ")
                    .append(s.defaultYear())
                    .append(" right? or set run-date to a day of the file");
        } else {
            b.append(": is run-date ")
                    .append(runDate)
                    .append(" right? set it to a day of the file, or widen "
                            + "import-events.max-days-before-run-date, or set import-events.from and import-events.to");
        }
        return b.toString();
    }

    private static String relation(LocalDate first, LocalDate last, DayWindow w, LocalDate runDate) {
        if (last.isBefore(w.first())) {
            return distance(last, runDate) + " before run-date " + runDate;
        }
        if (first.isAfter(w.last())) {
            return distance(runDate, first) + " after run-date " + runDate;
        }
        return "on both sides of the accepted days";
    }

    private static String distance(LocalDate a, LocalDate b) {
        long years = ChronoUnit.YEARS.between(a, b);
        return years >= 20 ? "decades" : years >= 2 ? years + " years" : ChronoUnit.DAYS.between(a, b) + " days";
    }

    /** The epoch unit whose values of this magnitude fall between 1973 and 5138. */
    static String guessEpochUnit(double magnitude) {
        return magnitude < 1e11
                ? "seconds"
                : magnitude < 1e14 ? "milliseconds" : magnitude < 1e17 ? "microseconds" : "nanoseconds";
    }

    private static String unitName(TimestampUnit u) {
        return switch (u) {
            case SECONDS -> "seconds";
            case MILLIS -> "milliseconds";
            default -> u.name().toLowerCase();
        };
    }

    private static Map<String, Dataset<Row>> tables(Dataset<Row> accepted, ImportSettings s, String tag) {
        Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        Column impressionId = concat_ws("-", lit("imp"), lit(tag), col("user_id"), col("event_seq"));
        Dataset<Row> viewed = accepted.filter(producing(s, RawEvent.IMPRESSION));
        tables.put(
                RawTables.IMPRESSIONS,
                viewed.select(
                        impressionId.as("impression_id"),
                        impressionId.as("request_id"),
                        col("user_id"),
                        col("pin_id"),
                        col("advertiser_id"),
                        lit(s.surface().name()).as("surface"),
                        lit(null).cast("string").as("query"),
                        ts(s, RawEvent.IMPRESSION).as("ts"),
                        lit(0).as("position"),
                        col(RawTables.DS)));

        Dataset<Row> clicks = accepted.filter(producing(s, RawEvent.CLICK))
                .select(
                        impressionId.as("impression_id"),
                        col("user_id"),
                        col("pin_id"),
                        lit("CLICK").as("type"),
                        ts(s, RawEvent.CLICK).as("ts"),
                        lit(null).cast("long").as("click_duration_ms"),
                        col(RawTables.DS));
        Dataset<Row> saves = accepted.filter(producing(s, RawEvent.SAVE))
                .select(
                        lit(null).cast("string").as("impression_id"),
                        col("user_id"),
                        col("pin_id"),
                        lit("SAVE").as("type"),
                        ts(s, RawEvent.SAVE).as("ts"),
                        lit(null).cast("long").as("click_duration_ms"),
                        col(RawTables.DS));
        tables.put(RawTables.ENGAGEMENTS, clicks.unionByName(saves));

        tables.put(
                RawTables.CONVERSIONS,
                conversions(accepted, s, RawEvent.ADD_TO_CART, tag)
                        .unionByName(conversions(accepted, s, RawEvent.CHECKOUT, tag)));

        Dataset<Row> days = accepted.select(RawTables.DS).distinct();
        Dataset<Row> firstSeen = accepted.groupBy("pin_id")
                .agg(
                        min(RawTables.DS).as("created_ds"),
                        max_by(col("advertiser_id"), col("micros")).as("advertiser_id"),
                        max_by(col("category"), when(col("category").isNotNull(), col("micros")))
                                .as("category"),
                        max_by(col("price"), when(col("price").isNotNull(), col("micros")))
                                .as("price"));
        tables.put(
                RawTables.PINS,
                firstSeen
                        .crossJoin(broadcast(days))
                        .filter(col("created_ds").leq(col(RawTables.DS)))
                        .select(
                                col("pin_id"),
                                col("advertiser_id"),
                                col("category"),
                                col("price"),
                                col("created_ds"),
                                lit(null).cast("array<float>").as("content_embedding"),
                                col(RawTables.DS)));
        Dataset<Row> firstUserDay =
                accepted.groupBy("user_id").agg(min(RawTables.DS).as("first_ds"));
        tables.put(
                RawTables.USERS,
                firstUserDay
                        .crossJoin(broadcast(days))
                        .filter(col("first_ds").leq(col(RawTables.DS)))
                        .select(
                                col("user_id"),
                                lit(null).cast("string").as("country"),
                                lit(null).cast("string").as("signup_ds"),
                                lit(null).cast("array<string>").as("interest_categories"),
                                col(RawTables.DS)));
        return tables;
    }

    private static Dataset<Row> conversions(Dataset<Row> accepted, ImportSettings s, RawEvent type, String tag) {
        return accepted.filter(producing(s, type))
                .select(
                        concat_ws("-", lit("conv"), lit(tag), col("user_id"), col("event_seq"), lit(type.name()))
                                .as("conversion_id"),
                        col("user_id"),
                        col("pin_id"),
                        col("advertiser_id"),
                        lit(type.name()).as("type"),
                        ts(s, type).as("event_ts"),
                        ts(s, type).as("reported_ts"),
                        col("price").as("value"),
                        col(RawTables.DS));
    }

    private static Column producing(ImportSettings s, RawEvent e) {
        return col("event_value").isin(s.valuesProducing(e).toArray());
    }

    /** The time of a raw event: as written, or under FUNNEL the start of its day plus its funnel position in seconds. */
    private static Column ts(ImportSettings s, RawEvent e) {
        long offset = s.withinDayOrder() == WithinDayOrder.FUNNEL ? e.ordinal() * MICROS_PER_SECOND : 0;
        return timestamp_micros(col("micros").plus(offset));
    }

    /**
     * Two hashes of every source column and of whether it is null (Spark's hashes skip nulls, so without the flags
     * ("a", null) and (null, "a") would hash alike).
     */
    private static Map<String, Column> rowHash(List<String> source) {
        List<Column> parts = new ArrayList<>();
        for (String n : source) {
            parts.add(source(n));
            parts.add(source(n).isNull());
        }
        Column[] p = parts.toArray(Column[]::new);
        return Map.of(ROW_HASH, xxhash64(p), ROW_HASH_2, hash(p));
    }

    /** An id column: its 64-bit value, whether it is blank, and whether it is present but not usable as an id. */
    private record Id(Column value, Column missing, Column invalid) {}

    private static Id id(StructType schema, String column, boolean hash) {
        Column raw = text(column);
        Column missing = raw.isNull();
        if (typeOf(schema, column) instanceof IntegralType) {
            return new Id(source(column).cast("long"), missing, lit(false));
        }
        Column parsed = raw.try_cast("long");
        if (hash) {
            return new Id(coalesce(parsed, StableHash.of(raw)), missing, lit(false));
        }
        return new Id(parsed, missing, raw.isNotNull().and(parsed.isNull()));
    }

    /**
     * A time column: epoch microseconds as written (null when unreadable or overflowing), whether it is blank,
     * whether it is not a time at all (read from the mapped columns), and for epoch units the integer as written.
     */
    private record Time(Column micros, Column missing, Column unparseable, Column epoch) {}

    private static Time time(StructType schema, ImportSettings s) {
        String column = s.columns().timestamp();
        DataType type = typeOf(schema, column);
        Column raw = text(column);
        Column none = lit(null).cast("long");
        if (type instanceof TimestampType || type instanceof TimestampNTZType) {
            return new Time(
                    unix_micros(source(column).cast("timestamp")),
                    source(column).isNull(),
                    lit(false),
                    none);
        }
        if (type instanceof DateType) {
            Column m = udf(new TimestampParser("", s.zone(), 0), DataTypes.LongType)
                    .apply(source(column).cast("string"));
            return new Time(m, source(column).isNull(), lit(false), none);
        }
        return switch (s.timestampUnit()) {
            case SECONDS, MILLIS -> {
                Column n = type instanceof IntegralType ? source(column).cast("long") : raw.try_cast("long");
                long scale = s.timestampUnit() == TimestampUnit.SECONDS ? MICROS_PER_SECOND : 1_000L;
                yield new Time(
                        try_multiply(n, lit(scale)), raw.isNull(), col(EPOCH).isNull(), n);
            }
            case ISO, PATTERN ->
                new Time(
                        udf(new TimestampParser(s.timestampPattern(), s.zone(), s.defaultYear()), DataTypes.LongType)
                                .apply(raw),
                        raw.isNull(),
                        col(PARSED).isNull(),
                        none);
        };
    }

    private static DataType typeOf(StructType schema, String column) {
        return Arrays.stream(schema.fields())
                .filter(f -> f.name().equals(column))
                .findFirst()
                .map(f -> f.dataType())
                .orElseThrow(() -> new IllegalArgumentException("the events have no column \"" + column
                        + "\"; they have " + Arrays.toString(schema.fieldNames())));
    }

    /** A source column as trimmed text, null when blank. */
    private static Column text(String column) {
        Column t = trim(source(column).cast("string"));
        return when(t.notEqual(lit("")), t);
    }

    private static Column source(String column) {
        return col("`" + column.replace("`", "``") + "`");
    }

    private static Column reason(Reason r) {
        return lit(r.name());
    }
}
