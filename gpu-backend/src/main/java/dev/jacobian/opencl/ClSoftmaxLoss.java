package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.LossKind;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import org.jocl.cl_kernel;

/**
 * Host side of {@code softmax_loss.cl}: row softmax and its backward, the per-sample losses (softmax–cross-
 * entropy fused from the logits) and their backward. One work-group per row; its size {@code SM_WG} is a
 * power of two chosen from the row length (8, 32, 128 or 256, capped by the device), so short rows such as
 * ten class scores do not occupy 256 lanes.
 */
final class ClSoftmaxLoss {
    private final ClContext cl;
    private final ClProgramCache cache;
    private final int maxWg;

    ClSoftmaxLoss(ClContext cl, ClProgramCache cache) {
        this.cl = cl;
        this.cache = cache;
        this.maxWg = Integer.highestOneBit((int) Math.min(256, cl.device().maxWorkGroupSize()));
    }

    private int groupSize(int cols) {
        int wanted = cols <= 8 ? 8 : cols <= 32 ? 32 : cols <= 128 ? 128 : 256;
        return Math.min(wanted, maxWg);
    }

    /** Build options per work-group size, made once (index: log2 of the size). */
    private final String[] options = new String[9];

    /** Launches {@code name} on {@code groups} work-groups of {@code wg} lanes. */
    private void launch(String name, int groups, int wg, Object... args) {
        int log = Integer.numberOfTrailingZeros(wg);
        if (options[log] == null) {
            options[log] = "-cl-std=CL1.2 -DSM_WG=" + wg;
        }
        cl_kernel k = cache.bind(KernelSources.SOFTMAX_LOSS, options[log], name, args);
        cl.launch(k, new long[] {(long) groups * wg}, new long[] {wg});
    }

    /** One work-group per row, sized for rows of {@code cols} values. */
    private void run(String name, int rows, int cols, Object... args) {
        launch(name, rows, groupSize(cols), args);
    }

    void softmax(Tensor x, Tensor y) {
        run("softmax_forward", x.rows(), x.cols(), x.cols(), buf(x), buf(y));
    }

    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        run("softmax_backward", y.rows(), y.cols(), y.cols(), buf(y), buf(dy), buf(dx), accumulate ? 1 : 0);
    }

    /** The loss kernel of a kind in {@code softmax_loss.cl}. */
    private static String kernelOf(LossKind kind) {
        return switch (kind) {
            case SOFTMAX_CROSS_ENTROPY -> "loss_sce";
            case SVM_HINGE -> "loss_svm";
            case MSE -> "loss_mse";
            case SIGMOID_BINARY_CROSS_ENTROPY -> "loss_bce";
        };
    }

    /** Its backward kernel, which reads each row's gradient as {@code dout[row * dstride] / ddiv}. */
    private static String backwardOf(LossKind kind) {
        return switch (kind) {
            case SOFTMAX_CROSS_ENTROPY -> "loss_sce_backward";
            case SVM_HINGE -> "loss_svm_backward";
            case MSE -> "loss_mse_backward";
            case SIGMOID_BINARY_CROSS_ENTROPY -> "loss_bce_backward";
        };
    }

    void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        run(kernelOf(kind), pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(out));
    }

    void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        run(backwardOf(kind), pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(dout), 1,
                1f, buf(dpred), accumulate ? 1 : 0);
    }

    /** The batch-mean loss in one work-group whose lanes take whole rows (one launch). */
    void meanLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        launch("loss_mean", 1, groupSize(pred.rows()), pred.rows(), pred.cols(), kind.ordinal(), buf(pred), buf(target),
                buf(out));
    }

    /** The per-sample backward kernel reading {@code dout[0] / n} for every row (one launch). */
    void meanLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        run(backwardOf(kind), pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(dout), 0,
                (float) pred.rows(), buf(dpred), accumulate ? 1 : 0);
    }
}
