package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.LossKind;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The softmax cross-entropy's gradient on the vector kernels: written, each exponential is computed once and kept in
 * the gradient's row ({@code ReduceVector.softmaxCrossEntropyRow}); accumulated, the sum of the exponentials is formed
 * first and each exponential computed again. Both must give the same bits (a training run's numbers do not depend on
 * which path wrote its gradient), for fewer classes than a vector has lanes (every exponential scalar), a whole vector,
 * and a vector and a tail.
 */
class CpuLossKernelsTest {
    @ParameterizedTest
    @ValueSource(ints = {2, 10, 15, 16, 17, 33, 100})
    void theWrittenGradientHasTheBitsOfTheAccumulatedOne(int classes) {
        SplittableRandom random = new SplittableRandom(classes);
        try (CpuBackend be = new CpuBackend(1)) {
            for (int rows : new int[] {1, 5, 64}) {
                for (double spread : new double[] {3, 30}) { // 30: exponentials down to 0, sums dominated by one term
                    float[] logits = new float[rows * classes];
                    for (int i = 0; i < logits.length; i++) {
                        logits[i] = (float) ((random.nextDouble() * 2 - 1) * spread);
                    }
                    float[] targets = new float[rows];
                    for (int i = 0; i < rows; i++) {
                        targets[i] = random.nextInt(classes);
                    }
                    float seed = (float) (random.nextDouble() * 4 - 2);
                    try (Tensor p = be.fromHost(Shape.matrix(rows, classes), logits);
                         Tensor t = be.fromHost(Shape.matrix(rows, 1), targets);
                         Tensor dout = be.fromHost(Shape.scalar(), new float[] {seed});
                         Tensor written = be.fromHost(Shape.matrix(rows, classes), new float[rows * classes]);
                         Tensor added = be.fromHost(Shape.matrix(rows, classes), new float[rows * classes])) {
                        be.meanLossBackward(LossKind.SOFTMAX_CROSS_ENTROPY, p, t, dout, written, false);
                        be.meanLossBackward(LossKind.SOFTMAX_CROSS_ENTROPY, p, t, dout, added, true);
                        float[] w = written.download();
                        float[] a = added.download();
                        for (int i = 0; i < w.length; i++) {
                            // + 0f: adding onto a zero turns -0 into +0, the only difference allowed
                            assertEquals(a[i], w[i] + 0f, () -> classes + " classes, " + rows + " rows, spread "
                                    + spread);
                        }
                    }
                }
            }
        }
    }
}
