package dev.jacobian.graph;

import dev.jacobian.tensor.Shape;
import java.util.List;

/**
 * A learnable tensor of fixed shape (a weight matrix, a bias, PReLU slopes). The {@link Executor}
 * allocates and initializes it from its {@link Initializer}; optimizers update it in place.
 *
 * <p>{@link #regularized()} says whether L2 regularization and weight decay apply: true for weights,
 * false for biases and slopes by default.
 */
public final class Parameter extends Node {
    private final Shape shape;
    private final Initializer initializer;
    private final boolean regularized;

    Parameter(Graph graph, int id, String name, Shape shape, Initializer initializer, boolean regularized) {
        super(graph, id, name);
        this.shape = shape;
        this.initializer = initializer;
        this.regularized = regularized;
    }

    /** The parameter's fixed shape (no batch dimension). */
    public Shape shape() {
        return shape;
    }

    /** How the executor fills the initial values. */
    public Initializer initializer() {
        return initializer;
    }

    /** Whether L2 regularization and weight decay apply to this parameter. */
    public boolean regularized() {
        return regularized;
    }

    @Override
    public List<Node> inputs() {
        return List.of();
    }
}
