package dev.jacobian.cpu;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of {@link CpuElementwise}'s kernels. Every loop reads {@code loopBound} → vector
 * body → scalar tail, and the tail uses the same scalar definitions as the scalar twin. Every array comes
 * with the offset of its tensor's first element. Transcendentals come from {@link VectorMath}, never from
 * {@code lanewise(EXP)} and the like, so that cold and warm JVMs give the same bits. Loaded only when the
 * Vector API is available.
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

    static void axpby(float alpha, float[] x, int xo, float beta, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        if (beta == 0f) {
            for (; i < bound; i += L) {
                load(x, xo + i).mul(alpha).intoArray(y, yo + i);
            }
        } else {
            for (; i < bound; i += L) {
                load(y, yo + i).mul(beta).add(load(x, xo + i).mul(alpha)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) {
            y[yo + i] = beta == 0f ? alpha * x[xo + i] : alpha * x[xo + i] + beta * y[yo + i];
        }
    }

    /** {@code y = op(x; p, q)}; y may alias x. */
    static void unary(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += L) {
            unary(op, p, q, load(x, xo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = op.apply(x[xo + i], p, q);
        }
    }

    /** One vector of {@link #unary}: the switch is per vector of lanes, predictable within a call. */
    private static FloatVector unary(UnaryOp op, float p, float q, FloatVector v) {
        return switch (op) {
            case NEG -> v.neg();
            case EXP -> VectorMath.exp(v);
            case LOG -> VectorMath.log(v);
            case SQRT -> v.sqrt();
            case RECIPROCAL -> FloatVector.broadcast(S, 1f).div(v);
            case SQUARE -> v.mul(v);
            case ABS -> v.abs();
            // Math.signum: +-1 off zero, the argument itself at +-0 and NaN
            case SIGN -> v.blend(FloatVector.broadcast(S, 1f), v.compare(GT, 0f))
                    .blend(FloatVector.broadcast(S, -1f), v.compare(LT, 0f));
            case ADD_SCALAR -> v.add(p);
            case MUL_SCALAR -> v.mul(p);
            // max and min propagate NaN, as the scalar definition keeps it
            case CLAMP -> v.max(p).min(q);
            case TANH -> VectorMath.tanh(v);
            case SIGMOID -> VectorMath.sigmoid(v);
            case FINITE_OR_ZERO -> v.blend(0f, v.test(VectorOperators.IS_FINITE).not());
            // a NaN lane compares false, so it gives 0 as the scalar definition does
            case STEP -> FloatVector.zero(S).blend(q, v.compare(GE, p));
        };
    }

    private static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case MAX -> a.max(b);
        };
    }

    static void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] c, int co, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < bound; i += L) {
                    load(a, ao + i).add(load(b, bo + i)).intoArray(c, co + i);
                }
            }
            case SUB -> {
                for (; i < bound; i += L) {
                    load(a, ao + i).sub(load(b, bo + i)).intoArray(c, co + i);
                }
            }
            case MUL -> {
                for (; i < bound; i += L) {
                    load(a, ao + i).mul(load(b, bo + i)).intoArray(c, co + i);
                }
            }
            case MAX -> {
                for (; i < bound; i += L) {
                    load(a, ao + i).max(load(b, bo + i)).intoArray(c, co + i);
                }
            }
        }
        for (; i < n; i++) {
            c[co + i] = op.apply(a[ao + i], b[bo + i]);
        }
    }

    /** {@code c[i] = a[i] op s}. */
    static void binaryScalarRight(BinaryOp op, float[] a, int ao, float s, float[] c, int co, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(S, s);
        for (; i < bound; i += L) {
            apply(op, load(a, ao + i), sv).intoArray(c, co + i);
        }
        for (; i < n; i++) {
            c[co + i] = op.apply(a[ao + i], s);
        }
    }

    /** {@code c[i] = s op b[i]}. */
    static void binaryScalarLeft(BinaryOp op, float s, float[] b, int bo, float[] c, int co, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(S, s);
        for (; i < bound; i += L) {
            apply(op, sv, load(b, bo + i)).intoArray(c, co + i);
        }
        for (; i < n; i++) {
            c[co + i] = op.apply(s, b[bo + i]);
        }
    }

    static void binaryBackward(BinaryOp op, int operand, float[] a, int ao, float[] b, int bo, float[] dc, int dco,
                               float[] grad, int go, int n, boolean acc) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        for (; i < bound; i += L) {
            FloatVector g = load(dc, dco + i);
            FloatVector v = switch (op) {
                case ADD -> g;
                case SUB -> operand == 0 ? g : g.neg();
                case MUL -> g.mul(operand == 0 ? load(b, bo + i) : load(a, ao + i));
                case MAX -> {
                    VectorMask<Float> aWins = load(a, ao + i).compare(GE, load(b, bo + i));
                    yield operand == 0 ? zero.blend(g, aWins) : g.blend(zero, aWins);
                }
            };
            put(v, grad, go + i, acc);
        }
        for (; i < n; i++) {
            grad[go + i] = CpuElementwise.store(grad[go + i],
                    op.gradient(operand, a[ao + i], b[bo + i], dc[dco + i]), acc);
        }
    }

    /** Operand lane values at {@code i} of a run: loaded when {@code step == 1}, else the broadcast {@code fixed}. */
    private static FloatVector at(float[] x, int xo, int step, FloatVector fixed, int i) {
        return step == 0 ? fixed : load(x, xo + i);
    }

    /** See {@link CpuElementwise#binaryBackwardRun}. */
    static void binaryBackwardRun(BinaryOp op, int operand, float[] a, int ao, int aStep, float[] b, int bo,
                                  int bStep, float[] dc, int dco, float[] grad, int go, int gStep, int n,
                                  boolean acc) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        FloatVector aFixed = FloatVector.broadcast(S, a[ao]);
        FloatVector bFixed = FloatVector.broadcast(S, b[bo]);
        FloatVector sum = zero;
        for (; i < bound; i += L) {
            FloatVector g = load(dc, dco + i);
            FloatVector v = switch (op) {
                case ADD -> g;
                case SUB -> operand == 0 ? g : g.neg();
                case MUL -> g.mul(operand == 0 ? at(b, bo, bStep, bFixed, i) : at(a, ao, aStep, aFixed, i));
                case MAX -> {
                    VectorMask<Float> aWins = at(a, ao, aStep, aFixed, i).compare(GE, at(b, bo, bStep, bFixed, i));
                    yield operand == 0 ? zero.blend(g, aWins) : g.blend(zero, aWins);
                }
            };
            if (gStep == 0) {
                sum = sum.add(v);
            } else {
                put(v, grad, go + i, acc);
            }
        }
        if (gStep == 0) {
            float s = Simd.sumLanes(sum);
            for (; i < n; i++) {
                s += op.gradient(operand, a[ao + i * aStep], b[bo + i * bStep], dc[dco + i]);
            }
            grad[go] += s;
            return;
        }
        for (; i < n; i++) {
            float v = op.gradient(operand, a[ao + i * aStep], b[bo + i * bStep], dc[dco + i]);
            grad[go + i] = CpuElementwise.store(grad[go + i], v, acc);
        }
    }

    /** {@code y[i] += x[i]}. */
    static void addInto(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += L) {
            load(y, yo + i).add(load(x, xo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += x[xo + i];
        }
    }

    /** {@code y[yo, yo+n) = f(x[xo, xo+n))}; y may alias x. */
    static void activation(Activation f, float param, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        switch (f) {
            case IDENTITY -> {
                if (x != y || xo != yo) {
                    System.arraycopy(x, xo, y, yo, n);
                }
                return;
            }
            case RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, xo + i);
                    zero.blend(v, v.compare(GT, 0f)).intoArray(y, yo + i);
                }
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, xo + i);
                    v.mul(param).blend(v, v.compare(GT, 0f)).intoArray(y, yo + i);
                }
            }
            case ELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = load(x, xo + i);
                    VectorMath.expm1(v).mul(param).blend(v, v.compare(GT, 0f)).intoArray(y, yo + i);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    VectorMath.sigmoid(load(x, xo + i)).intoArray(y, yo + i);
                }
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    VectorMath.tanh(load(x, xo + i)).intoArray(y, yo + i);
                }
            }
        }
        for (; i < n; i++) {
            y[yo + i] = f.apply(x[xo + i], param);
        }
    }

    /** Floats of a block of rows that {@link #biasActivation} adds the bias to before activating it (in L1). */
    private static final int EPILOGUE_BLOCK = 4096;

    /**
     * The dense layer's epilogue {@code y[i,j] = f(x[i,j] + bias[j])}, a block of rows at a time (about
     * 16 KB), so that the activation reads the block back from L1 rather than memory; y may alias x.
     */
    static void biasActivation(float[] x, int xo, float[] bias, int bo, Activation f, float param, float[] y, int yo,
                               int m, int n) {
        int bound = S.loopBound(n);
        int block = Math.max(1, EPILOGUE_BLOCK / n);
        for (int r0 = 0; r0 < m; r0 += block) {
            int r1 = Math.min(m, r0 + block);
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * n;
                int yr = yo + r * n;
                int j = 0;
                for (; j < bound; j += L) {
                    load(x, xr + j).add(load(bias, bo + j)).intoArray(y, yr + j);
                }
                for (; j < n; j++) {
                    y[yr + j] = x[xr + j] + bias[bo + j];
                }
            }
            int start = yo + r0 * n;
            activation(f, param, y, start, y, start, (r1 - r0) * n);
        }
    }

    static void activationBackward(Activation f, float param, float[] x, int xo, float[] y, int yo, float[] dy,
                                   int dyo, float[] dx, int dxo, int n, boolean acc) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        switch (f) {
            case IDENTITY -> {
                for (; i < bound; i += L) {
                    put(load(dy, dyo + i), dx, dxo + i, acc);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    FloatVector s = load(y, yo + i);
                    put(load(dy, dyo + i).mul(s.mul(one.sub(s))), dx, dxo + i, acc);
                }
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    FloatVector t = load(y, yo + i);
                    put(load(dy, dyo + i).mul(one.sub(t.mul(t))), dx, dxo + i, acc);
                }
            }
            case RELU -> {
                for (; i < bound; i += L) {
                    put(zero.blend(load(dy, dyo + i), load(x, xo + i).compare(GT, 0f)), dx, dxo + i, acc);
                }
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector g = load(dy, dyo + i);
                    put(g.mul(param).blend(g, load(x, xo + i).compare(GT, 0f)), dx, dxo + i, acc);
                }
            }
            case ELU -> {
                for (; i < bound; i += L) {
                    FloatVector g = load(dy, dyo + i);
                    put(g.mul(load(y, yo + i).add(param)).blend(g, load(x, xo + i).compare(GT, 0f)), dx, dxo + i,
                            acc);
                }
            }
        }
        for (; i < n; i++) {
            dx[dxo + i] = CpuElementwise.store(dx[dxo + i], dy[dyo + i] * f.derivative(x[xo + i], y[yo + i], param),
                    acc);
        }
    }

    static void addRowVector(float[] x, int xo, float[] bias, int bo, float[] y, int yo, int m, int n) {
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int xr = xo + r * n;
            int yr = yo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                load(x, xr + j).add(load(bias, bo + j)).intoArray(y, yr + j);
            }
            for (; j < n; j++) {
                y[yr + j] = x[xr + j] + bias[bo + j];
            }
        }
    }

    static void prelu(float[] x, int xo, float[] slope, int so, float[] y, int yo, int m, int n) {
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int xr = xo + r * n;
            int yr = yo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, xr + j);
                v.mul(load(slope, so + j)).blend(v, v.compare(GT, 0f)).intoArray(y, yr + j);
            }
            for (; j < n; j++) {
                float v = x[xr + j];
                y[yr + j] = v > 0f ? v : slope[so + j] * v;
            }
        }
    }

    /**
     * PReLU backward: {@code dx} (may be null) and the per-column slope gradient added into {@code sum[0, n)}
     * (may be null; the caller zeroes it and stores it into {@code dslope}).
     */
    static void preluBackward(float[] x, int xo, float[] slope, int so, float[] dy, int dyo, float[] dx, int dxo,
                              boolean accDx, float[] sum, int m, int n) {
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        for (int r = 0; r < m; r++) {
            int row = r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, xo + row + j);
                FloatVector g = load(dy, dyo + row + j);
                VectorMask<Float> pos = v.compare(GT, 0f);
                if (dx != null) {
                    put(g.mul(load(slope, so + j)).blend(g, pos), dx, dxo + row + j, accDx);
                }
                if (sum != null) {
                    load(sum, j).add(g.mul(v).blend(zero, pos)).intoArray(sum, j);
                }
            }
            for (; j < n; j++) {
                float v = x[xo + row + j];
                float g = dy[dyo + row + j];
                if (dx != null) {
                    dx[dxo + row + j] = CpuElementwise.store(dx[dxo + row + j], v > 0f ? g : g * slope[so + j], accDx);
                }
                if (sum != null) {
                    sum[j] += v > 0f ? 0f : g * v;
                }
            }
        }
    }
}
