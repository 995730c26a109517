package dev.convcg.modelspark.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class TrainingSchemaTest {
    @Test
    void tablesTooSmallForTheDataGrowToAtMostATenthSharingWithTheirSequences(SparkSession spark) {
        Dataset<Row> examples = TrainingExamplesFixture.days(spark, LocalDate.of(2026, 10, 1), 2, 3);
        FeatureSchema small = TrainingSchema.of(TrainingExamplesFixture.CONTENT_DIM, 16, 20, List.of());
        FeatureSchema sized = TrainingSchema.sizedToData(examples, small, 16, 1 << 20, Optional.empty());
        long pins = examples.select("pin_id").distinct().count();
        int rows = sized.tables().get("pin_id").buckets();
        assertEquals(1, Integer.bitCount(rows), "a power of two: " + rows);
        assertTrue(1 - Math.exp(-(double) pins / rows) <= 0.1 + 0.02, rows + " rows for " + pins + " pins");
        for (FeatureSpec s : sized.user()) {
            if ("pin_id".equals(s.sharedTable())) {
                assertEquals(rows, s.buckets(), s.name() + " reads the grown table");
            }
        }
        assertEquals(
                16,
                sized.user().stream()
                        .filter(s -> s.name().equals("query_tokens"))
                        .findFirst()
                        .orElseThrow()
                        .buckets(),
                "tables of ids the data does not count keep the configured size");

        FeatureSchema parent = TrainingSchema.of(TrainingExamplesFixture.CONTENT_DIM, 32, 20, List.of());
        assertEquals(
                32,
                TrainingSchema.sizedToData(examples, small, 16, 1 << 20, Optional.of(parent))
                        .tables()
                        .get("pin_id")
                        .buckets(),
                "a warm start keeps its parent's sizes");

        TrainingSchema.TableLimitException e = assertThrows(
                TrainingSchema.TableLimitException.class,
                () -> TrainingSchema.sizedToData(examples, small, 16, 64, Optional.empty()));
        assertTrue(
                e.getMessage().startsWith("convcg.model.hash-buckets-limit = 64 is too small for the data"),
                e.getMessage());
    }

    @Test
    void historySequencesFollowTheHistoryLengthAndExcludedFeaturesLeave() {
        FeatureSchema s = TrainingSchema.of(8, 2048, 50, List.of("user_id", "pin_category"));
        assertFalse(s.names().contains("user_id"));
        assertFalse(s.names().contains("pin_category"));
        for (String sequence : List.of("user_engaged_pins", "user_converted_pins")) {
            FeatureSpec spec = s.user().stream()
                    .filter(f -> f.name().equals(sequence))
                    .findFirst()
                    .orElseThrow();
            assertEquals(50, spec.maxLength(), sequence);
            assertEquals(2048, spec.buckets(), sequence);
        }
        assertEquals(
                8 + 1,
                s.pin().stream()
                        .filter(f -> f.name().equals("pin_content_embedding"))
                        .findFirst()
                        .orElseThrow()
                        .outputWidth(),
                "content vectors of the configured width, plus the presence flag");
    }
}
