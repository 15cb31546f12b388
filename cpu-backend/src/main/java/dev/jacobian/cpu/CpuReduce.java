package dev.jacobian.cpu;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;

/**
 * Reductions along an axis, softmax and the per-sample losses, forward and backward, on row-major
 * {@code [m, n]} float arrays. Dispatches to {@link ReduceVector} when the vector kernels are on; the
 * code here is the scalar twin (sums accumulated in double, like the reference).
 *
 * <p>{@code MAX} and {@code ARGMAX} pick the first maximal element ({@code v > best}, the first element
 * seeds {@code best}); the backward of {@code MAX} routes the gradient to that element.
 */
final class CpuReduce {
    private final boolean vector;

    CpuReduce(boolean vector) {
        this.vector = vector;
    }

    /** Number of reduction groups and their length for {@code axis} over {@code [m, n]}. */
    static int groups(Axis axis, int m, int n) {
        return axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
    }

    static int length(Axis axis, int m, int n) {
        return axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
    }

    /** Flat index of element {@code t} of group {@code g}. */
    static int index(Axis axis, int n, int g, int t) {
        return switch (axis) {
            case ROWS -> t * n + g;
            case COLS -> g * n + t;
            case ALL -> t;
        };
    }

    /** {@code y (+)= reduce(x)} along {@code axis}. */
    void reduce(Reduction op, Axis axis, float[] x, float[] y, int m, int n, boolean acc) {
        if (vector) {
            ReduceVector.reduce(op, axis, x, y, m, n, acc);
            return;
        }
        int groups = groups(axis, m, n);
        int len = length(axis, m, n);
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            float best = x[index(axis, n, g, 0)];
            int arg = 0;
            for (int t = 0; t < len; t++) {
                float v = x[index(axis, n, g, t)];
                sum += op == Reduction.SUM_SQUARES ? (double) v * v : v;
                if (v > best) {
                    best = v;
                    arg = t;
                }
            }
            float r = switch (op) {
                case SUM, SUM_SQUARES -> (float) sum;
                case MEAN -> (float) (sum / len);
                case MAX -> best;
                case ARGMAX -> arg;
            };
            y[g] = CpuElementwise.store(y[g], r, acc);
        }
    }

    /** Index (within its group) of the first maximum of every group, into {@code arg[0..groups)}. */
    void argmax(Axis axis, float[] x, int m, int n, int[] arg) {
        int groups = groups(axis, m, n);
        int len = length(axis, m, n);
        for (int g = 0; g < groups; g++) {
            float best = x[index(axis, n, g, 0)];
            int a = 0;
            for (int t = 1; t < len; t++) {
                float v = x[index(axis, n, g, t)];
                if (v > best) {
                    best = v;
                    a = t;
                }
            }
            arg[g] = a;
        }
    }

    /** {@code dx (+)= dy} broadcast back through the local gradient of {@code op}. */
    void reduceBackward(Reduction op, Axis axis, float[] x, float[] dy, float[] dx, int m, int n, boolean acc) {
        int groups = groups(axis, m, n);
        int len = length(axis, m, n);
        if (op == Reduction.MAX) {
            int[] arg = new int[groups];
            argmax(axis, x, m, n, arg);
            for (int g = 0; g < groups; g++) {
                for (int t = 0; t < len; t++) {
                    int idx = index(axis, n, g, t);
                    dx[idx] = CpuElementwise.store(dx[idx], t == arg[g] ? dy[g] : 0f, acc);
                }
            }
            return;
        }
        if (vector) {
            ReduceVector.reduceBackward(op, axis, x, dy, dx, m, n, acc);
            return;
        }
        for (int g = 0; g < groups; g++) {
            float scale = op == Reduction.MEAN ? dy[g] / len : dy[g];
            for (int t = 0; t < len; t++) {
                int idx = index(axis, n, g, t);
                float v = op == Reduction.SUM_SQUARES ? 2f * x[idx] * scale : scale;
                dx[idx] = CpuElementwise.store(dx[idx], v, acc);
            }
        }
    }

    /** Row-wise softmax of {@code [m, n]}; y may alias x. */
    void softmax(float[] x, float[] y, int m, int n) {
        if (vector) {
            ReduceVector.softmax(x, y, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, x[row + j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(x[row + j] - max);
                y[row + j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < n; j++) {
                y[row + j] *= inv;
            }
        }
    }

    /** {@code dx (+)= y * (dy - sum_j dy_j y_j)} per row. */
    void softmaxBackward(float[] y, float[] dy, float[] dx, int m, int n, boolean acc) {
        if (vector) {
            ReduceVector.softmaxBackward(y, dy, dx, m, n, acc);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += (double) dy[row + j] * y[row + j];
            }
            float d = (float) dot;
            for (int j = 0; j < n; j++) {
                dx[row + j] = CpuElementwise.store(dx[row + j], y[row + j] * (dy[row + j] - d), acc);
            }
        }
    }

    /** Per-sample loss {@code out[i] = L(p_i, t_i)} over {@code p: [m, c]}. */
    void rowLoss(LossKind kind, float[] p, float[] t, float[] out, int m, int c) {
        if (vector) {
            ReduceVector.rowLoss(kind, p, t, out, m, c);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * c;
            double loss = 0;
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    float max = rowMax(p, row, c);
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(p[row + j] - max);
                    }
                    loss = Math.log(sum) + max - p[row + y];
                }
                case SVM_HINGE -> {
                    int y = (int) t[i];
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            loss += Math.max(0f, p[row + j] - p[row + y] + 1f);
                        }
                    }
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        float d = p[row + j] - t[row + j];
                        loss += d * d;
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        float x = p[row + j];
                        loss += Math.max(x, 0f) - x * t[row + j] + Math.log1p(Math.exp(-Math.abs(x)));
                    }
                }
            }
            out[i] = (float) loss;
        }
    }

    static float rowMax(float[] p, int row, int c) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, p[row + j]);
        }
        return max;
    }

    /** {@code dp (+)= dout_i * dL_i/dp_i}. */
    void rowLossBackward(LossKind kind, float[] p, float[] t, float[] dout, float[] dp, int m, int c, boolean acc) {
        if (vector) {
            ReduceVector.rowLossBackward(kind, p, t, dout, dp, m, c, acc);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * c;
            float g = dout[i];
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    float max = rowMax(p, row, c);
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(p[row + j] - max);
                    }
                    for (int j = 0; j < c; j++) {
                        double prob = Math.exp(p[row + j] - max) / sum;
                        float v = (float) (g * (prob - (j == y ? 1.0 : 0.0)));
                        dp[row + j] = CpuElementwise.store(dp[row + j], v, acc);
                    }
                }
                case SVM_HINGE -> {
                    int y = (int) t[i];
                    int positive = 0;
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            boolean active = p[row + j] - p[row + y] + 1f > 0f;
                            positive += active ? 1 : 0;
                            dp[row + j] = CpuElementwise.store(dp[row + j], active ? g : 0f, acc);
                        }
                    }
                    dp[row + y] = CpuElementwise.store(dp[row + y], -g * positive, acc);
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        dp[row + j] = CpuElementwise.store(dp[row + j], 2f * (p[row + j] - t[row + j]) * g, acc);
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        float s = (float) (1.0 / (1.0 + Math.exp(-p[row + j])));
                        dp[row + j] = CpuElementwise.store(dp[row + j], (s - t[row + j]) * g, acc);
                    }
                }
            }
        }
    }
}
