package dev.jacobian.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Data-parallel training over reference backends, and the shard arithmetic. */
class ReferenceDataParallelTest extends DataParallelSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }

    @Test
    void shardsCoverTheBatchContiguouslyAndWeighTheirShare() {
        assertEquals(0, Shards.start(10, 3, 0));
        assertEquals(3, Shards.start(10, 3, 1));
        assertEquals(6, Shards.start(10, 3, 2));
        assertEquals(10, Shards.start(10, 3, 3));
        assertArrayEquals(new double[] {0.3, 0.3, 0.4}, Shards.weights(10, 3), 1e-15);
        assertEquals(0, Shards.firstShardOf(6, 4, 0));
        assertEquals(1, Shards.firstShardOf(6, 4, 1));
        assertEquals(3, Shards.firstShardOf(6, 4, 2));
        assertEquals(6, Shards.firstShardOf(6, 4, 4));
    }

    @Test
    void theWeightedSumIsInShardOrderInDouble() {
        float big = 1 << 24;
        float[] a = new float[3000];
        float[] b = new float[3000];
        float[] c = new float[3000];
        java.util.Arrays.fill(a, big);
        java.util.Arrays.fill(b, 1f);
        java.util.Arrays.fill(c, -big);
        float[] out = new float[3000];
        Shards.weightedSum(List.of(a, b, c), new double[] {1, 1, 1}, out);
        for (float v : out) {
            assertEquals(1f, v, "float additions in this order would lose the 1: the sum is kept in double");
        }
        assertEquals(2.5f, Shards.weightedSum(new float[] {2f, 3f}, new double[] {0.5, 0.5}));
    }
}
