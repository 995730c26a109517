package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.core.schema.RawTables;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What one {@code build-training-data} run saw and produced, to be written as JSON next to the table and logged:
 * raw rows in and quarantined per table and reason, examples per task and surface, positive rates per surface
 * (positives of a task / impressions of the example days), and, for conversions first reported in the example
 * days, how many were attributed (per attribution type), unattributed, and the touch-to-conversion delay histogram,
 * and which negatives the examples hold (NEGATIVE rows by event_type: IMPRESSION served, SAMPLED from the catalog).
 */
public record DataQualitySummary(
        String runDs,
        String firstDs,
        String lastDs,
        Map<String, Long> inputRows,
        Map<String, Map<String, Long>> rejects,
        Map<String, Map<String, Long>> examples,
        Map<String, Long> impressions,
        long duplicateReportsCollapsed,
        Map<String, Long> attributedConversions,
        long unattributedConversions,
        Map<String, Long> attributionDelayHours,
        Map<String, Long> negatives) {

    /** Upper bounds (hours, exclusive) of the delay histogram buckets; the last bucket is open. */
    public static final int[] DELAY_BUCKET_HOURS = {1, 6, 24, 72, 168};

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Computes the whole summary (runs a few small Spark jobs; cache the inputs to avoid recomputing them). */
    public static DataQualitySummary of(TrainingDataBuilder.TrainingData td) {
        return ofInputs(td).withExamples(td.examples());
    }

    /**
     * Everything but the examples per task and surface: what the quarantine check needs before any example is
     * written. {@link #withExamples} completes it, e.g. from the examples as written.
     */
    public static DataQualitySummary ofInputs(TrainingDataBuilder.TrainingData td) {
        String first = td.firstExampleDay().toString(), last = td.runDate().toString();
        Map<String, Long> in = new TreeMap<>();
        Map<String, Map<String, Long>> rejects = new TreeMap<>();
        for (String t : RawTables.ALL) {
            long total = 0;
            Map<String, Long> byReason = new TreeMap<>();
            for (Row r : td.validation()
                    .tagged()
                    .get(t)
                    .groupBy(RawValidation.REASON)
                    .count()
                    .collectAsList()) {
                total += r.getLong(1);
                if (!r.isNullAt(0)) {
                    byReason.put(r.getString(0), r.getLong(1));
                }
            }
            in.put(t, total);
            rejects.put(t, byReason);
        }
        Map<String, Long> impressions = counts(td.validation()
                .accepted()
                .get(RawTables.IMPRESSIONS)
                .filter(col(RawTables.DS).between(first, last))
                .groupBy("surface")
                .count());
        long acceptedReports = td.validation()
                .accepted()
                .get(RawTables.CONVERSIONS)
                .filter(col(RawTables.DS).leq(last))
                .count();
        long distinct = td.conversions().count();
        Column reportedInRange = col(RawTables.DS).between(first, last);
        Map<String, Long> attributed = counts(td.attribution()
                .attributed()
                .filter(reportedInRange)
                .groupBy("attribution_type")
                .count());
        long unattributed =
                td.attribution().unattributed().filter(reportedInRange).count();
        Column hours = ConversionAttribution.delayHours();
        Column bucket = lit(">=" + DELAY_BUCKET_HOURS[DELAY_BUCKET_HOURS.length - 1] + "h");
        for (int i = DELAY_BUCKET_HOURS.length - 1; i >= 0; i--) {
            int lo = i == 0 ? 0 : DELAY_BUCKET_HOURS[i - 1];
            bucket = when(hours.lt(DELAY_BUCKET_HOURS[i]), lit(lo + "-" + DELAY_BUCKET_HOURS[i] + "h"))
                    .otherwise(bucket);
        }
        Map<String, Long> delays = counts(td.attribution()
                .attributed()
                .filter(reportedInRange)
                .groupBy(bucket.as("bucket"))
                .count());
        return new DataQualitySummary(
                last,
                first,
                last,
                in,
                rejects,
                Map.of(),
                impressions,
                acceptedReports - distinct,
                attributed,
                unattributed,
                delays,
                Map.of());
    }

    /** This summary with the examples per task and surface counted in {@code examples} (replacing any). */
    public DataQualitySummary withExamples(Dataset<Row> examples) {
        Map<String, Map<String, Long>> byTask = new TreeMap<>();
        Map<String, Long> negativeKinds =
                new TreeMap<>(Map.of(ExampleLabeler.IMPRESSION, 0L, ExampleLabeler.SAMPLED, 0L));
        for (Row r : examples.groupBy("task", "surface", "event_type").count().collectAsList()) {
            byTask.computeIfAbsent(r.getString(0), k -> new TreeMap<>()).merge(r.getString(1), r.getLong(3), Long::sum);
            if (ExampleLabeler.NEGATIVE.equals(r.getString(0))) {
                negativeKinds.merge(r.getString(2), r.getLong(3), Long::sum);
            }
        }
        return new DataQualitySummary(
                runDs,
                firstDs,
                lastDs,
                inputRows,
                rejects,
                byTask,
                impressions,
                duplicateReportsCollapsed,
                attributedConversions,
                unattributedConversions,
                attributionDelayHours,
                negativeKinds);
    }

    /** Examples written, all tasks and surfaces. */
    public long exampleCount() {
        return examples.values().stream()
                .flatMap(m -> m.values().stream())
                .mapToLong(Long::longValue)
                .sum();
    }

    /** Quarantined rows / input rows of a table (0 for an empty table). */
    public double quarantinedShare(String table) {
        long n = inputRows.getOrDefault(table, 0L);
        long q = rejects.getOrDefault(table, Map.of()).values().stream()
                .mapToLong(Long::longValue)
                .sum();
        return n == 0 ? 0 : (double) q / n;
    }

    /** Positives of {@code task} per impression of the example days, per surface. */
    public Map<String, Double> positiveRates(String task) {
        Map<String, Double> rates = new TreeMap<>();
        impressions.forEach((surface, n) -> rates.put(
                surface,
                n == 0 ? 0.0 : (double) examples.getOrDefault(task, Map.of()).getOrDefault(surface, 0L) / n));
        return rates;
    }

    /** Fails when a table's quarantined share is above {@code threshold}, naming the table, share and top reasons. */
    public void requireQuarantineShareAtMost(double threshold) {
        StringBuilder failures = new StringBuilder();
        for (String t : inputRows.keySet()) {
            double share = quarantinedShare(t);
            if (share > threshold) {
                failures.append(String.format(
                        Locale.ROOT,
                        "%n  %s: %.3f%% of %d rows quarantined, reasons %s",
                        t,
                        100 * share,
                        inputRows.get(t),
                        rejects.get(t)));
            }
        }
        if (failures.length() > 0) {
            throw new QuarantineThresholdExceededException(String.format(
                    Locale.ROOT,
                    "quarantine-threshold = %.3f%% exceeded by the run of %s:%s%nThe rejected rows are in the quarantine"
                            + " table (stage=%s, run_ds=%s).",
                    100 * threshold,
                    runDs,
                    failures,
                    RawValidation.STAGE,
                    runDs));
        }
    }

    /** The summary as one JSON object: fields in a fixed order, map keys sorted, rates to 6 significant digits. */
    public String toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("run_ds", runDs);
        o.put("first_ds", firstDs);
        o.put("last_ds", lastDs);
        o.put("input_rows", sorted(inputRows));
        o.put("rejects", sorted(rejects));
        o.put("examples", sorted(examples));
        o.put("impressions", sorted(impressions));
        Map<String, Map<String, Double>> rates = new TreeMap<>();
        for (String task : List.of(ExampleLabeler.CONVERSION, ExampleLabeler.ENGAGEMENT)) {
            Map<String, Double> r = new TreeMap<>();
            positiveRates(task)
                    .forEach((surface, rate) -> r.put(
                            surface,
                            new BigDecimal(rate).round(new MathContext(6)).doubleValue()));
            rates.put(task, r);
        }
        o.put("positive_rates", rates);
        o.put("duplicate_reports_collapsed", duplicateReportsCollapsed);
        o.put("attributed_conversions", sorted(attributedConversions));
        o.put("unattributed_conversions", unattributedConversions);
        o.put("attribution_delay_hours", sorted(attributionDelayHours));
        o.put("negatives", sorted(negatives));
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the data-quality summary of " + runDs + " as JSON", e);
        }
    }

    /** {@code v} with every map in it, at any depth, in key order. */
    private static Object sorted(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> t = new TreeMap<>();
            m.forEach((k, x) -> t.put(k.toString(), sorted(x)));
            return t;
        }
        return v;
    }

    private static Map<String, Long> counts(Dataset<Row> keyCount) {
        Map<String, Long> m = new TreeMap<>();
        for (Row r : keyCount.collectAsList()) {
            m.put(r.isNullAt(0) ? "null" : r.get(0).toString(), r.getLong(1));
        }
        return m;
    }
}
