package dev.convcg.modelspark.train;

import static org.apache.spark.sql.types.DataTypes.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.core.training.StableHash;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.Pooling;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class ModelInputsTest {
    private static final StructType SCHEMA = new StructType()
            .add("user_country", StringType)
            .add("pin_id", LongType)
            .add("query_tokens", createArrayType(StringType))
            .add("pin_ctr", DoubleType);
    private static final List<FeatureSpec> SPECS = List.of(
            FeatureSpec.id("user_country", 64, 4),
            FeatureSpec.id("pin_id", 64, 4),
            FeatureSpec.sequence("query_tokens", 64, 4, 2, Pooling.MEAN),
            FeatureSpec.numeric("pin_ctr", false));

    @Test
    void stringsMapThroughStableHashAndMissingValuesGetTheirStandIns(SparkSession spark) {
        Dataset<Row> in = spark.createDataFrame(
                List.of(
                        RowFactory.create("US", 7L, new String[] {"sofa", "red", "big"}, 0.5),
                        RowFactory.create(null, null, null, null)),
                SCHEMA);
        List<Row> out = in.select(ModelInputs.columns(in.schema(), SPECS).toArray(Column[]::new))
                .collectAsList();
        Row full = out.get(0);
        assertEquals(StableHash.of("US"), full.getLong(0), "the same id the importer and plain-Java serving use");
        assertEquals(7L, full.getLong(1), "integer ids are kept");
        assertEquals(List.of(StableHash.of("sofa"), StableHash.of("red")), full.getList(2), "tokens cut to length 2");
        assertEquals(0.5f, full.getFloat(3));
        Row empty = out.get(1);
        assertEquals(StableHash.MISSING, empty.getLong(0), "a missing category is StableHash.MISSING");
        assertEquals(StableHash.MISSING, empty.getLong(1));
        assertEquals(List.of(), empty.getList(2));
        assertEquals(0f, empty.getFloat(3));
    }
}
