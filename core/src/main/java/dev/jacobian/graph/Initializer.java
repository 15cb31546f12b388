package dev.jacobian.graph;

import java.util.SplittableRandom;

/**
 * How a parameter's initial values are drawn. Every random draw comes from the {@link SplittableRandom}
 * the executor passes in (seeded), so the same seed gives the same weights.
 *
 * <p>{@code fanIn}/{@code fanOut} are the weight matrix's rows/columns ({@code W: [in, out]}).
 */
@FunctionalInterface
public interface Initializer {
    /**
     * Fills every element of {@code out} (the parameter, flat row-major), drawing only from {@code random}.
     * The executor passes the rows and columns of a parameter's matrix view as {@code fanIn} and {@code fanOut}
     * ({@code fanIn} 1 for a rank-1 parameter), and 1 and 1 for a buffer.
     */
    void fill(float[] out, int fanIn, int fanOut, SplittableRandom random);

    /** All zeros (biases). */
    static Initializer zeros() {
        return constant(0f);
    }

    /** Every element {@code value} (e.g. PReLU slopes at 0.25). */
    static Initializer constant(float value) {
        return (out, fanIn, fanOut, r) -> java.util.Arrays.fill(out, value);
    }

    /** Glorot &amp; Bengio 2010: {@code U(-a, a)}, {@code a = sqrt(6 / (fanIn + fanOut))}. */
    static Initializer xavierUniform() {
        return (out, fanIn, fanOut, r) -> {
            double a = Math.sqrt(6.0 / (fanIn + fanOut));
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((2 * r.nextDouble() - 1) * a);
            }
        };
    }

    /** Glorot &amp; Bengio 2010: {@code N(0, 2 / (fanIn + fanOut))}. */
    static Initializer xavierNormal() {
        return (out, fanIn, fanOut, r) -> gaussian(out, Math.sqrt(2.0 / (fanIn + fanOut)), r);
    }

    /** He et al. 2015 (for ReLU-family units): {@code N(0, 2 / fanIn)}. */
    static Initializer heNormal() {
        return (out, fanIn, fanOut, r) -> gaussian(out, Math.sqrt(2.0 / fanIn), r);
    }

    /** He et al. 2015, uniform form: {@code U(-a, a)}, {@code a = sqrt(6 / fanIn)}. */
    static Initializer heUniform() {
        return (out, fanIn, fanOut, r) -> {
            double a = Math.sqrt(6.0 / fanIn);
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((2 * r.nextDouble() - 1) * a);
            }
        };
    }

    /** {@code N(0, std^2)}. */
    static Initializer normal(double std) {
        return (out, fanIn, fanOut, r) -> gaussian(out, std, r);
    }

    private static void gaussian(float[] out, double std, SplittableRandom r) {
        // Box–Muller on the seeded stream: identical on every JDK (nextGaussian's algorithm is not specified).
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double rad = Math.sqrt(-2.0 * Math.log(u1));
            out[i] = (float) (std * rad * Math.cos(2 * Math.PI * u2));
            if (i + 1 < out.length) {
                out[i + 1] = (float) (std * rad * Math.sin(2 * Math.PI * u2));
            }
        }
    }
}
