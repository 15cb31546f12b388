package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The same seed and model train to the same losses on OpenCL as on the CPU backend. */
class ClParityTest {
    /** Relative difference allowed between the CPU and OpenCL loss at every step. */
    static final double PARITY_RTOL = 1e-4;
    static final int STEPS = 100;

    private static float[] losses(Backend backend, String activation) {
        int n = 256;
        int features = 20;
        SplittableRandom r = new SplittableRandom(99);
        float[] x = new float[n * features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < features; j++) {
                float v = (float) r.nextGaussian();
                x[i * features + j] = v;
                s += v * (j % 3 - 1);
            }
            y[i] = s > 0.5 ? 2 : s < -0.5 ? 0 : 1;
        }
        try (Model mlp = Sequential.builder(features).hidden(64, activation).hidden(32, activation)
                .output(3, LossKind.SOFTMAX_CROSS_ENTROPY).l2(1e-4).seed(7).build(backend);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(y);
            float[] out = new float[STEPS];
            for (int i = 0; i < STEPS; i++) {
                out[i] = t.step(x, targets, (i * 32) % n, 32).loss();
            }
            return out;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "tanh", "maxout"})
    void cpuAndOpenClLossesAgreeOver100Steps(String activation) {
        float[] cpu;
        try (Backend b = new CpuBackend(2)) {
            cpu = losses(b, activation);
        }
        float[] cl;
        try (Backend b = OpenClTestSupport.openOrSkip()) {
            cl = losses(b, activation);
        }
        for (int i = 0; i < STEPS; i++) {
            assertEquals(cpu[i], cl[i], PARITY_RTOL * Math.abs(cpu[i]),
                    "step " + (i + 1) + " loss, " + activation + ": cpu " + cpu[i] + " vs opencl " + cl[i]);
        }
    }
}
