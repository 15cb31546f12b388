package dev.jacobian.nn;

import static dev.jacobian.nn.MisuseAssertions.assertMessage;
import static dev.jacobian.nn.MisuseAssertions.mlp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Initializer;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
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

    /**
     * Issue 13: a NaN input became a silent class (ReLU turned it into 0, so the scores were finite and the arg-max
     * some class), and accuracy counted it.
     */
    @Test
    void nonFiniteInputsAreRejectedByInference() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b)) {
            float[] x = {1, 2, 3, 4, 0, Float.NaN, 0, 0};
            assertMessage(IllegalArgumentException.class,
                    "predictClasses: input value 1 of sample 1 is NaN; inputs must be finite",
                    () -> m.predictClasses(x, 2));
            assertMessage(IllegalArgumentException.class,
                    "predictClasses: input value 1 of sample 1 is NaN; inputs must be finite",
                    () -> m.predictClasses(x, 1, 1));
            assertMessage(IllegalArgumentException.class,
                    "predictScores: input value 1 of sample 1 is NaN; inputs must be finite",
                    () -> m.predictScores(x, 0, 2));
            assertMessage(IllegalArgumentException.class,
                    "accuracy: input value 0 of sample 0 is Infinity; inputs must be finite",
                    () -> m.accuracy(new float[] {Float.POSITIVE_INFINITY, 1, 1, 1}, new int[] {0}, 4));
            assertEquals(1, m.predictClasses(x, 0, 1).length); // the finite sample alone is fine
        }
    }

    /** Issue 13: a label outside the classes was counted silently as a wrong prediction. */
    @Test
    void accuracyRejectsLabelsOutsideTheClasses() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b)) {
            assertMessage(IllegalArgumentException.class, "accuracy: label 7 of sample 1 is outside [0, 2)",
                    () -> m.accuracy(new float[8], new int[] {0, 7}, 2));
            assertMessage(IllegalArgumentException.class, "accuracy: label -1 of sample 0 is outside [0, 2)",
                    () -> m.accuracy(new float[8], new int[] {-1, 0}, 2));
        }
    }

    /** Issue 13: targets too short for the rows asked were an IndexOutOfBoundsException of a bare range. */
    @Test
    void checkTargetsNamesRowsThatDoNotFit() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b)) {
            assertMessage(IllegalArgumentException.class,
                    "targets: rows [1, 6) of 1 value each do not fit in an array of 2",
                    () -> m.checkTargets(new float[2], 1, 5));
            assertMessage(IllegalArgumentException.class,
                    "targets: rows [-1, 0) of 1 value each do not fit in an array of 2",
                    () -> m.checkTargets(new float[2], -1, 1));
        }
    }

    /** Issue 13: a closed model said only "executor is closed", naming neither the model nor what closed it. */
    @Test
    void aClosedModelSaysSo() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            Model m = mlp(b);
            var w = m.parameter("dense1.weight");
            m.close();
            String closed = "model 4-3(relu)-2 softmax_cross_entropy is closed";
            assertMessage(IllegalStateException.class, closed, () -> m.predictClasses(new float[8], 2));
            assertMessage(IllegalStateException.class, closed, () -> m.accuracy(new float[8], new int[2], 2));
            assertMessage(IllegalStateException.class, closed, () -> m.read(w));
            assertMessage(IllegalStateException.class, closed, () -> m.write(w, new float[12]));
            assertMessage(IllegalStateException.class, closed, m::executor);
            assertMessage(IllegalStateException.class, closed, () -> dev.jacobian.io.ModelFile.save(m,
                    java.nio.file.Path.of("unused.safetensors")));
            assertEquals("4-3(relu)-2 softmax_cross_entropy", m.describe()); // what it was stays readable
            m.close(); // idempotent
        }
    }

    /** Issue 13: non-finite activation settings and an infinite L2 penalty were accepted (the loss became NaN). */
    @Test
    void nonFiniteBuilderSettingsAreRejected() {
        assertMessage(IllegalArgumentException.class, "L2 lambda must be finite and >= 0: Infinity",
                () -> Sequential.builder(4).l2(Double.POSITIVE_INFINITY));
        assertMessage(IllegalArgumentException.class, "L2 lambda must be finite and >= 0: -1.0",
                () -> Sequential.builder(4).l2(-1));
        assertMessage(IllegalArgumentException.class, "leaky-relu slope must be finite: NaN",
                () -> Sequential.builder(4).leakySlope(Double.NaN));
        assertMessage(IllegalArgumentException.class, "leaky-relu slope must be finite: Infinity",
                () -> Sequential.builder(4).leakySlope(Double.POSITIVE_INFINITY));
        assertMessage(IllegalArgumentException.class, "elu alpha must be finite: NaN",
                () -> Sequential.builder(4).eluAlpha(Double.NaN));
    }

    /**
     * Issue 13: null arguments were kept and failed later (a null loss or init at {@code build}, a null initializer
     * at the first forward), or threw a NullPointerException whose message was "null".
     */
    @Test
    void nullArgumentsAreNamedAtOnce() {
        var builder = Sequential.builder(4);
        assertMessage(NullPointerException.class, "activation", () -> builder.hidden(3, null));
        assertMessage(NullPointerException.class, "lossKind", () -> builder.output(2, null));
        assertMessage(NullPointerException.class, "scheme", () -> builder.init(null));
        assertMessage(NullPointerException.class, "backend",
                () -> Sequential.builder(4).output(2, LossKind.MSE).build(null));
        assertMessage(NullPointerException.class, "modules[1]",
                () -> Sequential.of(Modules.flatten(), null));
        assertMessage(NullPointerException.class, "init", () -> Modules.dense("d", 3, 2, null));
        assertMessage(NullPointerException.class, "name", () -> Modules.dense(null, 3, 2, Initializer.zeros()));
        try (ReferenceBackend b = new ReferenceBackend()) {
            Module d = Modules.dense("d", 4, 2, Initializer.zeros());
            assertMessage(NullPointerException.class, "net", () -> Model.of(null, Shape.of(4), LossKind.MSE, b, 1));
            assertMessage(NullPointerException.class, "loss", () -> Model.of(d, Shape.of(4), null, b, 1));
            assertMessage(NullPointerException.class, "backend", () -> Model.of(d, Shape.of(4), LossKind.MSE, null, 1));
        }
    }

    /**
     * One-hot targets need {@code labels * classes} floats: with 32769 labels of 65536 classes that product overflowed
     * int, and {@code encodeTargets} threw a NegativeArraySizeException instead of saying what is too large.
     */
    @Test
    void oneHotTargetsTooLargeForAnArrayAreNamed() {
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Sequential.builder(1).output(65536, LossKind.MSE).build(b)) {
            assertMessage(IllegalArgumentException.class, "encodeTargets: 32769 labels of 65536 classes need "
                    + "2147549184 floats, more than an array holds; encode them in smaller batches",
                    () -> m.encodeTargets(new int[32769]));
            assertEquals(2 * 65536, m.encodeTargets(new int[] {0, 65535}).length);
        }
    }
}
