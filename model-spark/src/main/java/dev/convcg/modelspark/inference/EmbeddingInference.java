package dev.convcg.modelspark.inference;

import static dev.convcg.core.embeddings.EmbeddingColumns.*;
import static org.apache.spark.sql.functions.*;

import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.modelspark.train.ModelInputs;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of batch inference: projects entity rows onto the tower's model inputs ({@link ModelInputs}, the same
 * conversion training used), spreads them over enough partitions, and runs {@link PartitionEncoder} in
 * {@code mapPartitions}. The feature specs come from the artifact itself, so the data is read the way that model
 * was trained.
 */
public final class EmbeddingInference {
    /**
     * How {@link #embed} encodes.
     *
     * @param batchSize      rows per forward pass
     * @param device         cpu, gpu or auto, as {@link PartitionEncoder} takes it
     * @param intraOpThreads libtorch threads per executor JVM, set once; 0 leaves libtorch's default
     * @param partitions     partitions to encode in; 0: at least the default parallelism
     */
    public record EncoderOptions(int batchSize, String device, int intraOpThreads, int partitions)
            implements Serializable {}

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingInference.class);

    private EmbeddingInference() {}

    /**
     * Fresh embeddings of {@code entities} (lazy; persist before using twice).
     *
     * @param entities     one row per entity with the key columns and the tower's feature columns
     * @param keys         entity key columns, kept as they are
     * @param userTower    encode with the user tower (else the pin tower)
     * @param artifactDir  the model artifact, readable from every executor
     * @param options      batch size, device, threads and partitions of the encoding
     * @param label        the entity kind, for the progress log
     * @param expectedRows rows of {@code entities}, for the progress log
     * @param day          the run day, written as {@code last_seen_ds}
     * @return keys, {@code embedding} (array&lt;float&gt;), {@code arrival_seq}, {@code model_version},
     *     {@code last_seen_ds}
     */
    public static Dataset<Row> embed(
            Dataset<Row> entities,
            List<String> keys,
            boolean userTower,
            Path artifactDir,
            EncoderOptions options,
            String label,
            long expectedRows,
            String day) {
        ModelArtifact artifact = ModelArtifact.read(artifactDir);
        List<FeatureSpec> specs =
                userTower ? artifact.features().user() : artifact.features().pin();
        List<Column> cols = new ArrayList<>();
        StructType out = new StructType();
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            cols.add(col(k).as("_key" + i));
            out = out.add(entities.schema().apply(k));
        }
        cols.add(monotonically_increasing_id().as(ARRIVAL_SEQ));
        cols.addAll(ModelInputs.columns(entities.schema(), specs));
        out = out.add(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(ARRIVAL_SEQ, DataTypes.LongType, false);
        Dataset<Row> input = entities.select(cols.toArray(Column[]::new));
        int current = input.rdd().getNumPartitions();
        int parallelism = entities.sparkSession().sparkContext().defaultParallelism();
        int partitions = options.partitions() > 0 ? options.partitions() : Math.max(current, parallelism);
        if (partitions != current) {
            input = input.repartition(partitions);
        }
        LOG.info(
                "{}: {} rows in {} partitions, batches of {}, model {} ({} tower)",
                label,
                expectedRows,
                partitions,
                options.batchSize(),
                artifact.versionId(),
                userTower ? "user" : "pin");
        PartitionEncoder encoder = new PartitionEncoder(
                artifactDir.toAbsolutePath().toString(),
                userTower,
                keys.size(),
                options.batchSize(),
                options.device(),
                options.intraOpThreads(),
                label,
                (expectedRows + partitions - 1) / partitions);
        return input.mapPartitions(encoder, Encoders.row(out))
                .withColumn(MODEL_VERSION, lit(artifact.versionId()))
                .withColumn(LAST_SEEN_DS, lit(day));
    }
}
