package dev.jacobian.backend;

/**
 * Elementwise binary operations {@code c = a op b} on tensors of equal shape, and which operand's
 * gradient each backward rule produces (the lecture's gates: {@code add} distributes, {@code mul} swaps,
 * {@code max} routes).
 */
public enum BinaryOp {
    /** {@code c = a + b}; {@code da = dc}, {@code db = dc}. */
    ADD,
    /** {@code c = a - b}; {@code da = dc}, {@code db = -dc}. */
    SUB,
    /** {@code c = a * b}; {@code da = dc * b}, {@code db = dc * a}. */
    MUL,
    /** {@code c = max(a, b)}; the gradient goes to {@code a} where {@code a >= b}, to {@code b} elsewhere. */
    MAX;

    /** {@code a op b} for one pair of elements. */
    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAX -> Math.max(a, b);
        };
    }

    /** The local gradient of operand 0 ({@code a}) or 1 ({@code b}), times {@code dc}. */
    public float gradient(int operand, float a, float b, float dc) {
        return switch (this) {
            case ADD -> dc;
            case SUB -> operand == 0 ? dc : -dc;
            case MUL -> operand == 0 ? dc * b : dc * a;
            case MAX -> (operand == 0) == (a >= b) ? dc : 0f;
        };
    }
}
