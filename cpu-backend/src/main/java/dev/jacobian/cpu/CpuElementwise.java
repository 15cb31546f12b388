package dev.jacobian.cpu;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.BinaryOp;

/**
 * Elementwise kernels on flat float arrays (fill/copy/axpby, binary ops, activations, row-vector bias,
 * PReLU, maxout) and their backwards. Each method dispatches to {@link ElementwiseVector} when the
 * vector kernels are on; the code here is the scalar twin, written with the same scalar definitions the
 * reference uses ({@link Activation#apply}, {@link BinaryOp#gradient}, ...).
 *
 * <p>Lengths are element counts; arrays may be longer than the tensors they hold. {@code acc} means
 * {@code out += result}, otherwise {@code out = result}.
 */
final class CpuElementwise {
    private final boolean vector;

    CpuElementwise(boolean vector) {
        this.vector = vector;
    }

    static float store(float old, float v, boolean acc) {
        return acc ? old + v : v;
    }

    /** {@code y = alpha x + beta y} ({@code beta == 0}: y is not read). */
    void axpby(float alpha, float[] x, float beta, float[] y, int n) {
        if (vector) {
            ElementwiseVector.axpby(alpha, x, beta, y, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[i] = beta == 0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
        }
    }

    /** {@code c = a op b}; c may alias a or b. */
    void binary(BinaryOp op, float[] a, float[] b, float[] c, int n) {
        if (vector) {
            ElementwiseVector.binary(op, a, b, c, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            c[i] = op.apply(a[i], b[i]);
        }
    }

    /** {@code grad (+)= dc * d(a op b)/d(operand)}. */
    void binaryBackward(BinaryOp op, int operand, float[] a, float[] b, float[] dc, float[] grad, int n, boolean acc) {
        if (vector) {
            ElementwiseVector.binaryBackward(op, operand, a, b, dc, grad, n, acc);
            return;
        }
        for (int i = 0; i < n; i++) {
            grad[i] = store(grad[i], op.gradient(operand, a[i], b[i], dc[i]), acc);
        }
    }

    /** {@code y = f(x)}; y may alias x. */
    void activation(Activation f, float param, float[] x, float[] y, int n) {
        if (vector) {
            ElementwiseVector.activation(f, param, x, y, 0, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[i] = f.apply(x[i], param);
        }
    }

    /** {@code dx (+)= dy * f'(x, y)}. */
    void activationBackward(Activation f, float param, float[] x, float[] y, float[] dy, float[] dx, int n,
                            boolean acc) {
        if (vector) {
            ElementwiseVector.activationBackward(f, param, x, y, dy, dx, n, acc);
            return;
        }
        for (int i = 0; i < n; i++) {
            dx[i] = store(dx[i], dy[i] * f.derivative(x[i], y[i], param), acc);
        }
    }

    /** {@code y[i, j] = f(x[i, j] + bias[j])} on {@code [m, n]}; y may alias x. */
    void biasActivation(float[] x, float[] bias, Activation f, float param, float[] y, int m, int n) {
        if (vector) {
            ElementwiseVector.biasActivation(x, bias, f, param, y, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                y[row + j] = f.apply(x[row + j] + bias[j], param);
            }
        }
    }

    /** {@code y[i, j] = x[i, j] + bias[j]} on {@code [m, n]}; y may alias x. */
    void addRowVector(float[] x, float[] bias, float[] y, int m, int n) {
        if (vector) {
            ElementwiseVector.addRowVector(x, bias, y, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                y[row + j] = x[row + j] + bias[j];
            }
        }
    }

    /** {@code y = x > 0 ? x : slope[j] x} on {@code [m, n]}. */
    void prelu(float[] x, float[] slope, float[] y, int m, int n) {
        if (vector) {
            ElementwiseVector.prelu(x, slope, y, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                float v = x[row + j];
                y[row + j] = v > 0f ? v : slope[j] * v;
            }
        }
    }

    /** PReLU backward; either output may be null. */
    void preluBackward(float[] x, float[] slope, float[] dy, float[] dx, boolean accDx, float[] dslope,
                       boolean accDslope, int m, int n) {
        if (vector) {
            ElementwiseVector.preluBackward(x, slope, dy, dx, accDx, dslope, accDslope, m, n);
            return;
        }
        if (dx != null) {
            for (int i = 0; i < m; i++) {
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    float g = dy[row + j];
                    dx[row + j] = store(dx[row + j], x[row + j] > 0f ? g : g * slope[j], accDx);
                }
            }
        }
        if (dslope != null) {
            float[] sum = new float[n];
            for (int i = 0; i < m; i++) {
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    float v = x[row + j];
                    sum[j] += v > 0f ? 0f : dy[row + j] * v;
                }
            }
            for (int j = 0; j < n; j++) {
                dslope[j] = store(dslope[j], sum[j], accDslope);
            }
        }
    }

    /**
     * Maxout over groups of {@code pieces} adjacent columns: {@code z [m, n*pieces] -> y [m, n]}. Scalar in
     * both modes: the groups are strided, and a gather would cost more than it saves.
     */
    static void maxout(int pieces, float[] z, float[] y, int m, int n) {
        int zc = n * pieces;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int base = i * zc + j * pieces;
                float best = z[base];
                for (int p = 1; p < pieces; p++) {
                    best = Math.max(best, z[base + p]);
                }
                y[i * n + j] = best;
            }
        }
    }

    /** Maxout backward: {@code dz (+)= dy} at the first maximal piece, 0 elsewhere (scalar, like {@link #maxout}). */
    static void maxoutBackward(int pieces, float[] z, float[] dy, float[] dz, int m, int n, boolean acc) {
        int zc = n * pieces;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int base = i * zc + j * pieces;
                int arg = 0;
                for (int p = 1; p < pieces; p++) {
                    if (z[base + p] > z[base + arg]) {
                        arg = p;
                    }
                }
                float g = dy[i * n + j];
                for (int p = 0; p < pieces; p++) {
                    dz[base + p] = store(dz[base + p], p == arg ? g : 0f, acc);
                }
            }
        }
    }
}
