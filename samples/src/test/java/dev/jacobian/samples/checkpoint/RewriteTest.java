package dev.jacobian.samples.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.io.SafeTensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint written again under the same epoch (early stopping's last checkpoint, with the best weights) that
 * fails between its two writes (a kill, a full disk) never leaves a JSON file whose tensor file does not match.
 */
class RewriteTest {
    @TempDir
    Path dir;

    /** A state that Jackson cannot write: the failure comes after the tensor file is written. */
    public static final class Broken {
        public int getA() {
            throw new IllegalStateException("disk full");
        }
    }

    private static Map<String, SafeTensors.Entry> tensors(float v) {
        return Map.of("w", new SafeTensors.Entry(new int[] {2}, new float[] {v, 2}));
    }

    @Test
    void aRewriteTornBetweenItsTwoWritesLeavesALoadableCheckpoint() throws Exception {
        CheckpointStore store = new CheckpointStore(dir);
        store.save(1, tensors(1), Map.of(), Map.of("a", 1));
        store.save(2, tensors(2), Map.of(), Map.of("a", 2));
        assertThrows(RuntimeException.class, () -> store.save(2, tensors(20), Map.of(), new Broken()));
        store.removeLeftovers();
        var loaded = CheckpointStore.load(dir, Map.class); // not "SHA-256 ... does not match"
        int epoch = ((Number) loaded.state().get("a")).intValue();
        assertEquals(loaded.tensors().get("w").data()[0], (float) epoch, "the JSON and its tensors are one checkpoint");
    }
}
