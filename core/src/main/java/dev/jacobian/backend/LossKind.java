package dev.jacobian.backend;

/**
 * Per-sample losses over a batch of predictions {@code p: [n, c]}. A row loss writes one value per
 * sample into {@code out: [n, 1]}; the batch mean is an ordinary {@link Reduction#MEAN} composed on top.
 *
 * <p>Targets are class indices {@code [n, 1]} (stored as floats) for {@link #SOFTMAX_CROSS_ENTROPY} and
 * {@link #SVM_HINGE}, and dense {@code [n, c]} values for {@link #MSE} and {@link #SIGMOID_BINARY_CROSS_ENTROPY}.
 */
public enum LossKind {
    /**
     * {@code L_i = log sum_j e^{p_ij} - p_{i,y_i}}, computed with the max subtracted (stable).
     * {@code dp_ij = dL_i (softmax(p_i)_j - [j == y_i])}.
     */
    SOFTMAX_CROSS_ENTROPY(true),
    /**
     * Multiclass SVM (Weston–Watkins, margin 1): {@code L_i = sum_{j != y_i} max(0, p_ij - p_{i,y_i} + 1)}.
     */
    SVM_HINGE(true),
    /** Squared L2 distance: {@code L_i = sum_j (p_ij - t_ij)^2}; {@code dp = 2 (p - t) dL_i}. */
    MSE(false),
    /**
     * Sigmoid + binary cross-entropy on logits, stable form:
     * {@code L_i = sum_j max(p,0) - p t + log(1 + e^{-|p|})}; {@code dp = (sigmoid(p) - t) dL_i}.
     */
    SIGMOID_BINARY_CROSS_ENTROPY(false);

    private final boolean classIndexTargets;

    LossKind(boolean classIndexTargets) {
        this.classIndexTargets = classIndexTargets;
    }

    /** Whether targets are class indices {@code [n, 1]} rather than dense {@code [n, c]}. */
    public boolean classIndexTargets() {
        return classIndexTargets;
    }

    /**
     * The class index a target value names, or -1 when it names none: NaN, negative, not a whole number, or not
     * below {@code classes}. Backends give such a row a NaN loss and NaN gradients instead of reading outside it
     * (so the NaN guard skips the step); callers validate on the host where the targets enter
     * ({@code Trainer.step}).
     */
    public static int classIndex(float target, int classes) {
        return target >= 0f && target < classes && target == (float) (int) target ? (int) target : -1;
    }

    /**
     * For a heap kernel's row: when this loss takes class indices and {@code target} names no class
     * ({@link #classIndex}), fills {@code dst[from, from + count)} (the row's loss, or its gradient row) with NaN and
     * returns true, so the kernel skips the row instead of reading outside it; otherwise returns false.
     */
    public boolean nanIfNoClass(float target, int classes, float[] dst, int from, int count) {
        if (!classIndexTargets || classIndex(target, classes) >= 0) {
            return false;
        }
        java.util.Arrays.fill(dst, from, from + count, Float.NaN);
        return true;
    }
}
