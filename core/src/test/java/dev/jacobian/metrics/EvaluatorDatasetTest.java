package dev.jacobian.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.data.Split;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** {@link Evaluator#evaluate(dev.jacobian.data.Dataset, int)}: the numbers of the float-array evaluation. */
class EvaluatorDatasetTest {
    @Test
    void aDatasetEvaluatesAsItsFloats() {
        int n = 90;
        byte[] px = new byte[n * 12];
        int[] labels = new int[n];
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) r.nextInt(256);
        }
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
        }
        ImageDataset images = new ImageDataset("eval", px, labels, 1, 3, 4);
        // a view, as the command line's validation part is
        ImageDataset part = Split.holdOut(images, 25, 3).validation();
        try (Backend b = new ReferenceBackend();
             Model m = Sequential.builder(12).hidden(8, "relu").output(4, LossKind.SOFTMAX_CROSS_ENTROPY).seed(2).build(b);
             Evaluator ev = new Evaluator(m)) {
            for (int batch : new int[] {7, 25, 100}) {
                Evaluation expected = ev.evaluate(part.floats(0, part.size()), part.labels(), batch);
                Evaluation actual = ev.evaluate(part, batch);
                assertEquals(expected.loss(), actual.loss(), "the same batches give the same loss, bit for bit, batch " + batch);
                assertArrayEquals(expected.confusionMatrix().counts(), actual.confusionMatrix().counts());
                assertEquals(25, actual.samples());
            }
            assertThrows(IllegalArgumentException.class, () -> ev.evaluate(part, 0));
            ImageDataset wide = new ImageDataset("wide", new byte[13], new int[1], 1, 1, 13);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ev.evaluate(wide, 4));
            assertEquals("wide: samples of 13 values, but the model takes 12", e.getMessage());
        }
    }
}
