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

    /** Issue 13: NaN weights were accepted silently, and every prediction from them was NaN. */
    @Test
    void nonFiniteWeightsAreRejectedAndNothingIsWritten() {
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Sequential.builder(4).hidden(3, "relu").batchNorm().output(2, LossKind.SOFTMAX_CROSS_ENTROPY)
                     .build(b)) {
            var w = m.parameter("dense1.weight");
            float[] before = m.read(w);
            float[] bad = before.clone();
            bad[5] = Float.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.write(w, bad));
            assertEquals("parameter 'dense1.weight' [4, 3]: value 5 is NaN; a model's parameters must be finite",
                    e.getMessage());
            org.junit.jupiter.api.Assertions.assertArrayEquals(before, m.read(w));
            var mean = m.buffer("bn1.running_var");
            IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                    () -> m.write(mean, new float[] {1, Float.POSITIVE_INFINITY, 1}));
            assertEquals("buffer 'bn1.running_var' [3]: value 1 is Infinity; a model's buffers must be finite",
                    inf.getMessage());
        }
    }
}
