package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.UnaryOp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The vector transcendentals ({@link VectorMath}) and the kernels built on them give the same bits cold
 * (interpreted, the Vector API's Java fallbacks) and warm (C2-compiled, the Vector API intrinsics), the
 * promise that makes a resumed training run bit-identical to a straight one. {@link Probe} runs in a fresh
 * child JVM, so that its first evaluation is really cold whatever ran before in this one: it evaluates every
 * function and kernel once, runs each about 200k times so that C2 compiles it, evaluates again and prints
 * every lane whose bits changed.
 */
class VectorMathJitTest {
    /** Calls per function or kernel between the cold and the warm evaluation. */
    static final int WARM_CALLS = 200_000;
    /** Floats in the evaluated input (rows of {@link #COLS} for the row kernels). */
    static final int SIZE = 2048;
    static final int COLS = 64;

    /** A kernel from an input to an output array of {@code n} floats (a multiple of {@link #COLS}). */
    interface Kernel {
        void run(float[] in, float[] out, int n);
    }

    /** The child JVM's entry point: prints {@code MISMATCH name lane cold warm} lines, then {@code DONE}. */
    public static final class Probe {
        public static void main(String[] args) {
            float[] in = inputs();
            Map<String, Kernel> kernels = kernels();
            Map<String, float[]> cold = new LinkedHashMap<>();
            for (var e : kernels.entrySet()) {
                float[] out = new float[SIZE];
                e.getValue().run(in, out, SIZE);
                cold.put(e.getKey(), out);
            }
            float[] slice = new float[COLS];
            float[] sink = new float[COLS];
            float check = 0f;
            for (var e : kernels.entrySet()) {
                Kernel k = e.getValue();
                for (int i = 0; i < WARM_CALLS; i++) {
                    int off = (i % (SIZE / COLS)) * COLS;
                    System.arraycopy(in, off, slice, 0, COLS);
                    k.run(slice, sink, COLS);
                    check += sink[i % COLS];
                }
            }
            int mismatches = 0;
            for (var e : kernels.entrySet()) {
                float[] warm = new float[SIZE];
                e.getValue().run(in, warm, SIZE);
                float[] c = cold.get(e.getKey());
                int lanes = 0;
                for (int i = 0; i < SIZE; i++) {
                    if (Float.floatToIntBits(c[i]) != Float.floatToIntBits(warm[i])) {
                        if (lanes++ < 3) {
                            System.out.println("MISMATCH " + e.getKey() + " " + i + " x=" + in[i] + " cold="
                                    + c[i] + " warm=" + warm[i]);
                        }
                    }
                }
                mismatches += lanes;
                System.out.println((lanes == 0 ? "SAME " : "DIFFERENT ") + e.getKey() + " " + lanes);
            }
            System.out.println("DONE mismatches=" + mismatches + " (sink " + check + ")");
        }
    }

    /** Moderate values (as activations and logits are), a wide range, and the special values. */
    static float[] inputs() {
        Random rnd = new Random(42);
        float[] x = new float[SIZE];
        for (int i = 0; i < SIZE; i++) {
            x[i] = switch (i % 4) {
                case 0, 1 -> (float) (rnd.nextGaussian() * 4);
                case 2 -> (float) (rnd.nextDouble() * 240 - 120);
                default -> (float) Math.scalb(rnd.nextDouble() - 0.5, rnd.nextInt(-140, 100));
            };
        }
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, 88.72f, 88.73f, -103.9f, -104f, 9.01f};
        for (int i = 0; i < special.length; i++) {
            x[SIZE - 1 - 7 * i] = special[i];
        }
        return x;
    }

    /** Applies {@code f} a vector at a time ({@code n} is a multiple of the lane count). */
    static void lanes(UnaryOperator<FloatVector> f, float[] in, float[] out, int n) {
        for (int i = 0; i < n; i += Simd.L) {
            f.apply(FloatVector.fromArray(Simd.F, in, i)).intoArray(out, i);
        }
    }

    static Map<String, Kernel> kernels() {
        Map<String, Kernel> k = new LinkedHashMap<>();
        k.put("exp", (in, out, n) -> lanes(VectorMath::exp, in, out, n));
        k.put("expm1", (in, out, n) -> lanes(VectorMath::expm1, in, out, n));
        k.put("log", (in, out, n) -> lanes(VectorMath::log, in, out, n));
        k.put("log1p", (in, out, n) -> lanes(VectorMath::log1p, in, out, n));
        k.put("tanh", (in, out, n) -> lanes(VectorMath::tanh, in, out, n));
        k.put("sigmoid", (in, out, n) -> lanes(VectorMath::sigmoid, in, out, n));
        for (UnaryOp op : List.of(UnaryOp.EXP, UnaryOp.LOG, UnaryOp.TANH, UnaryOp.SIGMOID)) {
            k.put("unary " + op, (in, out, n) -> ElementwiseVector.unary(op, 0f, 0f, in, 0, out, 0, n));
        }
        for (Activation f : List.of(Activation.ELU, Activation.SIGMOID, Activation.TANH)) {
            k.put("activation " + f, (in, out, n) -> ElementwiseVector.activation(f, 0.7f, in, 0, out, 0, n));
        }
        k.put("softmax", (in, out, n) -> ReduceVector.softmax(in, 0, out, 0, n / COLS, COLS));
        for (LossKind kind : List.of(LossKind.SOFTMAX_CROSS_ENTROPY, LossKind.SIGMOID_BINARY_CROSS_ENTROPY)) {
            k.put("loss " + kind, (in, out, n) -> {
                int m = n / COLS;
                float[] t = targets(kind, m);
                float[] loss = new float[m];
                ReduceVector.rowLoss(kind, in, 0, t, 0, loss, 0, m, COLS);
                float[] dout = new float[m];
                java.util.Arrays.fill(dout, 0.5f);
                ReduceVector.rowLossBackward(kind, in, 0, t, 0, dout, 0, out, 0, m, COLS, false);
                System.arraycopy(loss, 0, out, 0, m); // the losses overwrite the first gradients
            });
        }
        return k;
    }

    /** Class indexes (one a row) or 0/1 targets (one an element). */
    static float[] targets(LossKind kind, int m) {
        if (kind == LossKind.SOFTMAX_CROSS_ENTROPY) {
            float[] t = new float[m];
            for (int i = 0; i < m; i++) {
                t[i] = (i * 7) % COLS;
            }
            return t;
        }
        float[] t = new float[m * COLS];
        for (int i = 0; i < t.length; i++) {
            t[i] = (i * 5) % 3 == 0 ? 1f : 0f;
        }
        return t;
    }

    @Test
    void coldAndWarmGiveTheSameBits() throws IOException, InterruptedException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules=jdk.incubator.vector"));
        String bits = System.getProperty(Simd.BITS_PROPERTY);
        if (bits != null) {
            cmd.add("-D" + Simd.BITS_PROPERTY + "=" + bits);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM finished");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("DONE mismatches=0"), out);
    }
}
