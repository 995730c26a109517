package dev.convcg.core.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The summary's JSON is what operators and dashboards read: fixed field order, sorted keys, exact counts. */
class DataQualitySummaryJsonTest {
    @Test
    void writesEveryFieldInOrderWithSortedKeysAndRoundedRates() throws Exception {
        DataQualitySummary s = new DataQualitySummary(
                "2026-10-14",
                "2026-10-08",
                "2026-10-14",
                Map.of("raw_impressions", 3000L, "raw_conversions", 7L),
                Map.of("raw_impressions", Map.of("UNKNOWN_PIN", 2L, "bad \"surface\"", 1L)),
                Map.of("CONVERSION", Map.of("search", 1L), "ENGAGEMENT", Map.of("search", 2L, "home_feed", 5L)),
                Map.of("search", 3L, "home_feed", 0L),
                4L,
                Map.of("CLICK_THROUGH", 6L),
                1L,
                Map.of("1-6h", 2L, "0-1h", 4L),
                Map.of("SAMPLED", 9L, "IMPRESSION", 0L));

        JsonNode j = new ObjectMapper().readTree(s.toJson());

        List<String> fields = new ArrayList<>();
        j.fieldNames().forEachRemaining(fields::add);
        assertEquals(
                List.of(
                        "run_ds",
                        "first_ds",
                        "last_ds",
                        "input_rows",
                        "rejects",
                        "examples",
                        "impressions",
                        "positive_rates",
                        "duplicate_reports_collapsed",
                        "attributed_conversions",
                        "unattributed_conversions",
                        "attribution_delay_hours",
                        "negatives"),
                fields);
        assertEquals(9, j.at("/negatives/SAMPLED").asLong());
        assertEquals("2026-10-14", j.get("run_ds").asText());
        assertEquals(3000, j.at("/input_rows/raw_impressions").asLong());
        assertEquals(
                1,
                j.get("rejects").get("raw_impressions").get("bad \"surface\"").asLong());
        List<String> reasons = new ArrayList<>();
        j.at("/rejects/raw_impressions").fieldNames().forEachRemaining(reasons::add);
        assertEquals(List.of("UNKNOWN_PIN", "bad \"surface\""), reasons);
        List<String> engagementSurfaces = new ArrayList<>();
        j.at("/examples/ENGAGEMENT").fieldNames().forEachRemaining(engagementSurfaces::add);
        assertEquals(List.of("home_feed", "search"), engagementSurfaces);
        assertEquals(0.333333, j.at("/positive_rates/CONVERSION/search").asDouble(), 0.0);
        assertEquals(0.0, j.at("/positive_rates/ENGAGEMENT/home_feed").asDouble(), 0.0);
        assertEquals(4, j.get("duplicate_reports_collapsed").asLong());
        assertEquals(1, j.get("unattributed_conversions").asLong());
        assertEquals("0-1h", j.get("attribution_delay_hours").fieldNames().next());
    }
}
