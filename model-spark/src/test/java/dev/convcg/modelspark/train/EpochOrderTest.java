package dev.convcg.modelspark.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.model.features.FeatureSchema;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class EpochOrderTest {
    private static final LocalDate FIRST = LocalDate.of(2026, 10, 1);

    @Test
    void eachEpochIsEveryTrainingRowOnceInItsOwnOrderThenTheValidationRows(SparkSession spark) {
        Dataset<Row> examples = TrainingExamplesFixture.days(spark, FIRST, 3, 5);
        FeatureSchema schema = TrainingSchema.of(TrainingExamplesFixture.CONTENT_DIM, 1024, 2, List.of("user_id"));
        LocalDate trainThrough = FIRST.plusDays(1);
        long train = examples.filter("ds <= '" + trainThrough + "'").count();
        long validation = examples.count() - train;

        List<Row> rows =
                EpochOrder.of(examples, schema, trainThrough, 2, 11, true).collectAsList();
        assertEquals(2 * (train + validation), rows.size());
        Map<Integer, List<Row>> byEpoch = new HashMap<>();
        int lastEpoch = 0;
        int lastPart = EpochStream.TRAIN;
        for (Row r : rows) {
            int epoch = r.getInt(EpochStream.EPOCH);
            int part = r.getInt(EpochStream.PART);
            assertTrue(epoch > lastEpoch || (epoch == lastEpoch && part >= lastPart), "epoch, then part, ascending");
            lastEpoch = epoch;
            lastPart = part;
            byEpoch.computeIfAbsent(epoch, e -> new ArrayList<>()).add(r);
            String task = r.getString(EpochStream.TASK);
            double q = r.getDouble(EpochStream.SAMPLING_PROB);
            if (task.equals("NEGATIVE")) {
                assertEquals(0.0, q, "a served impression carries no sampling probability");
            } else {
                assertEquals(1.0 / TrainingExamplesFixture.PINS, q, 1e-12, "a positive carries its pin's share");
            }
        }
        List<Long> order0 = labels(byEpoch.get(0), EpochStream.TRAIN);
        List<Long> order1 = labels(byEpoch.get(1), EpochStream.TRAIN);
        assertEquals(train, order0.size());
        assertEquals(validation, labels(byEpoch.get(0), EpochStream.VALIDATION).size());
        assertEquals(sorted(order0), sorted(order1), "the same training rows in every epoch");
        assertNotEquals(order0, order1, "each epoch has its own shuffle");
        List<Row> again =
                EpochOrder.of(examples, schema, trainThrough, 2, 11, true).collectAsList();
        assertEquals(rows, again, "the same seed gives the same stream (a resumed run replays the same batches)");
        List<Row> otherSeed =
                EpochOrder.of(examples, schema, trainThrough, 1, 12, true).collectAsList();
        assertNotEquals(order0, labels(otherSeed, EpochStream.TRAIN), "another seed, another order");
        assertEquals(
                EpochStream.FEATURES + schema.user().size() + schema.pin().size(),
                rows.get(0).size(),
                "the layout EpochStream reads: fixed columns, then the user tower's features, then the pin tower's");
    }

    private static List<Long> labels(List<Row> rows, int part) {
        return rows.stream()
                .filter(r -> r.getInt(EpochStream.PART) == part)
                .map(r -> r.getLong(EpochStream.PIN_ID) * 1_000_003L + (long) (r.getFloat(EpochStream.WEIGHT) * 1000))
                .toList();
    }

    private static List<Long> sorted(List<Long> xs) {
        return xs.stream().sorted().toList();
    }
}
