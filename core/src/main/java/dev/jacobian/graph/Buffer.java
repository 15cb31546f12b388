package dev.jacobian.graph;

import dev.jacobian.tensor.Shape;
import java.util.List;

/**
 * Non-trainable state of fixed shape that belongs to the model, as PyTorch's registered buffers: batch norm's
 * {@code running_mean}, {@code running_var} and {@code num_batches_tracked}. The {@link Executor} allocates and
 * initializes it from its {@link Initializer} ({@link Executor#buffer(Buffer)}); it receives no gradient, is
 * not in the parameter arena and no optimizer touches it. An operation that takes a buffer as an input may
 * update it in place in its forward pass (only there, and only when {@link OpContext#training()} holds), e.g.
 * the running statistics; nothing else writes it.
 */
public final class Buffer extends Node {
    private final Shape shape;
    private final Initializer initializer;

    Buffer(Graph graph, int id, String name, Shape shape, Initializer initializer) {
        super(graph, id, name);
        this.shape = shape;
        this.initializer = initializer;
    }

    /** The buffer's fixed shape. */
    public Shape shape() {
        return shape;
    }

    /** How the executor fills the buffer when it allocates it. */
    public Initializer initializer() {
        return initializer;
    }

    @Override
    public List<Node> inputs() {
        return List.of();
    }
}
