package dev.jacobian.cpu;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;

/**
 * Reductions along an axis, softmax and the per-sample losses, forward and backward, on row-major
 * {@code [m, n]} float arrays, each given with the offset of its tensor's first element. Dispatches to
 * {@link ReduceVector} when the vector kernels are on; the code here is the scalar twin (sums accumulated
 * in double, like the reference).
 *
 * <p>{@code MAX} and {@code ARGMAX} pick the first maximal element ({@code v > best}, the first element
 * seeds {@code best}); the backward of {@code MAX} routes the gradient to that element.
 */
final class CpuReduce {
    /**
     * A whole-tensor sum of at least this many elements (a gradient arena's squared norm) is summed in fixed
     * chunks of {@link #CHUNK}, shared by the workers, the chunk sums then added in order in double: the result
     * is the same for any thread count.
     */
    static final int CHUNKED_MIN = 1 << 16;
    /** Elements per chunk of a chunked sum. */
    static final int CHUNK = 1 << 13;

    private final boolean vector;
    private final Parallel parallel;
    private final Scratch best = new Scratch();
    private final Scratch arg = new Scratch();
    private final Scratch partials = new Scratch();

    CpuReduce(boolean vector, Parallel parallel) {
        this.vector = vector;
        this.parallel = parallel;
    }

    /**
     * {@code sum x[xo..xo+len)} (of squares), chunk by chunk on every worker, the chunks added in order; where the
     * products recorded halves of {@code x} ({@link Homes}), each chunk on the thread that wrote it.
     */
    private double chunkedSum(float[] x, int xo, int len, boolean squares) {
        int chunks = (len + CHUNK - 1) / CHUNK;
        float[] part = partials.floats(chunks);
        int tasks = Math.min(parallel.threads(), chunks);
        int[][] homes = tasks > 1 ? parallel.homes.split(x, xo, len, tasks, CHUNK) : null;
        if (homes != null) { // each chunk summed by the thread that wrote most of it (a weight gradient's halves)
            parallel.runHomed(tasks, t -> {
                for (int c = 0; c < chunks; c++) {
                    int from = c * CHUNK;
                    int size = Math.min(CHUNK, len - from);
                    if (Homes.homeOf(homes, from + size / 2) == t) {
                        part[c] = ReduceVector.sum(x, xo + from, size, squares);
                    }
                }
            });
        } else {
            parallel.run(tasks, t -> {
                for (int c = chunks * t / tasks; c < chunks * (t + 1) / tasks; c++) {
                    int from = c * CHUNK;
                    part[c] = ReduceVector.sum(x, xo + from, Math.min(CHUNK, len - from), squares);
                }
            });
        }
        double sum = 0;
        for (int c = 0; c < chunks; c++) {
            sum += part[c];
        }
        return sum;
    }

    /** Number of reduction groups and their length for {@code axis} over {@code [m, n]}. */
    static int groups(Axis axis, int m, int n) {
        return axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
    }

    static int length(Axis axis, int m, int n) {
        return axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
    }

    /** Flat index (from the tensor's first element) of element {@code t} of group {@code g}. */
    static int index(Axis axis, int n, int g, int t) {
        return switch (axis) {
            case ROWS -> t * n + g;
            case COLS -> g * n + t;
            case ALL -> t;
        };
    }

    /** {@code y (+)= reduce(x)} along {@code axis}. */
    void reduce(Reduction op, Axis axis, float[] x, int xo, float[] y, int yo, int m, int n, boolean acc) {
        if (vector) {
            if (axis == Axis.ALL && (long) m * n >= CHUNKED_MIN
                    && (op == Reduction.SUM || op == Reduction.MEAN || op == Reduction.SUM_SQUARES)) {
                int len = m * n;
                double sum = chunkedSum(x, xo, len, op == Reduction.SUM_SQUARES);
                float r = (float) (op == Reduction.MEAN ? sum / len : sum);
                y[yo] = CpuElementwise.store(y[yo], r, acc);
                return;
            }
            if (axis == Axis.ROWS) {
                ReduceVector.reduceDownColumns(op, x, xo, y, yo, m, n, acc, best.floats(n),
                        op == Reduction.ARGMAX ? arg.floats(n) : null);
            } else {
                ReduceVector.reduce(op, axis, x, xo, y, yo, m, n, acc);
            }
            return;
        }
        int groups = groups(axis, m, n);
        int len = length(axis, m, n);
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            float top = x[xo + index(axis, n, g, 0)];
            int at = 0;
            for (int t = 0; t < len; t++) {
                float v = x[xo + index(axis, n, g, t)];
                sum += op == Reduction.SUM_SQUARES ? (double) v * v : v;
                if (v > top) {
                    top = v;
                    at = t;
                }
            }
            float r = switch (op) {
                case SUM, SUM_SQUARES -> (float) sum;
                case MEAN -> (float) (sum / len);
                case MAX -> top;
                case ARGMAX -> at;
            };
            y[yo + g] = CpuElementwise.store(y[yo + g], r, acc);
        }
    }

    /** Index (within its group) of the first maximum of group {@code g}. */
    static int argmax(Axis axis, float[] x, int xo, int m, int n, int g) {
        int len = length(axis, m, n);
        float top = x[xo + index(axis, n, g, 0)];
        int at = 0;
        for (int t = 1; t < len; t++) {
            float v = x[xo + index(axis, n, g, t)];
            if (v > top) {
                top = v;
                at = t;
            }
        }
        return at;
    }

    /** {@code dx (+)= dy} broadcast back through the local gradient of {@code op}. */
    void reduceBackward(Reduction op, Axis axis, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int m,
                        int n, boolean acc) {
        int groups = groups(axis, m, n);
        int len = length(axis, m, n);
        if (op == Reduction.MAX) {
            for (int g = 0; g < groups; g++) {
                int at = argmax(axis, x, xo, m, n, g);
                for (int t = 0; t < len; t++) {
                    int idx = dxo + index(axis, n, g, t);
                    dx[idx] = CpuElementwise.store(dx[idx], t == at ? dy[dyo + g] : 0f, acc);
                }
            }
            return;
        }
        if (vector) {
            ReduceVector.reduceBackward(op, axis, x, xo, dy, dyo, dx, dxo, m, n, acc);
            return;
        }
        for (int g = 0; g < groups; g++) {
            float scale = op == Reduction.MEAN ? dy[dyo + g] / len : dy[dyo + g];
            for (int t = 0; t < len; t++) {
                int idx = index(axis, n, g, t);
                float v = op == Reduction.SUM_SQUARES ? 2f * x[xo + idx] * scale : scale;
                dx[dxo + idx] = CpuElementwise.store(dx[dxo + idx], v, acc);
            }
        }
    }

    /** Row-wise softmax of {@code [m, n]}; y may alias x. */
    void softmax(float[] x, int xo, float[] y, int yo, int m, int n) {
        if (vector) {
            ReduceVector.softmax(x, xo, y, yo, m, n);
            return;
        }
        for (int i = 0; i < m; i++) {
            int xr = xo + i * n;
            int yr = yo + i * n;
            float max = rowMax(x, xr, n);
            double sum = 0;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(x[xr + j] - max);
                y[yr + j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < n; j++) {
                y[yr + j] *= inv;
            }
        }
    }

    /** {@code dx (+)= y * (dy - sum_j dy_j y_j)} per row. */
    void softmaxBackward(float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int m, int n, boolean acc) {
        if (vector) {
            ReduceVector.softmaxBackward(y, yo, dy, dyo, dx, dxo, m, n, acc);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += (double) dy[dyo + row + j] * y[yo + row + j];
            }
            float d = (float) dot;
            for (int j = 0; j < n; j++) {
                int k = dxo + row + j;
                dx[k] = CpuElementwise.store(dx[k], y[yo + row + j] * (dy[dyo + row + j] - d), acc);
            }
        }
    }

    /** Per-sample loss {@code out[i] = L(p_i, t_i)} over {@code p: [m, c]}. */
    void rowLoss(LossKind kind, float[] p, int po, float[] t, int to, float[] out, int oo, int m, int c) {
        if (vector) {
            ReduceVector.rowLoss(kind, p, po, t, to, out, oo, m, c);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = po + i * c;
            int trow = to + i * c;
            double loss = 0;
            if (kind.nanIfNoClass(t[to + i], c, out, oo + i, 1)) {
                continue; // no class to read: a NaN loss, never a read outside the row
            }
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[to + i];
                    float max = rowMax(p, row, c);
                    loss = Math.log(sumExp(p, row, c, max)) + max - p[row + y];
                }
                case SVM_HINGE -> {
                    int y = (int) t[to + i];
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            loss += Math.max(0f, p[row + j] - p[row + y] + 1f);
                        }
                    }
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        float d = p[row + j] - t[trow + j];
                        loss += d * d;
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        float x = p[row + j];
                        loss += Math.max(x, 0f) - x * t[trow + j] + Math.log1p(Math.exp(-Math.abs(x)));
                    }
                }
            }
            out[oo + i] = (float) loss;
        }
    }

    /** The maximum of {@code p[row, row + c)} (an absolute array index). */
    static float rowMax(float[] p, int row, int c) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, p[row + j]);
        }
        return max;
    }

    /** {@code sum_j exp(p[row + j] - max)} over {@code p[row, row + c)}, accumulated in double. */
    private static double sumExp(float[] p, int row, int c, float max) {
        double sum = 0;
        for (int j = 0; j < c; j++) {
            sum += Math.exp(p[row + j] - max);
        }
        return sum;
    }

    /** {@code dp (+)= dout_i * dL_i/dp_i}. */
    void rowLossBackward(LossKind kind, float[] p, int po, float[] t, int to, float[] dout, int doo, float[] dp,
                         int dpo, int m, int c, boolean acc) {
        if (vector) {
            ReduceVector.rowLossBackward(kind, p, po, t, to, dout, doo, dp, dpo, m, c, acc);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = po + i * c;
            int trow = to + i * c;
            int drow = dpo + i * c;
            float g = dout[doo + i];
            if (kind.nanIfNoClass(t[to + i], c, dp, drow, c)) {
                continue;
            }
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[to + i];
                    float max = rowMax(p, row, c);
                    double sum = sumExp(p, row, c, max);
                    for (int j = 0; j < c; j++) {
                        double prob = Math.exp(p[row + j] - max) / sum;
                        float v = (float) (g * (prob - (j == y ? 1.0 : 0.0)));
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], v, acc);
                    }
                }
                case SVM_HINGE -> {
                    int y = (int) t[to + i];
                    int positive = 0;
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            boolean active = p[row + j] - p[row + y] + 1f > 0f;
                            positive += active ? 1 : 0;
                            dp[drow + j] = CpuElementwise.store(dp[drow + j], active ? g : 0f, acc);
                        }
                    }
                    dp[drow + y] = CpuElementwise.store(dp[drow + y], -g * positive, acc);
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], 2f * (p[row + j] - t[trow + j]) * g, acc);
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        float s = (float) (1.0 / (1.0 + Math.exp(-p[row + j])));
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], (s - t[trow + j]) * g, acc);
                    }
                }
            }
        }
    }
}
