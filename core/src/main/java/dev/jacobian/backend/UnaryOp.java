package dev.jacobian.backend;

/**
 * Elementwise unary math primitives {@code y = f(x)} with up to two scalar parameters {@code p}, {@code q}
 * (ignored where a constant does not say otherwise). New activations, losses and normalizations are
 * composed in {@code core} from these, {@link BinaryOp} and the reductions, so they run on every backend
 * without new kernels. Derivatives are composed in core too (see {@code dev.jacobian.graph.ops.Unary}).
 *
 * <p>The scalar definitions below ({@link #apply}) are the reference backend's and the scalar twins'.
 */
public enum UnaryOp {
    /** {@code y = -x}. */
    NEG,
    /** {@code y = e^x}. */
    EXP,
    /** {@code y = ln x} (NaN below 0, -Inf at 0). */
    LOG,
    /** {@code y = sqrt x} (NaN below 0). */
    SQRT,
    /** {@code y = 1 / x}. */
    RECIPROCAL,
    /** {@code y = x^2}. */
    SQUARE,
    /** {@code y = |x|}. */
    ABS,
    /** {@code y = sign(x)}: -1, 0 or 1 (NaN stays NaN). */
    SIGN,
    /** {@code y = x + p}. */
    ADD_SCALAR,
    /** {@code y = p x}. */
    MUL_SCALAR,
    /** {@code y = min(max(x, p), q)} with {@code p <= q} (NaN stays NaN). */
    CLAMP,
    /** {@code y = tanh x}. */
    TANH,
    /** {@code y = 1 / (1 + e^-x)}. */
    SIGMOID,
    /**
     * {@code y = x} where {@code x} is finite, else 0 ({@code torch.nan_to_num(x, 0, 0, 0)}): the select that
     * composed rules need to keep a NaN or infinity from spreading (the optimizer's guard).
     */
    FINITE_OR_ZERO,
    /**
     * {@code y = x >= p ? q : 0} (NaN gives 0): a threshold select. Dropout turns uniform draws into its scaled
     * keep mask with it ({@code p} the drop probability, {@code q = 1 / (1 - p)}). Its derivative is 0.
     */
    STEP;

    /** The scalar definition. */
    public float apply(float x, float p, float q) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RECIPROCAL -> 1f / x;
            case SQUARE -> x * x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case ADD_SCALAR -> x + p;
            case MUL_SCALAR -> p * x;
            case CLAMP -> Float.isNaN(x) ? x : Math.min(Math.max(x, p), q);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case FINITE_OR_ZERO -> Float.isFinite(x) ? x : 0f;
            case STEP -> x >= p ? q : 0f;
        };
    }
}
