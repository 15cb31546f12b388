package dev.jacobian.backend;

/**
 * The complete list of kernels a {@link Backend} implements, in one place (tinygrad's idea: a small
 * primitive set; layers, losses and optimizers are composed from these in {@code core}). Each constant
 * names the {@link Backend} method that implements it.
 */
public enum Primitive {
    FILL, COPY, AXPBY,
    UNARY, RANDOM_UNIFORM,
    BINARY, BINARY_BACKWARD, SUM_TO,
    ACTIVATION, ACTIVATION_BACKWARD,
    ADD_ROW_VECTOR, BIAS_ACTIVATION,
    PRELU, PRELU_BACKWARD,
    MAXOUT, MAXOUT_BACKWARD,
    GEMM,
    REDUCE, REDUCE_BACKWARD,
    SOFTMAX, SOFTMAX_BACKWARD,
    ROW_LOSS, ROW_LOSS_BACKWARD,
    SGD_UPDATE, ADAPTIVE_UPDATE
}
