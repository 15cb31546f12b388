package dev.jacobian.graph;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * A differentiable operation: its shape rule, its forward computation and, right beside it, its
 * backward rule (micrograd's habit). Implementations are stateless and composed from the
 * {@link dev.jacobian.backend.Backend} primitives (reached through {@link OpContext#backend()}), so every
 * backend runs every operation. Scratch tensors come from {@link OpContext#workspace}.
 */
public interface Operation {
    /** Short name used in error messages and graph dumps, e.g. {@code "linear"}. */
    String name();

    /**
     * The output shape for the given input shapes, or an {@link IllegalArgumentException} naming this
     * operation and the offending shapes.
     */
    Shape outputShape(List<Shape> inputs);

    /** {@code out = f(in...)}; {@code out} was allocated with {@link #outputShape}. */
    void forward(OpContext ctx, Tensor[] in, Tensor out);

    /**
     * Backpropagates {@code dOut} to the inputs: for each {@code i} with {@code dIn[i] != null},
     * {@code dIn[i] (+)= dOut · d out / d in[i]} ({@code accumulate[i]} selects {@code +=}).
     * {@code dOut} belongs to this node alone: the executor reads it nowhere else, so a rule may
     * overwrite it as scratch (the fused {@code Dense} rule does).
     *
     * @param in  the forward inputs (still holding their forward values)
     * @param out the forward output
     */
    void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] accumulate);

    /**
     * Whether {@link #backward} reads the value of input {@code i} (the default, true, is always safe). An
     * operation that answers false lets the executor recycle that value's buffer after its last forward
     * reader, so its backward may use that input only for its shape, never its contents, and must not hand
     * it to a primitive together with a gradient (the buffer may by then hold one).
     */
    default boolean backwardReadsInput(int i) {
        return true;
    }

    /** Whether {@link #backward} reads the output's value; false lets the executor recycle it (see above). */
    default boolean backwardReadsOutput() {
        return true;
    }

    /** Whether input {@code i} can receive a gradient at all (false for loss targets). */
    default boolean differentiable(int input) {
        return true;
    }

    /**
     * Whether {@link #backward} leaves {@code dOut} as it found it (the default, false, lets a rule use it as
     * scratch). When the operation is a training plan's target, the executor then writes the seed
     * {@code d target = 1} once, when the plan is made, instead of before every backward pass.
     */
    default boolean preservesOutputGradient() {
        return false;
    }

    /**
     * Whether the output is a view of input 0 with another shape (reshape, flatten): the executor then
     * allocates nothing for it and never calls {@link #forward}; {@link #backward} still runs.
     */
    default boolean viewOfInput() {
        return false;
    }
}
