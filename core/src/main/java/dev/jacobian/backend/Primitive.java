package dev.jacobian.backend;

/**
 * The complete list of kernels a {@link Backend} implements, in one place (tinygrad's idea: a small
 * primitive set; layers, losses and optimizers are composed from these in {@code core}). Each constant
 * names the {@link Backend} method that implements it.
 */
public enum Primitive {
    /** {@link Backend#fill}: every element set to one value. */
    FILL,
    /**
     * {@link Backend#copy(dev.jacobian.tensor.Tensor, int, dev.jacobian.tensor.Tensor, int, int)}: a flat range
     * copied on the device.
     */
    COPY,
    /** {@link Backend#axpby}: {@code y = alpha * x + beta * y}. */
    AXPBY,
    /** {@link Backend#unary}: an elementwise {@link UnaryOp} with its parameters {@code p}, {@code q}. */
    UNARY,
    /** {@link Backend#randomUniform}: Philox uniform floats in {@code [0, 1)}. */
    RANDOM_UNIFORM,
    /** {@link Backend#binary}: an elementwise {@link BinaryOp} with broadcasting. */
    BINARY,
    /** {@link Backend#binaryBackward}: the gradient of a {@link BinaryOp} with respect to one operand. */
    BINARY_BACKWARD,
    /** {@link Backend#sumTo}: the sum over broadcast dimensions (the backward of broadcasting). */
    SUM_TO,
    /** {@link Backend#activation}: an elementwise {@link Activation}. */
    ACTIVATION,
    /** {@link Backend#activationBackward}: the gradient of an {@link Activation}. */
    ACTIVATION_BACKWARD,
    /** {@link Backend#addRowVector}: a {@code [1, n]} bias added to every row. */
    ADD_ROW_VECTOR,
    /** {@link Backend#biasActivation}: the fused bias and activation of a dense layer. */
    BIAS_ACTIVATION,
    /** {@link Backend#prelu}: PReLU with one slope per column. */
    PRELU,
    /** {@link Backend#preluBackward}: the PReLU gradients for the input and the slopes. */
    PRELU_BACKWARD,
    /** {@link Backend#maxout}: the maximum over groups of adjacent columns. */
    MAXOUT,
    /** {@link Backend#maxoutBackward}: the maxout gradient, routed to each group's first maximum. */
    MAXOUT_BACKWARD,
    /** {@link Backend#gemm}: the general matrix product {@code C = alpha * op(A) * op(B) + beta * C}. */
    GEMM,
    /** {@link Backend#gemmBiasActivation}: a dense layer's forward, {@code f(x W + b)}, bias and activation fused. */
    GEMM_BIAS_ACTIVATION,
    /** {@link Backend#denseBackward}: a dense layer's three gradients, the activation's derivative fused. */
    DENSE_BACKWARD,
    /** {@link Backend#reduce}: a {@link Reduction} along rows, columns or all elements. */
    REDUCE,
    /** {@link Backend#reduceBackward}: the gradient of a {@link Reduction}. */
    REDUCE_BACKWARD,
    /** {@link Backend#softmax}: row-wise softmax. */
    SOFTMAX,
    /** {@link Backend#softmaxBackward}: the softmax gradient, given the forward output. */
    SOFTMAX_BACKWARD,
    /** {@link Backend#rowLoss}: a per-sample {@link LossKind} loss, one value per row. */
    ROW_LOSS,
    /** {@link Backend#rowLossBackward}: the gradient of a per-sample loss with respect to the prediction. */
    ROW_LOSS_BACKWARD,
    /** {@link Backend#meanLoss}: the batch-mean of a per-sample loss, one scalar. */
    MEAN_LOSS,
    /** {@link Backend#meanLossBackward}: the gradient of the batch-mean loss. */
    MEAN_LOSS_BACKWARD,
    /** {@link Backend#sgdUpdate}: one fused {@link SgdUpdate} step on one parameter. */
    SGD_UPDATE,
    /** {@link Backend#adaptiveUpdate}: one fused Adam, AdamW or RMSprop ({@link AdaptiveUpdate}) step. */
    ADAPTIVE_UPDATE,
    /** {@link Backend#permute}: a tensor with its axes reordered. */
    PERMUTE,
    /** {@link Backend#im2col}: the column matrix of one convolution group ({@link Conv2dSpec}). */
    IM2COL,
    /** {@link Backend#col2im}: the adjoint of {@code im2col}, summing columns back into an image gradient. */
    COL2IM,
    /**
     * {@link Backend#conv2d}: a direct convolution, optional ({@link Backend#directConv2d} says for which geometries a
     * backend has one; the {@code Conv2d} op otherwise lowers to {@code im2col} and {@code gemm}).
     */
    CONV2D,
    /** {@link Backend#conv2dBackwardData}: the input gradient of a direct convolution (optional, as {@link #CONV2D}). */
    CONV2D_BACKWARD_DATA,
    /** {@link Backend#conv2dBackwardWeights}: the weight gradient of a direct convolution (optional, as {@link #CONV2D}). */
    CONV2D_BACKWARD_WEIGHTS,
    /** {@link Backend#pool2d}: 2-D max or average pooling ({@link Pool2dSpec}). */
    POOL2D,
    /** {@link Backend#pool2dBackward}: the gradient of 2-D pooling. */
    POOL2D_BACKWARD
}
