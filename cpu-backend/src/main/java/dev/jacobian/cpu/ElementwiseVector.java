package dev.jacobian.cpu;

import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.EXPM1;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.TANH;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.BinaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of {@link CpuElementwise}'s kernels. Every loop reads {@code loopBound} → vector
 * body → scalar tail, and the tail uses the same scalar definitions as the scalar twin. Loaded only
 * when the Vector API is available.
 */
final class ElementwiseVector {
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;

    private ElementwiseVector() {
    }

    private static FloatVector load(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }

    /** {@code out[i] = acc ? out[i] + v : v} for one vector. */
    private static void put(FloatVector v, float[] out, int i, boolean acc) {
        (acc ? load(out, i).add(v) : v).intoArray(out, i);
    }

    static void axpby(float alpha, float[] x, float beta, float[] y, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        if (beta == 0f) {
            for (; i < bound; i += L) {
                load(x, i).mul(alpha).intoArray(y, i);
            }
        } else {
            for (; i < bound; i += L) {
                load(y, i).mul(beta).add(load(x, i).mul(alpha)).intoArray(y, i);
            }
        }
        for (; i < n; i++) {
            y[i] = beta == 0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
        }
    }

    static void binary(BinaryOp op, float[] a, float[] b, float[] c, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < bound; i += L) {
                    load(a, i).add(load(b, i)).intoArray(c, i);
                }
            }
            case SUB -> {
                for (; i < bound; i += L) {
                    load(a, i).sub(load(b, i)).intoArray(c, i);
                }
            }
            case MUL -> {
                for (; i < bound; i += L) {
                    load(a, i).mul(load(b, i)).intoArray(c, i);
                }
            }
            case MAX -> {
                for (; i < bound; i += L) {
                    load(a, i).max(load(b, i)).intoArray(c, i);
                }
            }
        }
        for (; i < n; i++) {
            c[i] = op.apply(a[i], b[i]);
        }
    }

    static void binaryBackward(BinaryOp op, int operand, float[] a, float[] b, float[] dc, float[] grad, int n,
                               boolean acc) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        for (; i < bound; i += L) {
            FloatVector g = load(dc, i);
            FloatVector v = switch (op) {
                case ADD -> g;
                case SUB -> operand == 0 ? g : g.neg();
                case MUL -> g.mul(load(operand == 0 ? b : a, i));
                case MAX -> {
                    VectorMask<Float> aWins = load(a, i).compare(GE, load(b, i));
                    yield operand == 0 ? zero.blend(g, aWins) : g.blend(zero, aWins);
                }
            };
            put(v, grad, i, acc);
        }
        for (; i < n; i++) {
            grad[i] = CpuElementwise.store(grad[i], op.gradient(operand, a[i], b[i], dc[i]), acc);
        }
    }

    /** {@code y[off, off+n) = f(x[off, off+n))}; y may alias x. */
    static void activation(Activation f, float param, float[] x, float[] y, int off, int n) {
        int i = off;
        int bound = off + S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        switch (f) {
            case IDENTITY -> {
                if (x != y) {
                    System.arraycopy(x, off, y, off, n);
                }
                return;
            }
            case RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, i);
                    zero.blend(v, v.compare(GT, 0f)).intoArray(y, i);
                }
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, i);
                    v.mul(param).blend(v, v.compare(GT, 0f)).intoArray(y, i);
                }
            }
            case ELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, i);
                    v.lanewise(EXPM1).mul(param).blend(v, v.compare(GT, 0f)).intoArray(y, i);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    one.div(load(x, i).neg().lanewise(EXP).add(one)).intoArray(y, i);
                }
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    load(x, i).lanewise(TANH).intoArray(y, i);
                }
            }
        }
        for (; i < off + n; i++) {
            y[i] = f.apply(x[i], param);
        }
    }

    /** Floats of a block of rows that {@link #biasActivation} adds the bias to before activating it (in L1). */
    private static final int EPILOGUE_BLOCK = 4096;

    /**
     * The dense layer's epilogue {@code y[i,j] = f(x[i,j] + bias[j])}, a block of rows at a time (about
     * 16 KB), so that the activation reads the block back from L1 rather than memory; y may alias x.
     */
    static void biasActivation(float[] x, float[] bias, Activation f, float param, float[] y, int m, int n) {
        int bound = S.loopBound(n);
        int block = Math.max(1, EPILOGUE_BLOCK / n);
        for (int r0 = 0; r0 < m; r0 += block) {
            int r1 = Math.min(m, r0 + block);
            for (int r = r0; r < r1; r++) {
                int row = r * n;
                int j = 0;
                for (; j < bound; j += L) {
                    load(x, row + j).add(load(bias, j)).intoArray(y, row + j);
                }
                for (; j < n; j++) {
                    y[row + j] = x[row + j] + bias[j];
                }
            }
            activation(f, param, y, y, r0 * n, (r1 - r0) * n);
        }
    }

    static void activationBackward(Activation f, float param, float[] x, float[] y, float[] dy, float[] dx, int n,
                                   boolean acc) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        switch (f) {
            case IDENTITY -> {
                for (; i < bound; i += L) {
                    put(load(dy, i), dx, i, acc);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    FloatVector s = load(y, i);
                    put(load(dy, i).mul(s.mul(one.sub(s))), dx, i, acc);
                }
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    FloatVector t = load(y, i);
                    put(load(dy, i).mul(one.sub(t.mul(t))), dx, i, acc);
                }
            }
            case RELU -> {
                for (; i < bound; i += L) {
                    put(zero.blend(load(dy, i), load(x, i).compare(GT, 0f)), dx, i, acc);
                }
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector g = load(dy, i);
                    put(g.mul(param).blend(g, load(x, i).compare(GT, 0f)), dx, i, acc);
                }
            }
            case ELU -> {
                for (; i < bound; i += L) {
                    FloatVector g = load(dy, i);
                    put(g.mul(load(y, i).add(param)).blend(g, load(x, i).compare(GT, 0f)), dx, i, acc);
                }
            }
        }
        for (; i < n; i++) {
            dx[i] = CpuElementwise.store(dx[i], dy[i] * f.derivative(x[i], y[i], param), acc);
        }
    }

    static void addRowVector(float[] x, float[] bias, float[] y, int m, int n) {
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int row = r * n;
            int j = 0;
            for (; j < bound; j += L) {
                load(x, row + j).add(load(bias, j)).intoArray(y, row + j);
            }
            for (; j < n; j++) {
                y[row + j] = x[row + j] + bias[j];
            }
        }
    }

    static void prelu(float[] x, float[] slope, float[] y, int m, int n) {
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int row = r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, row + j);
                v.mul(load(slope, j)).blend(v, v.compare(GT, 0f)).intoArray(y, row + j);
            }
            for (; j < n; j++) {
                float v = x[row + j];
                y[row + j] = v > 0f ? v : slope[j] * v;
            }
        }
    }

    static void preluBackward(float[] x, float[] slope, float[] dy, float[] dx, boolean accDx, float[] dslope,
                              boolean accDslope, int m, int n) {
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        float[] sum = dslope == null ? null : new float[n];
        for (int r = 0; r < m; r++) {
            int row = r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, row + j);
                FloatVector g = load(dy, row + j);
                VectorMask<Float> pos = v.compare(GT, 0f);
                if (dx != null) {
                    put(g.mul(load(slope, j)).blend(g, pos), dx, row + j, accDx);
                }
                if (sum != null) {
                    load(sum, j).add(g.mul(v).blend(zero, pos)).intoArray(sum, j);
                }
            }
            for (; j < n; j++) {
                float v = x[row + j];
                float g = dy[row + j];
                if (dx != null) {
                    dx[row + j] = CpuElementwise.store(dx[row + j], v > 0f ? g : g * slope[j], accDx);
                }
                if (sum != null) {
                    sum[j] += v > 0f ? 0f : g * v;
                }
            }
        }
        if (dslope != null) {
            for (int j = 0; j < n; j++) {
                dslope[j] = CpuElementwise.store(dslope[j], sum[j], accDslope);
            }
        }
    }
}
