package dev.jacobian.cpu;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;

/**
 * Elementwise kernels on float arrays (axpby, unary and binary ops, activations, row-vector bias, PReLU,
 * maxout) and their backwards. Each method dispatches to {@link ElementwiseVector} when the vector kernels
 * are on; the code here is the scalar twin, written with the same scalar definitions the reference uses
 * ({@link Activation#apply}, {@link UnaryOp#apply}, {@link BinaryOp#gradient}, ...).
 *
 * <p>Every array comes with the offset of the tensor's first element in it ({@code xo} for {@code x}, ...):
 * a tensor may be a view into a larger array. Lengths are element counts. {@code acc} means
 * {@code out += result}, otherwise {@code out = result}.
 */
final class CpuElementwise {
    private final boolean vector;
    private final Scratch scratch = new Scratch();

    CpuElementwise(boolean vector) {
        this.vector = vector;
    }

    static float store(float old, float v, boolean acc) {
        return acc ? old + v : v;
    }

    /** {@code y = alpha x + beta y} ({@code beta == 0}: y is not read). */
    void axpby(float alpha, float[] x, int xo, float beta, float[] y, int yo, int n) {
        if (vector) {
            ElementwiseVector.axpby(alpha, x, xo, beta, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] = beta == 0f ? alpha * x[xo + i] : alpha * x[xo + i] + beta * y[yo + i];
        }
    }

    /** {@code y = op(x; p, q)}; y may alias x. */
    void unary(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo, int n) {
        if (vector) {
            ElementwiseVector.unary(op, p, q, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] = op.apply(x[xo + i], p, q);
        }
    }

    /** {@code c = a op b} elementwise over {@code n} elements; c may alias a or b. */
    void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] c, int co, int n) {
        if (vector) {
            ElementwiseVector.binary(op, a, ao, b, bo, c, co, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            c[co + i] = op.apply(a[ao + i], b[bo + i]);
        }
    }

    /** {@code c[i] = a[i] op s} over {@code n} elements (the second operand broadcast). */
    void binaryScalarRight(BinaryOp op, float[] a, int ao, float s, float[] c, int co, int n) {
        if (vector) {
            ElementwiseVector.binaryScalarRight(op, a, ao, s, c, co, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            c[co + i] = op.apply(a[ao + i], s);
        }
    }

    /** {@code c[i] = s op b[i]} over {@code n} elements (the first operand broadcast). */
    void binaryScalarLeft(BinaryOp op, float s, float[] b, int bo, float[] c, int co, int n) {
        if (vector) {
            ElementwiseVector.binaryScalarLeft(op, s, b, bo, c, co, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            c[co + i] = op.apply(s, b[bo + i]);
        }
    }

    /** {@code grad (+)= dc * d(a op b)/d(operand)} elementwise; grad may alias dc. */
    void binaryBackward(BinaryOp op, int operand, float[] a, int ao, float[] b, int bo, float[] dc, int dco,
                        float[] grad, int go, int n, boolean acc) {
        if (vector) {
            ElementwiseVector.binaryBackward(op, operand, a, ao, b, bo, dc, dco, grad, go, n, acc);
            return;
        }
        for (int i = 0; i < n; i++) {
            grad[go + i] = store(grad[go + i], op.gradient(operand, a[ao + i], b[bo + i], dc[dco + i]), acc);
        }
    }

    /**
     * One run of a broadcast binary backward: {@code v_i = dc[i] * d(a op b)/d(operand)} for {@code i < n},
     * where operand {@code a} is read at {@code a[ao + i]} when {@code aStep == 1} and at {@code a[ao]} when
     * {@code aStep == 0} (likewise {@code b}). With {@code gStep == 1}, {@code grad[go + i] (+)= v_i};
     * with {@code gStep == 0}, {@code grad[go] += sum_i v_i} (summed in a fixed order).
     */
    void binaryBackwardRun(BinaryOp op, int operand, float[] a, int ao, int aStep, float[] b, int bo, int bStep,
                           float[] dc, int dco, float[] grad, int go, int gStep, int n, boolean acc) {
        if (vector) {
            ElementwiseVector.binaryBackwardRun(op, operand, a, ao, aStep, b, bo, bStep, dc, dco, grad, go, gStep,
                    n, acc);
            return;
        }
        if (gStep == 0) {
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                sum += op.gradient(operand, a[ao + i * aStep], b[bo + i * bStep], dc[dco + i]);
            }
            grad[go] += sum;
            return;
        }
        for (int i = 0; i < n; i++) {
            float v = op.gradient(operand, a[ao + i * aStep], b[bo + i * bStep], dc[dco + i]);
            grad[go + i] = store(grad[go + i], v, acc);
        }
    }

    /** {@code y[i] += x[i]} over {@code n} elements. */
    void addInto(float[] x, int xo, float[] y, int yo, int n) {
        if (vector) {
            ElementwiseVector.addInto(x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] += x[xo + i];
        }
    }

    /** The sum of {@code x[xo, xo + n)}, in a fixed order. */
    float sum(float[] x, int xo, int n) {
        if (vector) {
            return ReduceVector.sum(x, xo, n, false);
        }
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += x[xo + i];
        }
        return s;
    }

    /** {@code y = f(x)}; y may alias x. */
    void activation(Activation f, float param, float[] x, int xo, float[] y, int yo, int n) {
        if (vector) {
            ElementwiseVector.activation(f, param, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] = f.apply(x[xo + i], param);
        }
    }

    /** {@code dx (+)= dy * f'(x, y)}. */
    void activationBackward(Activation f, float param, float[] x, int xo, float[] y, int yo, float[] dy, int dyo,
                            float[] dx, int dxo, int n, boolean acc) {
        if (vector) {
            ElementwiseVector.activationBackward(f, param, x, xo, y, yo, dy, dyo, dx, dxo, n, acc);
            return;
        }
        for (int i = 0; i < n; i++) {
            dx[dxo + i] = store(dx[dxo + i], dy[dyo + i] * f.derivative(x[xo + i], y[yo + i], param), acc);
        }
    }

    /** {@code y[i, j] = f(x[i, j] + bias[j])} on {@code [m, n]}; y may alias x. */
    void biasActivation(float[] x, int xo, float[] bias, int bo, Activation f, float param, float[] y, int yo,
                        int m, int n) {
        if (vector) {
            ElementwiseVector.biasActivation(x, xo, bias, bo, f, param, y, yo, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                y[yo + row + j] = f.apply(x[xo + row + j] + bias[bo + j], param);
            }
        }
    }

    /** {@code y[i, j] = x[i, j] + bias[j]} on {@code [m, n]}; y may alias x. */
    void addRowVector(float[] x, int xo, float[] bias, int bo, float[] y, int yo, int m, int n) {
        if (vector) {
            ElementwiseVector.addRowVector(x, xo, bias, bo, y, yo, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                y[yo + row + j] = x[xo + row + j] + bias[bo + j];
            }
        }
    }

    /** {@code y = x > 0 ? x : slope[j] x} on {@code [m, n]}. */
    void prelu(float[] x, int xo, float[] slope, int so, float[] y, int yo, int m, int n) {
        if (vector) {
            ElementwiseVector.prelu(x, xo, slope, so, y, yo, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                float v = x[xo + row + j];
                y[yo + row + j] = v > 0f ? v : slope[so + j] * v;
            }
        }
    }

    /** PReLU backward; either output may be null (its offset is then ignored). */
    void preluBackward(float[] x, int xo, float[] slope, int so, float[] dy, int dyo, float[] dx, int dxo,
                       boolean accDx, float[] dslope, int dso, boolean accDslope, int m, int n) {
        float[] sum = null;
        if (dslope != null) {
            sum = scratch.floats(n);
            java.util.Arrays.fill(sum, 0, n, 0f);
        }
        if (vector) {
            ElementwiseVector.preluBackward(x, xo, slope, so, dy, dyo, dx, dxo, accDx, sum, m, n);
        } else {
            for (int i = 0; i < m; i++) {
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    float v = x[xo + row + j];
                    float g = dy[dyo + row + j];
                    if (dx != null) {
                        dx[dxo + row + j] = store(dx[dxo + row + j], v > 0f ? g : g * slope[so + j], accDx);
                    }
                    if (sum != null) {
                        sum[j] += v > 0f ? 0f : g * v;
                    }
                }
            }
        }
        if (dslope != null) {
            for (int j = 0; j < n; j++) {
                dslope[dso + j] = store(dslope[dso + j], sum[j], accDslope);
            }
        }
    }

    /**
     * Maxout over groups of {@code pieces} adjacent columns: {@code z [m, n*pieces] -> y [m, n]}. Scalar in
     * both modes: the groups are strided, and a gather would cost more than it saves.
     */
    static void maxout(int pieces, float[] z, int zo, float[] y, int yo, int m, int n) {
        int zc = n * pieces;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int base = zo + i * zc + j * pieces;
                float best = z[base];
                for (int p = 1; p < pieces; p++) {
                    best = Math.max(best, z[base + p]);
                }
                y[yo + i * n + j] = best;
            }
        }
    }

    /** Maxout backward: {@code dz (+)= dy} at the first maximal piece, 0 elsewhere (scalar, like {@link #maxout}). */
    static void maxoutBackward(int pieces, float[] z, int zo, float[] dy, int dyo, float[] dz, int dzo, int m, int n,
                               boolean acc) {
        int zc = n * pieces;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int base = i * zc + j * pieces;
                int arg = 0;
                for (int p = 1; p < pieces; p++) {
                    if (z[zo + base + p] > z[zo + base + arg]) {
                        arg = p;
                    }
                }
                float g = dy[dyo + i * n + j];
                for (int p = 0; p < pieces; p++) {
                    int k = dzo + base + p;
                    dz[k] = store(dz[k], p == arg ? g : 0f, acc);
                }
            }
        }
    }
}
