package dev.convcg.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.convcg.model.data.Task;
import dev.convcg.model.data.TrainingBatch;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureHashing;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.FeatureTensors;
import dev.convcg.model.features.Pooling;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeaturesTest {
    @Test
    void splitmixMatchesReferenceValues() {
        // First outputs of the reference SplitMix64 generator seeded with 0.
        assertEquals(0xE220A8397B1DCDAFL, FeatureHashing.mix(0L));
        assertEquals(0x6E789E6AA1B965F4L, FeatureHashing.mix(0x9E3779B97F4A7C15L));
    }

    @Test
    void bucketsAreStableInRangeAndSpread() {
        long seed = FeatureHashing.seedOf("pin_id");
        assertEquals(seed, FeatureHashing.seedOf("pin_id"));
        assertNotEquals(seed, FeatureHashing.seedOf("user_id"));
        int[] counts = new int[16];
        for (long id = -5000; id < 5000; id++) {
            int b = FeatureHashing.bucket(id, seed, 16);
            assertTrue(b >= 0 && b < 16);
            counts[b]++;
        }
        for (int c : counts) {
            assertTrue(c > 500 && c < 750, "bucket count " + c);
        }
        assertEquals(
                FeatureHashing.bucket(Long.MIN_VALUE, seed, 1000), FeatureHashing.bucket(Long.MIN_VALUE, seed, 1000));
        FeatureSpec hour = FeatureSpec.code("hour_of_day", 24, 4);
        assertEquals(23, FeatureHashing.bucket(23, hour));
        assertEquals(1, FeatureHashing.bucket(-23, hour));
    }

    @Test
    void defaultSchemaMatchesTrainingColumns() {
        FeatureSchema s = FeatureSchema.defaults();
        assertTrue(s.names()
                .containsAll(List.of(
                        "user_id",
                        "user_country",
                        "surface",
                        "hour_of_day",
                        "query_tokens",
                        "user_engaged_pins",
                        "user_converted_pins",
                        "user_clicks_28d",
                        "user_saves_28d",
                        "user_conversions_28d",
                        "pin_id",
                        "pin_category",
                        "pin_price_bucket",
                        "pin_ctr",
                        "pin_cvr",
                        "pin_content_embedding")));
        assertEquals("pin_id", s.user().get(5).tableName());
        assertTrue(!s.tables().containsKey("user_engaged_pins"));
    }

    @Test
    void schemaRejectsBadSharing() {
        FeatureSpec pinId = FeatureSpec.id("pin_id", 100, 8);
        FeatureSpec other = FeatureSpec.id("other", 50, 8);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new FeatureSchema(
                        List.of(FeatureSpec.sequenceSharing("seq", other, 3, Pooling.MEAN)), List.of(pinId)));
        assertTrue(e.getMessage().contains("feature[seq].sharedTable"), e.getMessage());
    }

    @Test
    void tensorsFollowSpecLayout() {
        FeatureSpec id = FeatureSpec.code("c", 10, 2);
        FeatureSpec seq = FeatureSpec.sequence("s", 100, 2, 3, Pooling.MEAN);
        FeatureSpec num = FeatureSpec.numeric("n", true);
        FeatureSpec vec = FeatureSpec.vector("v", 2);
        FeatureBatch b = FeatureBatch.builder(2)
                .id("c", new long[] {3, 12})
                .sequence("s", new long[] {5, 6, 7, 8, 9, 10, 11, 12}, 4, new int[] {4, 1})
                .numeric("n", new float[] {0f, (float) (Math.E - 1)})
                .vector("v", new float[] {1, 2, 3, 4}, 2, new boolean[] {true, false})
                .build();
        try (NDManager m = NDManager.newBaseManager()) {
            NDList t = FeatureTensors.tensorize(m, List.of(id, seq, num, vec), b);
            assertEquals(6, t.size());
            assertArrayEquals(new long[] {3, 2}, t.get(0).toLongArray());
            assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0}, t.get(2).toFloatArray());
            assertEquals(FeatureHashing.bucket(9, seq), t.get(1).toLongArray()[3]);
            assertArrayEquals(new float[] {0f, 1f}, t.get(3).toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {1, 2, 0, 0}, t.get(4).toFloatArray());
            assertArrayEquals(new float[] {1, 0}, t.get(5).toFloatArray());
        }
    }

    @Test
    void batchesValidateColumnsAndTasks() {
        assertThrows(
                IllegalArgumentException.class, () -> FeatureBatch.builder(2).id("x", new long[3]));
        FeatureBatch two = FeatureBatch.builder(2).build();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingBatch.of(
                        two,
                        two,
                        new long[2],
                        new long[2],
                        new byte[] {Task.CONVERSION.code(), Task.NEGATIVE.code()},
                        new float[2],
                        new double[] {0.1, 0.1}));
        assertTrue(e.getMessage().contains("batch.tasks"), e.getMessage());
        FeatureBatch a = FeatureBatch.builder(1).id("x", new long[] {1}).build();
        FeatureBatch c = FeatureBatch.concat(
                a, FeatureBatch.builder(1).id("x", new long[] {2}).build());
        assertArrayEquals(new long[] {1, 2}, c.ids("x"));
        assertArrayEquals(new long[] {2}, c.slice(1, 2).ids("x"));
    }
}
