package dev.convcg.modelspark.train;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.training.StableHash;
import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Turns feature columns as the data side writes them (training_examples, user_features, pin_features) into the
 * primitive columns the model reads: categorical strings and string tokens become 64-bit ids with the project's one
 * id mapping, {@link StableHash} (Spark's {@code xxhash64}, stable across runs, JVMs and Spark versions, and the same
 * in plain Java for serving), codes and ids become longs, numbers floats,
 * sequences {@code array<bigint>} cut to the spec's length. Missing values get a fixed stand-in (0, empty, null
 * vector), so the model sees them as their own bucket rather than failing.
 */
public final class ModelInputs {
    private ModelInputs() {}

    /**
     * An example's weight in the loss: its training-data weight, or 1 for clicks when click-duration weights are off
     * (train.duration-weights; conversion and save weights stay).
     */
    public static Column exampleWeight(boolean durationWeights) {
        return durationWeights
                ? coalesce(col("weight").cast("float"), lit(1f))
                : when(col("event_type").equalTo("CLICK"), lit(1f))
                        .otherwise(coalesce(col("weight").cast("float"), lit(1f)));
    }

    /** Model-ready columns, named after the features of {@code specs}, in spec order. */
    public static List<Column> columns(StructType source, List<FeatureSpec> specs) {
        List<Column> out = new ArrayList<>();
        for (FeatureSpec s : specs) {
            if (source.getFieldIndex(s.name()).isEmpty()) {
                throw new IllegalArgumentException("feature '" + s.name() + "' has no column in the input; columns: "
                        + List.of(source.fieldNames()));
            }
            DataType type = source.apply(s.name()).dataType();
            Column c = col(s.name());
            Column model = switch (s.kind()) {
                case ID ->
                    type == DataTypes.StringType
                            ? StableHash.of(c)
                            : coalesce(c.cast("bigint"), lit(StableHash.MISSING));
                case ID_SEQUENCE -> {
                    Column ids = type instanceof ArrayType a && a.elementType() == DataTypes.StringType
                            ? StableHash.ofEach(c)
                            : c.cast("array<bigint>");
                    yield slice(coalesce(ids, array().cast("array<bigint>")), 1, s.maxLength());
                }
                case NUMERIC -> coalesce(c.cast("float"), lit(0f));
                case VECTOR -> c.cast("array<float>");
            };
            out.add(model.as(s.name()));
        }
        return out;
    }

    /** The input's feature columns for both towers, plus {@code extra} columns kept as they are. */
    public static Dataset<Row> select(Dataset<Row> input, FeatureSchema schema, String... extra) {
        List<Column> cols = new ArrayList<>();
        for (String e : extra) {
            cols.add(col(e));
        }
        List<FeatureSpec> all = new ArrayList<>(schema.user());
        all.addAll(schema.pin());
        cols.addAll(columns(input.schema(), all));
        return input.select(cols.toArray(Column[]::new));
    }

    /** Whether any feature of the list is a VECTOR (its width must match the data). */
    static boolean hasVector(List<FeatureSpec> specs) {
        return specs.stream().anyMatch(s -> s.kind() == FeatureKind.VECTOR);
    }
}
