package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Broadcast;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;

/**
 * Host side of {@code broadcast.cl}: binary ops whose operands broadcast, their backward, and
 * {@code sumTo}. The padded dimensions and strides of a {@link Broadcast} go to the kernel as {@code int8}
 * arguments, so a launch allocates no device memory. Everything is enqueued without waiting.
 */
final class ClBroadcast {
    /** Index modes of {@code binary_broadcast} (the {@code IDX_*} constants of {@code broadcast.cl}). */
    private static final int IDX_FLAT = 0;
    private static final int IDX_PERIOD = 1;
    private static final int IDX_REPEAT = 2;
    private static final int IDX_STRIDES = 3;

    private final ClKernels1d kernels;

    ClBroadcast(ClContext cl, ClProgramCache cache) {
        this.kernels = ClKernels1d.of(cl, cache, KernelSources.BROADCAST);
    }

    /** A rank-6 vector padded to the 8 ints of an OpenCL {@code int8}. */
    private static int[] int8(int[] rank6) {
        int[] v = new int[8];
        System.arraycopy(rank6, 0, v, 0, Broadcast.RANK);
        return v;
    }

    /** How {@code binary_broadcast} indexes operand {@code k}: {@code {mode, param}}. */
    private static void mode(Broadcast bc, int k, int[] out, int at) {
        int period;
        int repeat;
        if (bc.contiguous(k)) {
            out[at] = IDX_FLAT;
            out[at + 1] = 0;
        } else if ((period = bc.period(k)) > 0) {
            out[at] = IDX_PERIOD;
            out[at + 1] = period;
        } else if ((repeat = bc.repeat(k)) > 0) {
            out[at] = IDX_REPEAT;
            out[at + 1] = repeat;
        } else {
            out[at] = IDX_STRIDES;
            out[at + 1] = 0;
        }
    }

    /** {@code c = a op b} broadcast by {@code bc} (operand 0 = a, 1 = b). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor c, Broadcast bc) {
        int[] modes = new int[4];
        mode(bc, 0, modes, 0);
        mode(bc, 1, modes, 2);
        int n = c.size();
        kernels.run("binary_broadcast", n, n, op.ordinal(), int8(bc.dims()), int8(bc.strides(0)), int8(bc.strides(1)),
                modes, buf(a), buf(b), buf(c));
    }

    /** {@code grad (+)= sumTo(dc * d(a op b)/d(operand))} broadcast by {@code bc}. */
    void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate,
                        Broadcast bc) {
        int n = grad.size();
        kernels.run("binary_broadcast_backward", n, n, op.ordinal(), operand, int8(bc.dims()),
                int8(bc.strides(operand)), int8(bc.strides(1 - operand)), buf(a), buf(b), buf(dc), buf(grad),
                accumulate ? 1 : 0);
    }

    /** {@code y (+)= x} summed over the dimensions {@code y} (operand 0 of {@code bc}) broadcasts along. */
    void sumTo(Tensor x, Tensor y, boolean accumulate, Broadcast bc) {
        int n = y.size();
        kernels.run("sum_to", n, n, int8(bc.dims()), int8(bc.strides(0)), buf(x), buf(y), accumulate ? 1 : 0);
    }
}
