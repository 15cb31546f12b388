package dev.jacobian.backend;

/**
 * Elementwise activation functions, forward {@code y = f(x)} and backward {@code dx = dy * f'(x)}.
 *
 * <p>{@code param} is the Leaky ReLU slope or the ELU alpha, ignored by the others. The derivative at a
 * kink ({@code x == 0}) is the left one: ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = alpha.
 */
public enum Activation {
    /** {@code y = x}. */
    IDENTITY,
    /** {@code y = 1 / (1 + e^-x)}; {@code f' = y (1 - y)}. */
    SIGMOID,
    /** {@code y = tanh x}; {@code f' = 1 - y^2}. */
    TANH,
    /** {@code y = max(0, x)}; {@code f' = [x > 0]}. */
    RELU,
    /** {@code y = x > 0 ? x : param * x}; {@code f' = x > 0 ? 1 : param}. */
    LEAKY_RELU,
    /** {@code y = x > 0 ? x : param (e^x - 1)}; {@code f' = x > 0 ? 1 : y + param}. */
    ELU;

    /**
     * Whether {@code f'} can be computed from the output alone ({@code x > 0} exactly when {@code y > 0}
     * and the rest depends on {@code y}): then a layer need not keep its pre-activation for backward.
     * True for all but a Leaky ReLU with a non-positive slope or an ELU with a non-positive alpha.
     */
    public boolean derivativeFromOutput(float param) {
        return switch (this) {
            case LEAKY_RELU, ELU -> param > 0f;
            default -> true;
        };
    }

    /** The scalar definition, shared by the reference backend and the scalar twins of vector kernels. */
    public float apply(float x, float param) {
        return switch (this) {
            case IDENTITY -> x;
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case TANH -> (float) Math.tanh(x);
            case RELU -> x > 0f ? x : 0f;
            case LEAKY_RELU -> x > 0f ? x : param * x;
            case ELU -> x > 0f ? x : (float) (param * Math.expm1(x));
        };
    }

    /** The derivative {@code f'} in terms of the input {@code x} and the output {@code y}. */
    public float derivative(float x, float y, float param) {
        return switch (this) {
            case IDENTITY -> 1f;
            case SIGMOID -> y * (1f - y);
            case TANH -> 1f - y * y;
            case RELU -> x > 0f ? 1f : 0f;
            case LEAKY_RELU -> x > 0f ? 1f : param;
            case ELU -> x > 0f ? 1f : y + param;
        };
    }
}
