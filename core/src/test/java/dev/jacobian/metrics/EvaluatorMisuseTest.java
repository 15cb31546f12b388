package dev.jacobian.metrics;

import static dev.jacobian.nn.MisuseAssertions.assertMessage;
import static dev.jacobian.nn.MisuseAssertions.mlp;

import dev.jacobian.data.FloatDataset;
import dev.jacobian.nn.Model;
import dev.jacobian.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Issue 13: evaluations of nothing, of mismatched arrays or of non-finite inputs are errors, not NaN or a guess. */
class EvaluatorMisuseTest {
    /** Before: an evaluation of no samples returned a NaN loss and an accuracy of 0. */
    @Test
    void nothingToEvaluateIsAnError() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Evaluator ev = new Evaluator(m)) {
            assertMessage(IllegalArgumentException.class, "evaluate: no samples to evaluate",
                    () -> ev.evaluate(new float[0], new int[0], 4));
            assertMessage(IllegalArgumentException.class, "evaluate: empty has no samples to evaluate",
                    () -> ev.evaluate(new FloatDataset("empty", new float[0], new int[0], 4), 4));
        }
    }

    /** Before: samples beyond the labels, or stray values, were ignored silently. */
    @Test
    void inputsMustHoldOneSamplePerLabel() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Evaluator ev = new Evaluator(m)) {
            assertMessage(IllegalArgumentException.class,
                    "evaluate: x must have labels.length * 4 = 8 values: 12",
                    () -> ev.evaluate(new float[12], new int[] {0, 1}, 4));
            assertMessage(IllegalArgumentException.class,
                    "evaluate: x must have labels.length * 4 = 8 values: 9",
                    () -> ev.evaluate(new float[9], new int[] {0, 1}, 4));
        }
    }

    /** Before: a NaN input was counted as a prediction of class 0 with a finite loss (ReLU zeroed it). */
    @Test
    void nonFiniteInputsAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Evaluator ev = new Evaluator(m)) {
            float[] x = {1, 1, 1, 1, Float.NaN, 0, 0, 0};
            assertMessage(IllegalArgumentException.class,
                    "evaluate: input value 0 of sample 1 is NaN; inputs must be finite",
                    () -> ev.evaluate(x, new int[] {1, 1}, 4));
            assertMessage(IllegalArgumentException.class,
                    "evaluate: input value 0 of sample 1 is NaN; inputs must be finite",
                    () -> ev.add(x, new int[] {1, 1}, 1, 1));
            assertMessage(IllegalArgumentException.class,
                    "nan set: input value 0 of sample 1 is NaN; inputs must be finite",
                    () -> ev.evaluate(new FloatDataset("nan set", x, new int[] {1, 1}, 4), 1));
        }
    }

    /** Before: {@code k = 0} was accepted when nothing had been counted. */
    @Test
    void topKOfZeroIsRejectedEvenWhenEmpty() {
        assertMessage(IllegalArgumentException.class, "k must be >= 1: 0", () -> new TopK(3).accuracy(0));
    }

    /**
     * Before: {@code firstRow + rows} overflowed an int and passed the range checks, so a huge row count ended in
     * {@code Arrays.copyOfRange}'s "1 &gt; -2147483648", which named neither the evaluation nor the rows.
     */
    @Test
    void rowsBeyondAnIntAreNamed() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Evaluator ev = new Evaluator(m)) {
            assertMessage(IllegalArgumentException.class, "rows [1, 2147483648) do not fit in 2 labels",
                    () -> ev.add(new float[8], new int[] {0, 1}, 1, Integer.MAX_VALUE));
        }
    }
}
