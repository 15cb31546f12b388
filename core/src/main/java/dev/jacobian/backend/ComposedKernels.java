package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;

/**
 * The default, composed implementations of the fused primitives — the per-sample losses and the SGD update —
 * built from the other primitives of the same backend (unary math, broadcasting binary, row reductions,
 * axpby). A backend that has no fused kernel for them inherits these from {@link AbstractBackend}; one that
 * has overrides the hook. Temporaries come from {@link AbstractBackend#scratch}, allocated on first use and
 * kept, so after the first step nothing is allocated; the only upload is the class-index row
 * {@code [0, 1, ..., c-1]}, once per class count.
 *
 * <p>Class-index targets become one-hot rows without a gather: {@code onehot = 1 - sign(|iota - t|)}.
 */
final class ComposedKernels {
    private ComposedKernels() {
    }

    private static void unary(AbstractBackend b, UnaryOp op, float p, Tensor x, Tensor y) {
        b.unary(op, p, 0f, x, y);
    }

    /** {@code [n, c]} one-hot rows of the class indices {@code target [n, 1]}, in scratch slot {@code slot}. */
    private static Tensor oneHot(AbstractBackend b, Tensor target, int n, int c, String slot) {
        Tensor iota = b.constantRow("iota", c);
        Tensor oh = b.scratch(slot, Shape.matrix(n, c));
        b.binary(BinaryOp.SUB, iota, target, oh);
        unary(b, UnaryOp.ABS, 0f, oh, oh);
        unary(b, UnaryOp.SIGN, 0f, oh, oh);
        unary(b, UnaryOp.MUL_SCALAR, -1f, oh, oh);
        unary(b, UnaryOp.ADD_SCALAR, 1f, oh, oh);
        return oh;
    }

    /** Row-wise {@code e = exp(pred - max)} into {@code e}, the row sums into {@code sum} and the maxima into {@code max}. */
    private static void shiftedExp(AbstractBackend b, Tensor pred, Tensor e, Tensor sum, Tensor max) {
        b.reduce(Reduction.MAX, Axis.COLS, pred, max, false);
        b.binary(BinaryOp.SUB, pred, max, e);
        unary(b, UnaryOp.EXP, 0f, e, e);
        b.reduce(Reduction.SUM, Axis.COLS, e, sum, false);
    }

    /** {@code out[i] = L(pred_i, target_i)} for every {@link LossKind}. */
    static void rowLoss(AbstractBackend b, LossKind kind, Tensor pred, Tensor target, Tensor out) {
        int n = pred.rows();
        int c = pred.cols();
        Shape nc = Shape.matrix(n, c);
        Shape n1 = Shape.matrix(n, 1);
        Tensor t = b.scratch("loss.t", nc);
        switch (kind) {
            case SOFTMAX_CROSS_ENTROPY -> {
                // log sum exp(x - max) + max - x[y]
                Tensor max = b.scratch("loss.max", n1);
                shiftedExp(b, pred, t, out, max);
                unary(b, UnaryOp.LOG, 0f, out, out);
                b.binary(BinaryOp.ADD, out, max, out);
                Tensor oh = oneHot(b, target, n, c, "loss.onehot");
                b.binary(BinaryOp.MUL, pred, oh, t);
                b.reduce(Reduction.SUM, Axis.COLS, t, max, false);
                b.binary(BinaryOp.SUB, out, max, out);
            }
            case SVM_HINGE -> {
                // sum over j != y of max(0, x_j - x_y + 1)
                hingeMargins(b, pred, target, n, c, t);
                b.reduce(Reduction.SUM, Axis.COLS, t, out, false);
            }
            case MSE -> {
                b.binary(BinaryOp.SUB, pred, target, t);
                unary(b, UnaryOp.SQUARE, 0f, t, t);
                b.reduce(Reduction.SUM, Axis.COLS, t, out, false);
            }
            case SIGMOID_BINARY_CROSS_ENTROPY -> {
                // max(x, 0) - x t + log(1 + e^-|x|), the stable form
                Tensor u = b.scratch("loss.u", nc);
                unary(b, UnaryOp.ABS, 0f, pred, u);
                unary(b, UnaryOp.NEG, 0f, u, u);
                unary(b, UnaryOp.EXP, 0f, u, u);
                unary(b, UnaryOp.ADD_SCALAR, 1f, u, u);
                unary(b, UnaryOp.LOG, 0f, u, u);
                b.unary(UnaryOp.CLAMP, 0f, Float.POSITIVE_INFINITY, pred, t);
                b.binary(BinaryOp.ADD, t, u, t);
                b.binary(BinaryOp.MUL, pred, target, u);
                b.binary(BinaryOp.SUB, t, u, t);
                b.reduce(Reduction.SUM, Axis.COLS, t, out, false);
            }
        }
        if (kind.classIndexTargets()) {
            b.binary(BinaryOp.MUL, out, classMask(b, target, n, c, "loss"), out);
        }
    }

    /**
     * {@code [n, 1]}: 1 where the row's target names a class, NaN where it names none (NaN, negative, fractional,
     * too large), as {@link LossKind#classIndex} defines it: the one-hot row sums to 1 or 0, and {@code v / v} is 1
     * or NaN. Multiplying a row's loss or gradient by it gives the fused kernels' NaN rows.
     */
    private static Tensor classMask(AbstractBackend b, Tensor target, int n, int c, String slot) {
        Tensor oh = oneHot(b, target, n, c, slot + ".onehot");
        Tensor v = b.scratch(slot + ".valid", Shape.matrix(n, 1));
        Tensor r = b.scratch(slot + ".inverse", Shape.matrix(n, 1));
        b.reduce(Reduction.SUM, Axis.COLS, oh, v, false);
        unary(b, UnaryOp.RECIPROCAL, 0f, v, r);
        b.binary(BinaryOp.MUL, v, r, v);
        return v;
    }

    /** {@code m[i,j] = max(0, x_ij - x_iy + 1)} for {@code j != y_i}, 0 at {@code j == y_i}. */
    private static void hingeMargins(AbstractBackend b, Tensor pred, Tensor target, int n, int c, Tensor m) {
        Tensor oh = oneHot(b, target, n, c, "loss.onehot");
        Tensor picked = b.scratch("loss.picked", Shape.matrix(n, 1));
        b.binary(BinaryOp.MUL, pred, oh, m);
        b.reduce(Reduction.SUM, Axis.COLS, m, picked, false);
        b.binary(BinaryOp.SUB, pred, picked, m);
        unary(b, UnaryOp.ADD_SCALAR, 1f, m, m);
        b.unary(UnaryOp.CLAMP, 0f, Float.POSITIVE_INFINITY, m, m);
        Tensor others = b.scratch("loss.others", Shape.matrix(n, c));
        unary(b, UnaryOp.MUL_SCALAR, -1f, oh, others);
        unary(b, UnaryOp.ADD_SCALAR, 1f, others, others);
        b.binary(BinaryOp.MUL, m, others, m);
    }

    /** {@code dpred (+)= dout_i * dL_i / dpred_i}. */
    static void rowLossBackward(AbstractBackend b, LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                boolean accumulate) {
        int n = pred.rows();
        int c = pred.cols();
        Shape nc = Shape.matrix(n, c);
        Shape n1 = Shape.matrix(n, 1);
        Tensor g = b.scratch("lossb.g", nc);
        switch (kind) {
            case SOFTMAX_CROSS_ENTROPY -> {
                // softmax(x) - onehot(y)
                Tensor sum = b.scratch("lossb.sum", n1);
                Tensor max = b.scratch("lossb.max", n1);
                shiftedExp(b, pred, g, sum, max);
                unary(b, UnaryOp.RECIPROCAL, 0f, sum, sum);
                b.binary(BinaryOp.MUL, g, sum, g);
                b.binary(BinaryOp.SUB, g, oneHot(b, target, n, c, "lossb.onehot"), g);
            }
            case SVM_HINGE -> {
                // 1 at each active margin, minus their count at y
                hingeMargins(b, pred, target, n, c, g);
                unary(b, UnaryOp.SIGN, 0f, g, g);
                Tensor count = b.scratch("lossb.count", n1);
                b.reduce(Reduction.SUM, Axis.COLS, g, count, false);
                Tensor atY = b.scratch("lossb.aty", nc);
                b.binary(BinaryOp.MUL, oneHot(b, target, n, c, "lossb.onehot"), count, atY);
                b.binary(BinaryOp.SUB, g, atY, g);
            }
            case MSE -> {
                b.binary(BinaryOp.SUB, pred, target, g);
                unary(b, UnaryOp.MUL_SCALAR, 2f, g, g);
            }
            case SIGMOID_BINARY_CROSS_ENTROPY -> {
                unary(b, UnaryOp.SIGMOID, 0f, pred, g);
                b.binary(BinaryOp.SUB, g, target, g);
            }
        }
        if (kind.classIndexTargets()) {
            b.binary(BinaryOp.MUL, g, classMask(b, target, n, c, "lossb"), g);
        }
        if (accumulate) {
            b.binary(BinaryOp.MUL, g, dout, g);
            b.axpby(1f, g, 1f, dpred);
        } else {
            b.binary(BinaryOp.MUL, g, dout, dpred);
        }
    }

    /**
     * The clipped gradient {@code clamp(c * finiteOrZero(grad))}, of the parameter's shape, in scratch slot {@code prefix + ".g"}, and in
     * slot {@code prefix + ".ok"} the guard {@code ok = finite(gradNormSq) ? 1 : 0} (1 without a norm).
     */
    private static Tensor clippedGradient(AbstractBackend b, String prefix, Shape shape, Tensor grad,
                                          Tensor gradNormSq, float clipNorm, float clipValue) {
        Tensor g = b.scratch(prefix + ".g", shape);
        Tensor scale = b.scratch(prefix + ".scale", Shape.scalar());
        Tensor ok = b.scratch(prefix + ".ok", Shape.scalar());
        if (gradNormSq == null) {
            b.fill(scale, 1f);
            b.fill(ok, 1f);
        } else {
            // ok = finite(normSq) ? 1 : 0
            unary(b, UnaryOp.MUL_SCALAR, 0f, gradNormSq, ok);
            unary(b, UnaryOp.ADD_SCALAR, 1f, ok, ok);
            unary(b, UnaryOp.FINITE_OR_ZERO, 0f, ok, ok);
            if (clipNorm > 0f) {
                // c = t / max(sqrt(normSq), t)  (1 below the threshold)
                unary(b, UnaryOp.SQRT, 0f, gradNormSq, scale);
                b.unary(UnaryOp.CLAMP, clipNorm, Float.POSITIVE_INFINITY, scale, scale);
                unary(b, UnaryOp.RECIPROCAL, 0f, scale, scale);
                unary(b, UnaryOp.MUL_SCALAR, clipNorm, scale, scale);
                unary(b, UnaryOp.FINITE_OR_ZERO, 0f, scale, scale);
            } else {
                b.fill(scale, 1f);
            }
        }
        unary(b, UnaryOp.FINITE_OR_ZERO, 0f, grad, g);
        b.binary(BinaryOp.MUL, g, scale, g);
        if (clipValue > 0f) {
            b.unary(UnaryOp.CLAMP, -clipValue, clipValue, g, g);
        }
        return g;
    }

    /** {@code keep = 1 + ok (decay - 1)}: the decay factor of a state, 1 when the step is skipped. */
    private static Tensor keep(AbstractBackend b, String slot, Tensor ok, float decay) {
        Tensor keep = b.scratch(slot, Shape.scalar());
        unary(b, UnaryOp.MUL_SCALAR, decay - 1f, ok, keep);
        unary(b, UnaryOp.ADD_SCALAR, 1f, keep, keep);
        return keep;
    }

    /**
     * The update of {@link SgdUpdate}, NaN guard included: {@code ok = 1} when {@code gradNormSq} is finite, else
     * 0, and every change is multiplied by it after the non-finite values were zeroed, so a non-finite step
     * leaves the weights and the velocity as they were.
     */
    static void sgdUpdate(AbstractBackend b, Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        Shape s = param.shape();
        Tensor g = clippedGradient(b, "sgd", s, grad, gradNormSq, u.clipNorm(), u.clipValue());
        Tensor ok = b.scratch("sgd.ok", Shape.scalar());
        int decayed = (int) Math.min(param.size(), u.decayedPrefix());
        if (u.weightDecay() != 0f && decayed > 0) {
            try (Tensor gf = g.flatten(); Tensor wf = param.flatten();
                 Tensor gp = gf.slice(0, decayed); Tensor wp = wf.slice(0, decayed)) {
                b.axpby(u.weightDecay(), wp, 1f, gp);
            }
        }
        b.binary(BinaryOp.MUL, g, ok, g); // a non-finite step changes nothing
        if (u.momentum() != 0f) {
            // v = v + ok (mu - 1) v + g
            Tensor keep = keep(b, "sgd.keep", ok, u.momentum());
            b.binary(BinaryOp.MUL, velocity, keep, velocity);
            b.axpby(1f, g, 1f, velocity);
            flushSubnormal(b, velocity, "sgd.flush");
            if (u.nesterov()) {
                Tensor mv = b.scratch("sgd.mv", s);
                b.binary(BinaryOp.MUL, velocity, ok, mv);
                b.axpby(u.momentum(), mv, 1f, g);
            } else {
                b.binary(BinaryOp.MUL, velocity, ok, g);
            }
        }
        b.axpby(-u.learningRate(), g, 1f, param);
    }

    /** {@code x = x * step(|x| >= Float.MIN_NORMAL)}: the subnormal flush of state, in scratch {@code slot}. */
    private static void flushSubnormal(AbstractBackend b, Tensor x, String slot) {
        Tensor keep = b.scratch(slot, x.shape());
        unary(b, UnaryOp.ABS, 0f, x, keep);
        b.unary(UnaryOp.STEP, Float.MIN_NORMAL, 1f, keep, keep);
        b.binary(BinaryOp.MUL, x, keep, x);
    }

    /**
     * The update of {@link AdaptiveUpdate}, subnormal flush of the state included, NaN guard included as in
     * {@link #sgdUpdate}: the gradient is zeroed and every decay factor is 1 when the norm is not finite.
     */
    static void adaptiveUpdate(AbstractBackend b, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                               AdaptiveUpdate u) {
        Shape s = param.shape();
        boolean rms = u.rule() == AdaptiveUpdate.Rule.RMSPROP;
        Tensor g = clippedGradient(b, "adaptive", s, grad, gradNormSq, u.clipNorm(), u.clipValue());
        Tensor ok = b.scratch("adaptive.ok", Shape.scalar());
        int decayed = (int) Math.min(param.size(), u.decayedPrefix());
        if (u.weightDecay() != 0.0 && decayed > 0) {
            try (Tensor gf = g.flatten(); Tensor wf = param.flatten();
                 Tensor gp = gf.slice(0, decayed); Tensor wp = wf.slice(0, decayed)) {
                if (u.rule() == AdaptiveUpdate.Rule.ADAMW) {
                    // w = w - ok (lr d) w   (PyTorch: w * (1 - lr d))
                    Tensor okw = b.scratch("adaptive.okw", wp.shape());
                    b.binary(BinaryOp.MUL, wp, ok, okw);
                    b.axpby(-(float) (u.learningRate() * u.weightDecay()), okw, 1f, wp);
                } else {
                    b.axpby(u.coupledDecay(), wp, 1f, gp);
                }
            }
        }
        b.binary(BinaryOp.MUL, g, ok, g); // a non-finite step changes nothing
        // v = keep2 v + (1 - beta2) g^2
        Tensor t = b.scratch("adaptive.t", s);
        unary(b, UnaryOp.SQUARE, 0f, g, t);
        b.binary(BinaryOp.MUL, v, keep(b, "adaptive.keep2", ok, u.beta2f()), v);
        b.axpby(u.oneMinusBeta2(), t, 1f, v);
        flushSubnormal(b, v, "adaptive.flush");
        // t = 1 / (sqrt(v) / bc2 + eps)
        unary(b, UnaryOp.SQRT, 0f, v, t);
        if (!rms) {
            unary(b, UnaryOp.MUL_SCALAR, 1f / u.biasCorrection2Sqrt(), t, t);
        }
        unary(b, UnaryOp.ADD_SCALAR, u.epsf(), t, t);
        unary(b, UnaryOp.RECIPROCAL, 0f, t, t);
        Tensor keep1 = u.usesFirstMoment() ? keep(b, "adaptive.keep1", ok, u.beta1f()) : null;
        if (rms) {
            b.binary(BinaryOp.MUL, g, t, t); // g / a, 0 on a skipped step
            if (keep1 != null) {
                b.binary(BinaryOp.MUL, m, keep1, m);
                b.axpby(1f, t, 1f, m);
                flushSubnormal(b, m, "adaptive.flush");
                b.binary(BinaryOp.MUL, m, ok, t);
            }
        } else {
            b.binary(BinaryOp.MUL, m, keep1, m);
            b.axpby(u.oneMinusBeta1(), g, 1f, m);
            flushSubnormal(b, m, "adaptive.flush");
            b.binary(BinaryOp.MUL, m, t, t);
            b.binary(BinaryOp.MUL, t, ok, t);
        }
        b.axpby(-u.stepSize(), t, 1f, param);
    }
}
