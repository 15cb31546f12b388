package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.LossKind;
import dev.jacobian.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Inputs that are not whole samples, or labels that do not match them, are clear errors, never a silent answer. */
class ModelMisuseTest {
    @Test
    void strayValuesMissingLabelsAndEmptyBatchesAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Sequential.builder(4).hidden(3, "relu").output(2, LossKind.SOFTMAX_CROSS_ENTROPY).build(b)) {
            IllegalArgumentException stray = assertThrows(IllegalArgumentException.class,
                    () -> m.predictClasses(new float[9], 2));
            assertEquals("predictClasses: 9 values are not a whole number of samples of 4 (1 left over)",
                    stray.getMessage());
            IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                    () -> m.accuracy(new float[8], new int[3], 2));
            assertEquals("accuracy: 3 labels for 2 samples", labels.getMessage());
            IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                    () -> m.predictClasses(new float[8], 0));
            assertEquals("predictClasses: batch must be at least 1: 0", batch.getMessage());
            assertEquals(2, m.predictClasses(new float[8], 2).length);
            assertEquals(0, m.predictClasses(new float[0], 2).length);
        }
    }
}
