package dev.convcg.jobs.io;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.convcg.model.artifact.ModelArtifact;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.Pooling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Hand-built inputs of the infer-embeddings stage until build-training-data lands: feature snapshots with exactly
 * the agreed {@code user_features} / {@code pin_features} columns, and tiny randomly initialised models (the default
 * feature names, small tables) published into a {@link ModelStore} with a training record.
 */
public final class EmbeddingFixtures {
    private EmbeddingFixtures() {}

    public static final int CONTENT_DIM = 4;
    private static final DataType LONGS = DataTypes.createArrayType(DataTypes.LongType, true);

    public static final StructType USER_FEATURES = new StructType()
            .add("ds", DataTypes.StringType, false)
            .add("user_id", DataTypes.LongType, false)
            .add("user_country", DataTypes.StringType, true)
            .add("user_engaged_pins", LONGS, false)
            .add("user_converted_pins", LONGS, false)
            .add("user_clicks_28d", DataTypes.FloatType, false)
            .add("user_saves_28d", DataTypes.FloatType, false)
            .add("user_conversions_28d", DataTypes.FloatType, false);

    public static final StructType PIN_FEATURES = new StructType()
            .add("ds", DataTypes.StringType, false)
            .add("pin_id", DataTypes.LongType, false)
            .add("advertiser_id", DataTypes.LongType, true)
            .add("pin_category", DataTypes.StringType, true)
            .add("pin_price_bucket", DataTypes.IntegerType, false)
            .add("pin_ctr", DataTypes.FloatType, false)
            .add("pin_cvr", DataTypes.FloatType, false)
            .add("pin_content_embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true);

    /** The default feature names with small tables, so a model is built and saved in milliseconds. */
    public static FeatureSchema schema() {
        FeatureSpec pinId = FeatureSpec.id("pin_id", 512, 8);
        return new FeatureSchema(
                List.of(
                        FeatureSpec.id("user_id", 512, 8),
                        FeatureSpec.id("user_country", 64, 4),
                        FeatureSpec.id("surface", 16, 4),
                        FeatureSpec.code("hour_of_day", 24, 4),
                        FeatureSpec.sequence("query_tokens", 256, 4, 4, Pooling.MEAN),
                        FeatureSpec.sequenceSharing("user_engaged_pins", pinId, 5, Pooling.MEAN),
                        FeatureSpec.sequenceSharing("user_converted_pins", pinId, 5, Pooling.MEAN),
                        FeatureSpec.numeric("user_clicks_28d", true),
                        FeatureSpec.numeric("user_saves_28d", true),
                        FeatureSpec.numeric("user_conversions_28d", true)),
                List.of(
                        pinId,
                        FeatureSpec.id("advertiser_id", 64, 4),
                        FeatureSpec.id("pin_category", 64, 4),
                        FeatureSpec.code("pin_price_bucket", 32, 4),
                        FeatureSpec.numeric("pin_ctr", false),
                        FeatureSpec.numeric("pin_cvr", false),
                        FeatureSpec.vector("pin_content_embedding", CONTENT_DIM)));
    }

    public static ModelConfig model() {
        return ModelConfig.defaults()
                .withEmbeddingDim(8)
                .withTower(new ModelConfig.TowerConfig(ModelConfig.Arrangement.PARALLEL, 1, 0, List.of(16, 8)));
    }

    /** Saves a randomly initialised model (seeded) and publishes it as LATEST with the given lineage. */
    public static void publishModel(
            ModelStore store, String version, String parent, String lineage, long seed, String runDate) {
        Path staging = store.newStagingDir(version);
        Engine.getInstance().setRandomSeed((int) seed);
        try (NDManager m = NDManager.newBaseManager()) {
            TwoTowerBlock block = new TwoTowerBlock(model(), schema());
            block.initialize(m);
            ModelArtifact.save(staging, block, version);
        }
        store.publish(
                staging,
                new ModelStore.TrainingRecord(
                        version, runDate, runDate, runDate, runDate, parent, lineage, "test", null));
    }

    public static Row user(String ds, long id) {
        return RowFactory.create(
                ds, id, id % 2 == 0 ? "US" : "FR", List.of(id + 1, id + 2), List.of(id + 3), (float) id, 1f, 0f);
    }

    public static Row pin(String ds, long id) {
        return pin(ds, id, CONTENT_DIM);
    }

    /** A pin row whose content embedding has {@code contentDim} values (a wrong width makes inference fail). */
    public static Row pin(String ds, long id, int contentDim) {
        List<Float> content = id % 3 == 0 ? null : new ArrayList<>(Arrays.asList(new Float[contentDim]));
        if (content != null) {
            for (int i = 0; i < contentDim; i++) {
                content.set(i, (float) Math.sin(id + i));
            }
        }
        return RowFactory.create(ds, id, id % 5, "cat_" + (id % 4), (int) (id % 7), 0.01f * id, 0.001f * id, content);
    }

    /** Appends snapshot rows to a Delta table partitioned by ds. */
    public static void append(SparkSession spark, String path, StructType schema, List<Row> rows) {
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        df.write().format("delta").mode("append").partitionBy("ds").save(path);
    }
}
