package dev.convcg.core.eval;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class UserSampleTest {

    /** 20,000 users with 1 to 3 held-out events each. */
    private static Dataset<Row> events(SparkSession spark) {
        List<Row> rows = new ArrayList<>();
        for (long u = 1; u <= 20_000; u++) {
            for (int e = 0; e <= u % 3; e++) {
                rows.add(RowFactory.create(u, 100 + e * 7L + u % 11, "HOME_FEED", "conversion"));
            }
        }
        StructType schema = new StructType()
                .add("user_id", DataTypes.LongType)
                .add("pin_id", DataTypes.LongType)
                .add("surface", DataTypes.StringType)
                .add("task", DataTypes.StringType);
        return spark.createDataFrame(rows, schema);
    }

    private static Set<Long> users(Dataset<Row> d) {
        return d.select("user_id").distinct().collectAsList().stream()
                .map(r -> r.getLong(0))
                .collect(Collectors.toSet());
    }

    @Test
    void samplesAboutMaxUsersWithAllTheirEventsTheSameEveryTime(SparkSession spark) {
        Dataset<Row> all = events(spark);
        Dataset<Row> sample = UserSample.of(all, 5_000);
        Set<Long> kept = users(sample);
        assertEquals(5_000, kept.size(), 250, "about max-users users (binomial, sd ~ 61)");
        long expectedEvents = all.filter(col("user_id").isin(kept.toArray())).count();
        assertEquals(expectedEvents, sample.count(), "every held-out event of a sampled user is kept");
        assertEquals(kept, users(UserSample.of(all, 5_000)), "deterministic");
    }

    @Test
    void keepsEveryoneAtOrBelowTheLimitOrWhenTheLimitIsZero(SparkSession spark) {
        Dataset<Row> all = events(spark);
        long n = all.count();
        assertEquals(n, UserSample.of(all, 0).count());
        assertEquals(n, UserSample.of(all, 20_000).count());
        assertThrows(
                IllegalArgumentException.class,
                () -> new EvaluationSettings(
                        7,
                        14,
                        List.of(100),
                        List.of(100),
                        256,
                        4096,
                        Set.of(),
                        EvaluationSettings.defaults().als(),
                        -1,
                        EvaluationSettings.defaults().intervals(),
                        100));
    }
}
