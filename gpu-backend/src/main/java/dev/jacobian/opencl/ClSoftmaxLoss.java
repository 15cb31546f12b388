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

    private void run(String name, int rows, int cols, Object... args) {
        int wg = groupSize(cols);
        cl_kernel k = cache.bind(KernelSources.SOFTMAX_LOSS, "-cl-std=CL1.2 -DSM_WG=" + wg, name, args);
        cl.launch(k, new long[] {(long) rows * wg}, new long[] {wg});
    }

    void softmax(Tensor x, Tensor y) {
        run("softmax_forward", x.rows(), x.cols(), x.cols(), buf(x), buf(y));
    }

    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        run("softmax_backward", y.rows(), y.cols(), y.cols(), buf(y), buf(dy), buf(dx), accumulate ? 1 : 0);
    }

    /** The kernel name prefix of a loss kind in {@code softmax_loss.cl}. */
    private static String kernelOf(LossKind kind) {
        return switch (kind) {
            case SOFTMAX_CROSS_ENTROPY -> "loss_sce";
            case SVM_HINGE -> "loss_svm";
            case MSE -> "loss_mse";
            case SIGMOID_BINARY_CROSS_ENTROPY -> "loss_bce";
        };
    }

    void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        run(kernelOf(kind), pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(out));
    }

    void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        run(kernelOf(kind) + "_backward", pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(dout), 1,
                1f, buf(dpred), accumulate ? 1 : 0);
    }

    /** The batch-mean loss in one work-group whose lanes take whole rows (one launch). */
    void meanLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        int wg = groupSize(pred.rows());
        cl_kernel k = cache.bind(KernelSources.SOFTMAX_LOSS, "-cl-std=CL1.2 -DSM_WG=" + wg, "loss_mean", pred.rows(),
                pred.cols(), kind.ordinal(), buf(pred), buf(target), buf(out));
        cl.launch(k, new long[] {wg}, new long[] {wg});
    }

    /** The per-sample backward kernel reading {@code dout[0] / n} for every row (one launch). */
    void meanLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        run(kernelOf(kind) + "_backward", pred.rows(), pred.cols(), pred.cols(), buf(pred), buf(target), buf(dout), 0,
                (float) pred.rows(), buf(dpred), accumulate ? 1 : 0);
    }
}
