package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;

/**
 * Host side of {@code elementwise.cl}: fill, copy, axpby, unary math, binary ops on equal sizes,
 * activations, bias add, PReLU and maxout, forward and backward. One work-item per element; arguments are
 * already checked by {@link dev.jacobian.backend.AbstractBackend}. Everything is enqueued without waiting.
 */
final class ClElementwise {
    private final ClKernels1d kernels;

    ClElementwise(ClContext cl, ClProgramCache cache) {
        this.kernels = ClKernels1d.of(cl, cache, KernelSources.ELEMENTWISE);
    }

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    void fill(Tensor x, float value) {
        kernels.run("fill", x.size(), x.size(), value, buf(x));
    }

    void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        if (count > 0) {
            kernels.run("copy", count, count, buf(src), srcOffset, buf(dst), dstOffset);
        }
    }

    /** {@code dst[dstOffset + i] = table[bytes[i]]} for {@code i < count}: {@code bytes} read as unsigned bytes. */
    void bytesToFloats(int count, Tensor bytes, Tensor table, Tensor dst, int dstOffset) {
        kernels.run("bytes_to_floats", count, count, buf(bytes), buf(table), buf(dst), dstOffset);
    }

    void axpby(float alpha, Tensor x, float beta, Tensor y) {
        kernels.run("axpby", x.size(), x.size(), alpha, buf(x), beta, buf(y));
    }

    void unary(UnaryOp op, float p, float q, Tensor x, Tensor y) {
        kernels.run("unary_forward", x.size(), x.size(), op.ordinal(), p, q, buf(x), buf(y));
    }

    void binary(BinaryOp op, Tensor a, Tensor b, Tensor c) {
        kernels.run("binary_forward", a.size(), a.size(), op.ordinal(), buf(a), buf(b), buf(c));
    }

    void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate) {
        kernels.run("binary_backward", a.size(), a.size(), op.ordinal(), operand, buf(a), buf(b), buf(dc), buf(grad),
                flag(accumulate));
    }

    void activation(Activation f, float param, Tensor x, Tensor y) {
        kernels.run("activation_forward", x.size(), x.size(), f.ordinal(), param, buf(x), buf(y));
    }

    void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        kernels.run("activation_backward", x.size(), x.size(), f.ordinal(), param, buf(x), buf(y), buf(dy), buf(dx),
                flag(accumulate));
    }

    void biasActivation(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        kernels.run("bias_activation", x.size(), x.size(), x.cols(), f.ordinal(), param, buf(x), buf(bias), buf(y));
    }

    void addRowVector(Tensor x, Tensor bias, Tensor y) {
        kernels.run("add_row_vector", x.size(), x.size(), x.cols(), buf(x), buf(bias), buf(y));
    }

    void prelu(Tensor x, Tensor slope, Tensor y) {
        kernels.run("prelu_forward", x.size(), x.size(), x.cols(), buf(x), buf(slope), buf(y));
    }

    void preluBackwardInput(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulate) {
        kernels.run("prelu_backward_input", x.size(), x.size(), x.cols(), buf(x), buf(slope), buf(dy), buf(dx),
                flag(accumulate));
    }

    void preluBackwardSlope(Tensor x, Tensor dy, Tensor dslope, boolean accumulate) {
        kernels.run("prelu_backward_slope", x.cols(), x.rows(), x.cols(), buf(x), buf(dy), buf(dslope),
                flag(accumulate));
    }

    void maxout(int pieces, Tensor z, Tensor y) {
        kernels.run("maxout_forward", y.size(), y.size(), pieces, buf(z), buf(y));
    }

    void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        kernels.run("maxout_backward", dy.size(), dy.size(), pieces, buf(z), buf(dy), buf(dz), flag(accumulate));
    }
}
