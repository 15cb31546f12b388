package dev.jacobian.graph;

import dev.jacobian.tensor.Shape;
import java.util.List;

/**
 * A batch of host data: a tensor {@code [batch, sampleShape...]} (a matrix {@code [batch, columns]} for
 * vector samples) whose batch size is chosen when the graph runs. Inputs receive no gradient.
 */
public final class Input extends Node {
    private final Shape sampleShape;

    Input(Graph graph, int id, String name, Shape sampleShape) {
        super(graph, id, name);
        if (sampleShape.rank() >= Shape.MAX_RANK) {
            throw new IllegalArgumentException("input '" + name + "': samples of shape " + sampleShape
                    + " leave no room for the batch dimension (rank at most " + (Shape.MAX_RANK - 1) + ")");
        }
        this.sampleShape = sampleShape;
    }

    /** Values per sample (the size of {@link #sampleShape()}). */
    public int columns() {
        return sampleShape.size();
    }

    /** The shape of one sample: {@code [columns]} for vectors, e.g. {@code [1, 28, 28]} for images. */
    public Shape sampleShape() {
        return sampleShape;
    }

    @Override
    public List<Node> inputs() {
        return List.of();
    }
}
