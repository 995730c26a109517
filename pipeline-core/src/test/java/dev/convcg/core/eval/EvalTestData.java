package dev.convcg.core.eval;

import static org.apache.spark.sql.types.DataTypes.*;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** Hand-built inputs of the evaluator. */
final class EvalTestData {
    private EvalTestData() {}

    static final StructType EVENTS = new StructType()
            .add("user_id", LongType)
            .add("pin_id", LongType)
            .add("surface", StringType)
            .add("task", StringType);
    static final StructType ITEMS =
            new StructType().add("pin_id", LongType).add("embedding", createArrayType(FloatType));
    static final StructType USER_QUERIES =
            new StructType().add("user_id", LongType).add("embedding", createArrayType(FloatType));
    static final StructType SURFACE_QUERIES = new StructType()
            .add("user_id", LongType)
            .add("surface", StringType)
            .add("embedding", createArrayType(FloatType));
    static final StructType RECOMMENDATIONS = new StructType()
            .add("user_id", LongType)
            .add("surface", StringType)
            .add("pin_ids", createArrayType(LongType));

    static Dataset<Row> frame(SparkSession spark, StructType schema, List<Row> rows) {
        return spark.createDataFrame(rows, schema);
    }

    static Row event(long user, long pin, String surface, String task) {
        return RowFactory.create(user, pin, surface, task);
    }

    static Float[] boxed(float[] v) {
        Float[] b = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = v[i];
        }
        return b;
    }

    static List<Long> longs(Row r, int i) {
        return new ArrayList<>(r.<Long>getList(i));
    }
}
