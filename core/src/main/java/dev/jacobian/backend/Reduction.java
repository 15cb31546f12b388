package dev.jacobian.backend;

/**
 * Reductions along an {@link Axis}. {@code MAX} and {@code ARGMAX} pick the first maximal element; the
 * backward of {@code MAX} routes the whole gradient to that element. {@code ARGMAX} writes the index as a
 * float (exact below 2^24) and has no backward.
 */
public enum Reduction {
    /** {@code y = sum x}; {@code dx = dy}. */
    SUM,
    /** {@code y = sum x / count}; {@code dx = dy / count}. */
    MEAN,
    /** {@code y = max x}; {@code dx = dy} at the first maximal element, 0 elsewhere. */
    MAX,
    /** {@code y = sum x^2}; {@code dx = 2 x dy}. */
    SUM_SQUARES,
    /** {@code y = index of the first max}; not differentiable. */
    ARGMAX
}
