package dev.jacobian.reference;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.HeapBackend;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.tensor.Tensor;

/**
 * The oracle: every primitive written as the plainest possible scalar loop, accumulating in double.
 * Slow on purpose; the conformance suite compares every other backend against it.
 */
public final class ReferenceBackend extends HeapBackend {


    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String deviceDescription() {
        return "scalar Java reference (" + System.getProperty("java.vm.name") + " " + Runtime.version() + ")";
    }


    private float[] d(Tensor t) {
        return data(t);
    }





    private static void store(float[] out, int i, double v, boolean accumulate) {
        out[i] = accumulate ? (float) (out[i] + v) : (float) v;
    }

    @Override
    public void fill(Tensor x, float value) {
        float[] a = d(x);
        for (int i = 0; i < x.size(); i++) {
            a[i] = value;
        }
    }

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        Checks.sameSize("axpby", x, y);
        float[] a = d(x);
        float[] b = d(y);
        for (int i = 0; i < x.size(); i++) {
            b[i] = beta == 0f ? alpha * a[i] : alpha * a[i] + beta * b[i];
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor c) {
        Checks.binary(op, a, b, c);
        float[] x = d(a);
        float[] y = d(b);
        float[] z = d(c);
        for (int i = 0; i < a.size(); i++) {
            z[i] = op.apply(x[i], y[i]);
        }
    }

    @Override
    public void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate) {
        Checks.binaryBackward(op, operand, a, b, dc, grad);
        float[] x = d(a);
        float[] y = d(b);
        float[] g = d(dc);
        float[] out = d(grad);
        for (int i = 0; i < a.size(); i++) {
            store(out, i, op.gradient(operand, x[i], y[i], g[i]), accumulate);
        }
    }

    @Override
    public void activation(Activation f, float param, Tensor x, Tensor y) {
        Checks.sameSize("activation " + f, x, y);
        float[] a = d(x);
        float[] b = d(y);
        for (int i = 0; i < x.size(); i++) {
            b[i] = f.apply(a[i], param);
        }
    }

    @Override
    public void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.activationBackward(f, x, y, dy, dx);
        float[] a = d(x);
        float[] b = d(y);
        float[] g = d(dy);
        float[] out = d(dx);
        for (int i = 0; i < x.size(); i++) {
            store(out, i, (double) g[i] * f.derivative(a[i], b[i], param), accumulate);
        }
    }

    @Override
    public void addRowVector(Tensor x, Tensor bias, Tensor y) {
        Checks.rowVectorOp("addRowVector", x, bias, y);
        float[] a = d(x);
        float[] v = d(bias);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < n; j++) {
                out[i * n + j] = a[i * n + j] + v[j];
            }
        }
    }

    @Override
    public void prelu(Tensor x, Tensor slope, Tensor y) {
        Checks.rowVectorOp("prelu", x, slope, y);
        float[] a = d(x);
        float[] s = d(slope);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.size(); i++) {
            out[i] = a[i] > 0f ? a[i] : s[i % n] * a[i];
        }
    }

    @Override
    public void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                              Tensor dslope, boolean accumulateDslope) {
        Checks.preluBackward(x, slope, dy, dx, dslope);
        float[] a = d(x);
        float[] s = d(slope);
        float[] g = d(dy);
        int n = x.cols();
        if (dx != null) {
            float[] out = d(dx);
            for (int i = 0; i < x.size(); i++) {
                store(out, i, a[i] > 0f ? g[i] : (double) g[i] * s[i % n], accumulateDx);
            }
        }
        if (dslope != null) {
            float[] out = d(dslope);
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int i = 0; i < x.rows(); i++) {
                    float v = a[i * n + j];
                    sum += v > 0f ? 0.0 : (double) g[i * n + j] * v;
                }
                store(out, j, sum, accumulateDslope);
            }
        }
    }

    @Override
    public void maxout(int pieces, Tensor z, Tensor y) {
        Checks.maxout("maxout", pieces, z, y);
        float[] a = d(z);
        float[] out = d(y);
        int n = y.cols();
        int zc = z.cols();
        for (int i = 0; i < y.rows(); i++) {
            for (int j = 0; j < n; j++) {
                float best = a[i * zc + j * pieces];
                for (int p = 1; p < pieces; p++) {
                    best = Math.max(best, a[i * zc + j * pieces + p]);
                }
                out[i * n + j] = best;
            }
        }
    }

    @Override
    public void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        Checks.maxoutBackward(pieces, z, dy, dz);
        float[] a = d(z);
        float[] g = d(dy);
        float[] out = d(dz);
        int n = dy.cols();
        int zc = z.cols();
        for (int i = 0; i < dy.rows(); i++) {
            for (int j = 0; j < n; j++) {
                int base = i * zc + j * pieces;
                int arg = 0;
                for (int p = 1; p < pieces; p++) {
                    if (a[base + p] > a[base + arg]) {
                        arg = p;
                    }
                }
                for (int p = 0; p < pieces; p++) {
                    store(out, base + p, p == arg ? g[i * n + j] : 0.0, accumulate);
                }
            }
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int[] mnk = Checks.gemm(transA, transB, a, b, c);
        int m = mnk[0];
        int n = mnk[1];
        int k = mnk[2];
        float[] x = d(a);
        float[] y = d(b);
        float[] out = d(c);
        int lda = a.cols();
        int ldb = b.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? x[p * lda + i] : x[i * lda + p];
                    float bv = transB ? y[j * ldb + p] : y[p * ldb + j];
                    sum += (double) av * bv;
                }
                double v = alpha * sum;
                if (beta != 0f) {
                    v += (double) beta * out[i * n + j];
                }
                out[i * n + j] = (float) v;
            }
        }
    }

    @Override
    public void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        Checks.reduce(op, axis, x, y, accumulate);
        float[] a = d(x);
        float[] out = d(y);
        int m = x.rows();
        int n = x.cols();
        int groups = axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
        int len = axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
        for (int g = 0; g < groups; g++) {
            double acc = op == Reduction.MAX || op == Reduction.ARGMAX ? Double.NEGATIVE_INFINITY : 0.0;
            int arg = 0;
            for (int t = 0; t < len; t++) {
                float v = a[index(axis, n, g, t)];
                switch (op) {
                    case SUM, MEAN -> acc += v;
                    case SUM_SQUARES -> acc += (double) v * v;
                    case MAX, ARGMAX -> {
                        if (v > acc || t == 0) {
                            acc = v;
                            arg = t;
                        }
                    }
                }
            }
            double r = switch (op) {
                case MEAN -> acc / len;
                case ARGMAX -> arg;
                default -> acc;
            };
            store(out, g, r, accumulate);
        }
    }

    /** Flat index of element {@code t} of reduction group {@code g}. */
    private static int index(Axis axis, int n, int g, int t) {
        return switch (axis) {
            case ROWS -> t * n + g;
            case COLS -> g * n + t;
            case ALL -> t;
        };
    }

    @Override
    public void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.reduceBackward(op, axis, x, y, dy, dx);
        float[] a = d(x);
        float[] g = d(dy);
        float[] out = d(dx);
        int m = x.rows();
        int n = x.cols();
        int groups = axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
        int len = axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
        for (int gi = 0; gi < groups; gi++) {
            int arg = 0;
            if (op == Reduction.MAX) {
                for (int t = 1; t < len; t++) {
                    if (a[index(axis, n, gi, t)] > a[index(axis, n, gi, arg)]) {
                        arg = t;
                    }
                }
            }
            for (int t = 0; t < len; t++) {
                int idx = index(axis, n, gi, t);
                double v = switch (op) {
                    case SUM -> g[gi];
                    case MEAN -> (double) g[gi] / len;
                    case SUM_SQUARES -> 2.0 * a[idx] * g[gi];
                    case MAX -> t == arg ? g[gi] : 0.0;
                    case ARGMAX -> throw new AssertionError();
                };
                store(out, idx, v, accumulate);
            }
        }
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Checks.sameMatrix("softmax", x, y);
        float[] a = d(x);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.rows(); i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, a[i * n + j]);
            }
            double sum = 0;
            double[] e = new double[n];
            for (int j = 0; j < n; j++) {
                e[j] = Math.exp(a[i * n + j] - max);
                sum += e[j];
            }
            for (int j = 0; j < n; j++) {
                out[i * n + j] = (float) (e[j] / sum);
            }
        }
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.softmaxBackward(y, dy, dx);
        float[] s = d(y);
        float[] g = d(dy);
        float[] out = d(dx);
        int n = y.cols();
        for (int i = 0; i < y.rows(); i++) {
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += (double) g[i * n + j] * s[i * n + j];
            }
            for (int j = 0; j < n; j++) {
                store(out, i * n + j, s[i * n + j] * (g[i * n + j] - dot), accumulate);
            }
        }
    }

    @Override
    public void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        Checks.rowLoss("rowLoss", kind, pred, target, out);
        float[] p = d(pred);
        float[] t = d(target);
        float[] o = d(out);
        int c = pred.cols();
        for (int i = 0; i < pred.rows(); i++) {
            int row = i * c;
            double loss = 0;
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, p[row + j]);
                    }
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
                            loss += Math.max(0.0, (double) p[row + j] - p[row + y] + 1.0);
                        }
                    }
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        double diff = (double) p[row + j] - t[row + j];
                        loss += diff * diff;
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        double x = p[row + j];
                        loss += Math.max(x, 0) - x * t[row + j] + Math.log1p(Math.exp(-Math.abs(x)));
                    }
                }
            }
            o[i] = (float) loss;
        }
    }

    @Override
    public void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        Checks.rowLossBackward(kind, pred, target, dout, dpred);
        float[] p = d(pred);
        float[] t = d(target);
        float[] g = d(dout);
        float[] o = d(dpred);
        int c = pred.cols();
        for (int i = 0; i < pred.rows(); i++) {
            int row = i * c;
            double gi = g[i];
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, p[row + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(p[row + j] - max);
                    }
                    for (int j = 0; j < c; j++) {
                        double prob = Math.exp(p[row + j] - max) / sum;
                        store(o, row + j, gi * (prob - (j == y ? 1.0 : 0.0)), accumulate);
                    }
                }
                case SVM_HINGE -> {
                    int y = (int) t[i];
                    int positive = 0;
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            boolean active = (double) p[row + j] - p[row + y] + 1.0 > 0.0;
                            positive += active ? 1 : 0;
                            store(o, row + j, active ? gi : 0.0, accumulate);
                        }
                    }
                    store(o, row + y, -gi * positive, accumulate);
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        store(o, row + j, 2.0 * ((double) p[row + j] - t[row + j]) * gi, accumulate);
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        double s = 1.0 / (1.0 + Math.exp(-p[row + j]));
                        store(o, row + j, (s - t[row + j]) * gi, accumulate);
                    }
                }
            }
        }
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        Checks.sgdUpdate(param, grad, velocity, gradNormSq, u);
        float normSq = gradNormSq == null ? 0f : d(gradNormSq)[0];
        if (!Float.isFinite(normSq)) {
            return;
        }
        float scale = u.clipScale(normSq);
        float[] w = d(param);
        float[] gr = d(grad);
        float[] v = velocity == null ? null : d(velocity);
        for (int i = 0; i < param.size(); i++) {
            float g = gr[i] * scale;
            if (u.clipValue() > 0f) {
                g = Math.max(-u.clipValue(), Math.min(u.clipValue(), g));
            }
            g += u.weightDecay() * w[i];
            if (u.momentum() != 0f) {
                v[i] = u.momentum() * v[i] + g;
                g = u.nesterov() ? g + u.momentum() * v[i] : v[i];
            }
            w[i] -= u.learningRate() * g;
        }
    }
}
