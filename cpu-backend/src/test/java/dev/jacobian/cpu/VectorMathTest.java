package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jacobian.backend.Tolerances;
import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Accuracy of {@link VectorMath} against {@link Math} (computed in double, rounded to float): a sweep over
 * the bit patterns of every float magnitude and both signs, dense grids where the functions are used, the
 * overflow and underflow edges, and the special values, which must match {@code Math} exactly.
 */
class VectorMathTest {
    /** One bit pattern in this many across the whole float range. */
    private static final int BIT_STRIDE = 4099;
    /** Points of each dense uniform grid. */
    private static final int GRID = 200_001;

    /** A function, its {@code Math} reference and the largest distance allowed, in ulps of the float result. */
    record Fn(String name, UnaryOperator<FloatVector> vector, DoubleUnaryOperator reference, int maxUlp,
              float gridLo, float gridHi, float[] edges) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> functions() {
        return Stream.of(
                new Fn("exp", VectorMath::exp, Math::exp, 1, -20f, 20f,
                        new float[] {88.72283f, 88.722839f, 88.72284f, 88.7229f, 89f, 100f, -87.33654f, -87.3366f,
                            -103.2789f, -103.9720f, -103.97208f, -103.9721f, -104f, -110f}),
                new Fn("expm1", VectorMath::expm1, Math::expm1, 1, -1f, 1f,
                        new float[] {88.72283f, 88.72284f, 88.7229f, 0.34657f, 0.34658f, -0.34657f, -0.34658f,
                            -17.3f, -17.33f, -17.34f, -30f, -31f, 1e-7f, -1e-7f, 3e-5f}),
                new Fn("log", VectorMath::log, Math::log, 1, 1e-3f, 20f,
                        new float[] {0.70710677f, 0.7071068f, 1.4142135f, 1.4142137f, 1f - 0x1p-24f, 1f + 0x1p-23f,
                            0x1p-126f, 0x1p-127f, 0x1.fffffep-127f}),
                new Fn("log1p", VectorMath::log1p, Math::log1p, 1, -0.999f, 2f,
                        new float[] {-1f + 0x1p-24f, -0.5f, 0x1p-24f, -0x1p-24f, 0x1p-25f, -0x1p-25f, 0x1.8p-24f,
                            -0x1.8p-25f, 1e-7f, 16777216f, 16777217f}),
                new Fn("tanh", VectorMath::tanh, Math::tanh, 2, -10f, 10f,
                        new float[] {9f, 9.01f, 9.011f, 10f, 10.01f, 0x1p-12f, 0.55f, 0.56f, 1e-4f}),
                new Fn("sigmoid", VectorMath::sigmoid, x -> 1.0 / (1.0 + Math.exp(-x)), 2, -20f, 20f,
                        new float[] {-88.72f, -88.73f, -103f, -103.28f, -104f, -105f, 16.6f, 17.4f, 100f}))
                .map(Arguments::of);
    }

    /** Applies {@code f} to {@code x} a vector at a time (the input is padded to whole vectors). */
    static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
        int n = (x.length + Simd.L - 1) / Simd.L * Simd.L;
        float[] in = Arrays.copyOf(x, n);
        float[] out = new float[n];
        for (int i = 0; i < n; i += Simd.L) {
            f.apply(FloatVector.fromArray(Simd.F, in, i)).intoArray(out, i);
        }
        return Arrays.copyOf(out, x.length);
    }

    /** Distance in ulps: the number of floats between a and b (infinity is the float after MAX_VALUE). */
    static long ulps(float a, float b) {
        return Math.abs(ordinal(a) - ordinal(b));
    }

    private static long ordinal(float f) {
        int bits = Float.floatToIntBits(f);
        return bits < 0 ? (long) Integer.MIN_VALUE - bits : bits;
    }

    /** Checks every input; returns the largest ulp distance seen. */
    static long check(Fn fn, float[] x) {
        float[] got = apply(fn.vector(), x);
        long worst = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = fn.reference().applyAsDouble(x[i]);
            float want = (float) exact;
            float g = got[i];
            if (Float.isNaN(want) || Float.isNaN(g)) {
                if (Float.isNaN(want) != Float.isNaN(g)) {
                    fail(fn + "(" + x[i] + ") = " + g + ", Math gives " + want);
                }
                continue;
            }
            if (want == 0f && g == 0f) {
                if (Float.floatToIntBits(want) != Float.floatToIntBits(g)) {
                    fail(fn + " keeps the sign of zero as Math at " + x[i] + ": got " + g);
                }
                continue;
            }
            long u = ulps(want, g);
            if (u > fn.maxUlp()) {
                fail(fn + "(" + x[i] + ") = " + g + ", Math gives " + want + ": " + u + " ulp");
            }
            // Implied by the ulp bound; spelled out because this is what the conformance suites check.
            if (Float.isFinite(want)
                    && Math.abs(g - exact) > Tolerances.FP32_ATOL + Tolerances.FP32_RTOL * Math.abs(exact)) {
                fail(fn + "(" + x[i] + ") = " + g + " against " + exact);
            }
            worst = Math.max(worst, u);
        }
        return worst;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void sweepOfAllMagnitudes(Fn fn) {
        int perSign = (int) (0x7F800000L / BIT_STRIDE) + 1;
        float[] x = new float[2 * perSign];
        for (int i = 0; i < perSign; i++) {
            x[2 * i] = Float.intBitsToFloat(i * BIT_STRIDE);
            x[2 * i + 1] = -x[2 * i];
        }
        check(fn, x);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void denseGridWhereItIsUsed(Fn fn) {
        float[] x = new float[GRID];
        double step = ((double) fn.gridHi() - fn.gridLo()) / (GRID - 1);
        for (int i = 0; i < GRID; i++) {
            x[i] = (float) (fn.gridLo() + i * step);
        }
        check(fn, x);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void edgesAndTheirNeighbours(Fn fn) {
        float[] edges = fn.edges();
        float[] x = new float[edges.length * 7 * 2];
        int k = 0;
        for (float e : edges) {
            for (int d = -3; d <= 3; d++) {
                float v = Float.intBitsToFloat(Float.floatToIntBits(e) + d);
                x[k++] = v;
                x[k++] = -v;
            }
        }
        check(fn, x);
    }

    /**
     * Zeros, infinities, NaN (also with a payload or the sign bit), the extreme finite values and subnormals:
     * within the ulp bound, and exactly Math's result where that is a zero, an infinity, NaN, +-1 or the
     * argument itself (expm1, log1p and tanh of a subnormal).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void specialValues(Fn fn) {
        float[] x = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Float.intBitsToFloat(0x7fc12345), Float.intBitsToFloat(0xffc00000), Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.MIN_VALUE, -Float.MIN_VALUE, 3 * Float.MIN_VALUE, -3 * Float.MIN_VALUE, 0x1p-130f, -0x1p-130f,
            Float.MIN_NORMAL, -Float.MIN_NORMAL, 1f, -1f, 1e30f, -1e30f};
        check(fn, x);
        float[] got = apply(fn.vector(), x);
        for (int i = 0; i < x.length; i++) {
            float want = (float) fn.reference().applyAsDouble(x[i]);
            if (want == 0f || Float.isInfinite(want) || Float.isNaN(want) || Math.abs(want) == 1f || want == x[i]) {
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]),
                        fn + "(" + x[i] + ") = " + got[i] + ", Math gives " + want);
            }
        }
    }
}
