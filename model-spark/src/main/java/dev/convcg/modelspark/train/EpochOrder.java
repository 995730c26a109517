package dev.convcg.modelspark.train;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.training.ExampleLabeler;
import dev.convcg.model.features.FeatureSchema;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The globally ordered stream a training task reads ({@link EpochStream}'s row layout): for each epoch, the training
 * rows in that epoch's shuffled order, then the validation rows. Each epoch's order is a hash of (example id, epoch,
 * seed), so a resumed run replays the same batches. The sort runs distributed; the caller persists it before
 * training, so the training task only reads, and {@code coalesce(1)} keeps the order while handing the sorted
 * partitions to one task in sequence.
 */
public final class EpochOrder {
    private EpochOrder() {}

    /**
     * @param examples        training_examples rows of the window, validation days included
     * @param trainThrough    the last training day; later days are validation
     * @param durationWeights whether engagement weights follow the click duration ({@link ModelInputs#exampleWeight})
     */
    public static Dataset<Row> of(
            Dataset<Row> examples,
            FeatureSchema schema,
            LocalDate trainThrough,
            int epochs,
            int seed,
            boolean durationWeights) {
        Dataset<Row> labelled = examples.withColumn(
                        "_part",
                        when(col("ds").gt(trainThrough.toString()), EpochStream.VALIDATION)
                                .otherwise(EpochStream.TRAIN))
                .withColumn("_label_pin_id", col("pin_id"))
                .withColumn("_label_advertiser_id", col("advertiser_id"))
                .withColumn("_weight", ModelInputs.exampleWeight(durationWeights))
                .withColumn(
                        "_sampling_prob",
                        when(
                                        col("task").equalTo(ExampleLabeler.NEGATIVE),
                                        when(
                                                        col("event_type").equalTo(ExampleLabeler.SAMPLED),
                                                        col("pin_sampling_prob").cast("double"))
                                                .otherwise(lit(0.0)))
                                .otherwise(coalesce(col("pin_sampling_prob").cast("double"), lit(1.0))));
        Dataset<Row> inputs = ModelInputs.select(
                labelled,
                schema,
                "example_id",
                "_part",
                "task",
                "_weight",
                "_sampling_prob",
                "_label_pin_id",
                "_label_advertiser_id");
        Dataset<Row> perEpoch = inputs.crossJoin(examples.sparkSession()
                        .range(epochs)
                        .select(col("id").cast("int").as("_epoch")))
                .withColumn("_key", xxhash64(col("example_id"), col("_epoch"), lit(seed)));
        List<Column> layout = new ArrayList<>(List.of(
                col("_epoch"),
                col("_part"),
                col("task"),
                col("_weight"),
                col("_sampling_prob"),
                col("_label_pin_id"),
                col("_label_advertiser_id")));
        schema.user().forEach(s -> layout.add(col(s.name())));
        schema.pin().forEach(s -> layout.add(col(s.name())));
        return perEpoch.orderBy("_epoch", "_part", "_key").select(layout.toArray(Column[]::new));
    }
}
