package dev.jacobian.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of {@link CpuReduce}'s kernels: contiguous reductions keep one vector accumulator,
 * then a fixed-order lane sum ({@link Simd#sumLanes}), then a scalar tail; reductions down columns
 * ({@link Axis#ROWS}) keep a row of accumulators and walk the rows. Sums are in float (in a fixed order;
 * the conformance tolerances allow the difference from the reference). Every array comes with the offset
 * of its tensor's first element ({@code sum}, {@code max} and {@code argmax} take absolute array indexes).
 * Transcendentals come from {@link VectorMath} (bit-identical cold and warm). Loaded only when the Vector
 * API is available.
 */
final class ReduceVector {
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;

    private ReduceVector() {
    }

    private static FloatVector load(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }

    private static void put(FloatVector v, float[] out, int i, boolean acc) {
        (acc ? load(out, i).add(v) : v).intoArray(out, i);
    }

    /** Sum of {@code x[off, off+len)} (or of squares). */
    static float sum(float[] x, int off, int len, boolean squares) {
        FloatVector s = FloatVector.zero(S);
        int bound = S.loopBound(len);
        int j = 0;
        if (squares) {
            for (; j < bound; j += L) {
                FloatVector v = load(x, off + j);
                s = v.fma(v, s);
            }
        } else {
            for (; j < bound; j += L) {
                s = s.add(load(x, off + j));
            }
        }
        float r = Simd.sumLanes(s);
        for (; j < len; j++) {
            float v = x[off + j];
            r += squares ? v * v : v;
        }
        return r;
    }

    /**
     * First maximal element of {@code x[off, off+len)}: its value. The first element seeds the comparison
     * {@code v > best}, as in the scalar twin and the reference: a NaN there is the result, a NaN elsewhere is never
     * greater and is passed over. The lanes therefore start from minus infinity (a lane seeded with a NaN of the first
     * vector would keep it and pass over the rest of its lane), and their maximum counts only where it is greater.
     */
    static float max(float[] x, int off, int len) {
        int bound = S.loopBound(len);
        int j = 0;
        float r = x[off];
        if (bound > 0) {
            FloatVector best = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; j < bound; j += L) {
                FloatVector v = load(x, off + j);
                best = best.blend(v, v.compare(GT, best));
            }
            float lanes = best.reduceLanes(MAX); // no NaN in the lanes
            if (lanes > r) {
                r = lanes;
            }
        }
        for (; j < len; j++) {
            if (x[off + j] > r) {
                r = x[off + j];
            }
        }
        return r;
    }

    /** Index of the first element of {@code x[off, off+len)} equal to its maximum. */
    static int argmax(float[] x, int off, int len) {
        float best = max(x, off, len);
        for (int j = 0; j < len; j++) {
            if (x[off + j] == best) {
                return j;
            }
        }
        return 0;
    }

    static void reduce(Reduction op, Axis axis, float[] x, int xo, float[] y, int yo, int m, int n, boolean acc) {
        int groups = axis == Axis.COLS ? m : 1;
        int len = axis == Axis.COLS ? n : m * n;
        for (int g = 0; g < groups; g++) {
            int off = xo + g * len;
            float r = switch (op) {
                case SUM -> sum(x, off, len, false);
                case MEAN -> sum(x, off, len, false) / len;
                case SUM_SQUARES -> sum(x, off, len, true);
                case MAX -> max(x, off, len);
                case ARGMAX -> argmax(x, off, len);
            };
            y[yo + g] = CpuElementwise.store(y[yo + g], r, acc);
        }
    }

    /**
     * {@link Axis#ROWS}: one accumulator per column, rows walked in order. {@code best} (and {@code arg} for
     * ARGMAX) are work rows of at least {@code n} floats.
     *
     * <p>Each kind walks the rows in a method of its own ({@link #sumDownColumns}, {@link #sumSquaresDownColumns},
     * {@link #maxDownColumns}, {@link #argmaxDownColumns}), compiled for its kind alone. A training step reduces only
     * sums down the columns (a dense layer's bias gradient), and after each epoch {@code Diagnostics} takes each ReLU
     * layer's column maxima. In one method with a branch per kind, that first maximum met code that C2 had compiled
     * with the maxima's branch as never taken, and the JVM threw the compiled method away ({@code unstable_if}, action
     * {@code reinterpret}): the next epoch's steps ran their bias gradients through the Vector API's interpreted
     * fallbacks until C2 had compiled the method again (a 5-epoch run at batch 128: the deoptimization at the end of
     * epoch 1, its recompiles 0.12-0.16 of the way into epoch 2; JFR's {@code jdk.Deoptimization}). Now only this
     * dispatch can be thrown away so, a few lines that cost little interpreted; and the command line's JIT warm-up
     * takes the diagnostics too, so that the branch is compiled before the run's first step.
     */
    static void reduceDownColumns(Reduction op, float[] x, int xo, float[] y, int yo, int m, int n, boolean acc,
                                  float[] best, float[] arg) {
        switch (op) {
            case SUM, MEAN -> sumDownColumns(x, xo, m, n, best);
            case SUM_SQUARES -> sumSquaresDownColumns(x, xo, m, n, best);
            case MAX -> maxDownColumns(x, xo, m, n, best);
            case ARGMAX -> argmaxDownColumns(x, xo, m, n, best, arg);
        }
        float[] result = arg != null ? arg : best;
        for (int j = 0; j < n; j++) {
            float r = op == Reduction.MEAN ? result[j] / m : result[j];
            y[yo + j] = CpuElementwise.store(y[yo + j], r, acc);
        }
    }

    /** {@code best[j] = sum_r x[r][j]}, for {@code j < n}, rows added in order. */
    private static void sumDownColumns(float[] x, int xo, int m, int n, float[] best) {
        java.util.Arrays.fill(best, 0, n, 0f);
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int row = xo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                load(best, j).add(load(x, row + j)).intoArray(best, j);
            }
            for (; j < n; j++) {
                best[j] += x[row + j];
            }
        }
    }

    /** {@code best[j] = sum_r x[r][j]^2}, for {@code j < n}, rows added in order. */
    private static void sumSquaresDownColumns(float[] x, int xo, int m, int n, float[] best) {
        java.util.Arrays.fill(best, 0, n, 0f);
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int row = xo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, row + j);
                v.fma(v, load(best, j)).intoArray(best, j);
            }
            for (; j < n; j++) {
                float v = x[row + j];
                best[j] += v * v;
            }
        }
    }

    /** {@code best[j] = max_r x[r][j]}, for {@code j < n}. */
    private static void maxDownColumns(float[] x, int xo, int m, int n, float[] best) {
        System.arraycopy(x, xo, best, 0, n);
        int bound = S.loopBound(n);
        for (int r = 1; r < m; r++) {
            int row = xo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, row + j);
                FloatVector b = load(best, j);
                b.blend(v, v.compare(GT, b)).intoArray(best, j);
            }
            for (; j < n; j++) {
                float v = x[row + j];
                if (v > best[j]) {
                    best[j] = v;
                }
            }
        }
    }

    /**
     * {@code best[j] = max_r x[r][j]} and {@code arg[j]} the first row that holds it, for {@code j < n}.
     */
    private static void argmaxDownColumns(float[] x, int xo, int m, int n, float[] best, float[] arg) {
        System.arraycopy(x, xo, best, 0, n);
        java.util.Arrays.fill(arg, 0, n, 0f);
        int bound = S.loopBound(n);
        for (int r = 1; r < m; r++) {
            int row = xo + r * n;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = load(x, row + j);
                FloatVector b = load(best, j);
                var gt = v.compare(GT, b);
                b.blend(v, gt).intoArray(best, j);
                load(arg, j).blend(r, gt).intoArray(arg, j);
            }
            for (; j < n; j++) {
                float v = x[row + j];
                if (v > best[j]) {
                    best[j] = v;
                    arg[j] = r;
                }
            }
        }
    }

    /** SUM, MEAN and SUM_SQUARES backward (MAX is routed by {@link CpuReduce}). */
    static void reduceBackward(Reduction op, Axis axis, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo,
                               int m, int n, boolean acc) {
        int len = CpuReduce.length(axis, m, n);
        float scale = op == Reduction.MEAN ? 1f / len : 1f;
        boolean squares = op == Reduction.SUM_SQUARES;
        int bound = S.loopBound(n);
        for (int r = 0; r < m; r++) {
            int xr = xo + r * n;
            int dr = dxo + r * n;
            float gs = axis == Axis.ROWS ? 0f : (axis == Axis.COLS ? dy[dyo + r] : dy[dyo]);
            gs = op == Reduction.MEAN ? gs / len : gs;
            FloatVector gb = FloatVector.broadcast(S, gs);
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector g = axis == Axis.ROWS ? load(dy, dyo + j).mul(scale) : gb;
                FloatVector v = squares ? load(x, xr + j).mul(2f).mul(g) : g;
                put(v, dx, dr + j, acc);
            }
            for (; j < n; j++) {
                float g = axis == Axis.ROWS ? dy[dyo + j] * scale : gs;
                float v = squares ? 2f * x[xr + j] * g : g;
                dx[dr + j] = CpuElementwise.store(dx[dr + j], v, acc);
            }
        }
    }

    static void softmax(float[] x, int xo, float[] y, int yo, int m, int n) {
        int bound = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            int xr = xo + i * n;
            int yr = yo + i * n;
            float max = max(x, xr, n);
            FloatVector mv = FloatVector.broadcast(S, max);
            FloatVector s = FloatVector.zero(S);
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector e = VectorMath.exp(load(x, xr + j).sub(mv));
                e.intoArray(y, yr + j);
                s = s.add(e);
            }
            float sum = Simd.sumLanes(s);
            for (; j < n; j++) {
                float e = (float) Math.exp(x[xr + j] - max);
                y[yr + j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            j = 0;
            for (; j < bound; j += L) {
                load(y, yr + j).mul(inv).intoArray(y, yr + j);
            }
            for (; j < n; j++) {
                y[yr + j] *= inv;
            }
        }
    }

    static void softmaxBackward(float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int m, int n,
                                boolean acc) {
        int bound = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            int yr = yo + i * n;
            int gr = dyo + i * n;
            int dr = dxo + i * n;
            float dot = dot(dy, gr, y, yr, n);
            int j = 0;
            for (; j < bound; j += L) {
                put(load(y, yr + j).mul(load(dy, gr + j).sub(dot)), dx, dr + j, acc);
            }
            for (; j < n; j++) {
                dx[dr + j] = CpuElementwise.store(dx[dr + j], y[yr + j] * (dy[gr + j] - dot), acc);
            }
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int len) {
        FloatVector s = FloatVector.zero(S);
        int bound = S.loopBound(len);
        int j = 0;
        for (; j < bound; j += L) {
            s = load(a, ao + j).fma(load(b, bo + j), s);
        }
        float r = Simd.sumLanes(s);
        for (; j < len; j++) {
            r += a[ao + j] * b[bo + j];
        }
        return r;
    }

    /**
     * {@code sum_j exp(p_j - max)} over one row ({@code row} is an absolute array index). The row's end, shorter than a
     * vector (all of it for 10 classes on 16 lanes), is a scalar loop: one masked vector there made the loss and its
     * gradient 0.57x and 0.74x as long once compiled, but until C2 compiles them (an epoch into a training run, as they
     * run once a step) their C1 code runs the masked operations' Java fallbacks, and epoch 1 of the MLP took 1.2x as long
     * (README, the thirteenth session).
     */
    private static float sumExp(float[] p, int row, int c, float max) {
        return sumExp(p, row, c, max, null, 0);
    }

    /**
     * {@link #sumExp(float[], int, int, float)}, also storing each exponential in {@code keep[keepOff + j]} when
     * {@code keep} is not null (the same terms, added in the same order).
     */
    private static float sumExp(float[] p, int row, int c, float max, float[] keep, int keepOff) {
        int bound = S.loopBound(c);
        int j = 0;
        float sum = 0f; // the lanes' sum of no vector: +0
        if (bound > 0) { // no vector operation otherwise (each costs a call until C2 compiles this)
            FloatVector mv = FloatVector.broadcast(S, max);
            FloatVector s = FloatVector.zero(S);
            for (; j < bound; j += L) {
                FloatVector e = VectorMath.exp(load(p, row + j).sub(mv));
                if (keep != null) {
                    e.intoArray(keep, keepOff + j);
                }
                s = s.add(e);
            }
            sum = Simd.sumLanes(s);
        }
        for (; j < c; j++) {
            float e = (float) Math.exp(p[row + j] - max);
            if (keep != null) {
                keep[keepOff + j] = e;
            }
            sum += e;
        }
        return sum;
    }

    /**
     * One row of the softmax cross-entropy's gradient, written (not accumulated) into {@code dp[drow, drow + c)}:
     * {@code g (softmax(p) - onehot(y))}. Each exponential is computed once, kept in the gradient's row while their sum
     * forms ({@link #sumExp(float[], int, int, float, float[], int)}), then scaled in place: the same bits as
     * computing the sum first and the exponentials again, at half the exponentials (with 10 classes on 16 lanes every
     * one of them is a scalar {@code Math.exp}).
     */
    private static void softmaxCrossEntropyRow(float[] p, int row, float[] dp, int drow, int c, int y, float max,
                                               float g) {
        int bound = S.loopBound(c);
        float scale = g / sumExp(p, row, c, max, dp, drow);
        int j = 0;
        for (; j < bound; j += L) {
            load(dp, drow + j).mul(scale).intoArray(dp, drow + j);
        }
        for (; j < c; j++) {
            dp[drow + j] *= scale;
        }
        // the target's probability from the scalar exponential, as the accumulating path computes it
        float probY = y < bound ? (float) Math.exp(p[row + y] - max) * scale : dp[drow + y];
        dp[drow + y] = probY - g;
    }

    /**
     * One row's softmax cross-entropy, {@code log(sum exp(p - max)) + max - p[y]}, in a method of its own (as
     * {@link #softmaxCrossEntropyRow}), which C2 compiles apart from the other losses' loops.
     */
    private static float softmaxCrossEntropy(float[] p, int row, int c, int y) {
        float max = max(p, row, c);
        return (float) Math.log(sumExp(p, row, c, max)) + max - p[row + y];
    }

    static void rowLoss(LossKind kind, float[] p, int po, float[] t, int to, float[] out, int oo, int m, int c) {
        int bound = S.loopBound(c);
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < m; i++) {
            int row = po + i * c;
            int trow = to + i * c;
            float loss = 0f;
            if (kind.nanIfNoClass(t[to + i], c, out, oo + i, 1)) {
                continue; // no class to read: a NaN loss, never a read outside the row
            }
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> loss = softmaxCrossEntropy(p, row, c, (int) t[to + i]);
                case SVM_HINGE -> {
                    float py = p[row + (int) t[to + i]];
                    FloatVector shift = FloatVector.broadcast(S, 1f - py);
                    FloatVector s = zero;
                    int j = 0;
                    for (; j < bound; j += L) {
                        s = s.add(load(p, row + j).add(shift).max(zero));
                    }
                    loss = Simd.sumLanes(s);
                    for (; j < c; j++) {
                        loss += Math.max(0f, p[row + j] + (1f - py));
                    }
                    loss -= Math.max(0f, py + (1f - py)); // the loop also summed the j == y term
                }
                case MSE -> {
                    FloatVector s = zero;
                    int j = 0;
                    for (; j < bound; j += L) {
                        FloatVector d = load(p, row + j).sub(load(t, trow + j));
                        s = d.fma(d, s);
                    }
                    loss = Simd.sumLanes(s);
                    for (; j < c; j++) {
                        float d = p[row + j] - t[trow + j];
                        loss += d * d;
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    FloatVector s = zero;
                    int j = 0;
                    for (; j < bound; j += L) {
                        FloatVector x = load(p, row + j);
                        FloatVector soft = VectorMath.log1p(VectorMath.exp(x.abs().neg()));
                        s = s.add(x.max(zero).sub(x.mul(load(t, trow + j))).add(soft));
                    }
                    loss = Simd.sumLanes(s);
                    for (; j < c; j++) {
                        float x = p[row + j];
                        loss += Math.max(x, 0f) - x * t[trow + j] + (float) Math.log1p(Math.exp(-Math.abs(x)));
                    }
                }
            }
            out[oo + i] = loss;
        }
    }

    static void rowLossBackward(LossKind kind, float[] p, int po, float[] t, int to, float[] dout, int doo,
                                float[] dp, int dpo, int m, int c, boolean acc) {
        int bound = S.loopBound(c);
        FloatVector zero = FloatVector.zero(S);
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
                    float max = max(p, row, c);
                    if (!acc) {
                        softmaxCrossEntropyRow(p, row, dp, drow, c, y, max, g);
                        continue;
                    }
                    float scale = g / sumExp(p, row, c, max);
                    float old = dp[drow + y];
                    FloatVector mv = FloatVector.broadcast(S, max);
                    int j = 0;
                    for (; j < bound; j += L) {
                        put(VectorMath.exp(load(p, row + j).sub(mv)).mul(scale), dp, drow + j, acc);
                    }
                    for (; j < c; j++) {
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], (float) Math.exp(p[row + j] - max) * scale,
                                acc);
                    }
                    float probY = (float) Math.exp(p[row + y] - max) * scale;
                    dp[drow + y] = CpuElementwise.store(old, probY - g, acc);
                }
                case SVM_HINGE -> {
                    int y = (int) t[to + i];
                    float old = dp[drow + y];
                    FloatVector shift = FloatVector.broadcast(S, 1f - p[row + y]);
                    FloatVector gv = FloatVector.broadcast(S, g);
                    int positive = 0;
                    int j = 0;
                    for (; j < bound; j += L) {
                        var active = load(p, row + j).add(shift).compare(GT, 0f);
                        positive += active.trueCount();
                        put(zero.blend(gv, active), dp, drow + j, acc);
                    }
                    for (; j < c; j++) {
                        boolean active = p[row + j] + (1f - p[row + y]) > 0f;
                        positive += active ? 1 : 0;
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], active ? g : 0f, acc);
                    }
                    float py = p[row + y];
                    positive -= py + (1f - py) > 0f ? 1 : 0; // the loop also counted j == y
                    dp[drow + y] = CpuElementwise.store(old, -g * positive, acc);
                }
                case MSE -> {
                    int j = 0;
                    for (; j < bound; j += L) {
                        put(load(p, row + j).sub(load(t, trow + j)).mul(2f * g), dp, drow + j, acc);
                    }
                    for (; j < c; j++) {
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], (p[row + j] - t[trow + j]) * (2f * g), acc);
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    int j = 0;
                    for (; j < bound; j += L) {
                        FloatVector s = VectorMath.sigmoid(load(p, row + j));
                        put(s.sub(load(t, trow + j)).mul(g), dp, drow + j, acc);
                    }
                    for (; j < c; j++) {
                        float s = (float) (1.0 / (1.0 + Math.exp(-p[row + j])));
                        dp[drow + j] = CpuElementwise.store(dp[drow + j], (s - t[trow + j]) * g, acc);
                    }
                }
            }
        }
    }
}
