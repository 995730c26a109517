package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SparkTest.class)
class StableHashTest {

    @Test
    void pinnedValuesNeverChange(SparkSession spark) {
        List<String> inputs = List.of("HOME_FEED", "SEARCH", "US", "cat_001", "", "sofa");
        List<Row> rows = spark.createDataset(inputs, Encoders.STRING())
                .toDF("v")
                .select(col("v"), StableHash.of(col("v")).as("h"))
                .collectAsList();
        for (Row r : rows) {
            assertEquals(StableHash.of(r.getString(0)), r.getLong(1), "Java and Spark agree on " + r.getString(0));
        }
        assertEquals(-5615665664607886133L, StableHash.of("HOME_FEED"));
        assertEquals(6229968525223406475L, StableHash.of("SEARCH"));
        assertEquals(-3707808605746212292L, StableHash.of("US"));
        assertEquals(-1044247597273966335L, StableHash.of("cat_001"));
        assertEquals(-7444071767201028348L, StableHash.of(""));
        assertEquals(-1160746909936197072L, StableHash.of("sofa"));
        assertEquals(StableHash.MISSING, StableHash.of((String) null));
        assertEquals(
                StableHash.MISSING,
                spark.sql("select cast(null as string) v")
                        .select(StableHash.of(col("v")))
                        .first()
                        .getLong(0));
    }

    @Test
    void tokensAreHashedOneByOne(SparkSession spark) {
        Row r = spark.sql("select array('red', 'sofa') t")
                .select(StableHash.ofEach(col("t")))
                .first();
        assertEquals(List.of(StableHash.of("red"), StableHash.of("sofa")), r.getList(0));
    }

    @Test
    void noCollisionOnARealisticVocabulary() {
        List<String> vocabulary = new ArrayList<>(
                List.of("HOME_FEED", "RELATED_PINS", "SEARCH", "US", "GB", "DE", "FR", "CA", "BR", "JP"));
        for (int k = 0; k < 1000; k++) {
            vocabulary.add(String.format("cat_%03d", k));
        }
        String[] modifiers = {"sale", "best", "cheap", "new", "gift", "set", "mini", "pro", "red", "blue"};
        for (int i = 0; i < 200_000; i++) {
            vocabulary.add("w" + i + modifiers[i % modifiers.length]);
        }
        Set<Long> ids = new HashSet<>();
        for (String v : vocabulary) {
            ids.add(StableHash.of(v));
        }
        assertEquals(vocabulary.size(), ids.size());
        assertFalse(ids.contains(StableHash.MISSING));
    }
}
