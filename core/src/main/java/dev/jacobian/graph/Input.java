package dev.jacobian.graph;

import java.util.List;

/**
 * A batch of host data: a matrix {@code [batch, columns]} whose row count is chosen when the graph
 * runs. Inputs receive no gradient.
 */
public final class Input extends Node {
    private final int columns;

    Input(Graph graph, int id, String name, int columns) {
        super(graph, id, name);
        if (columns <= 0) {
            throw new IllegalArgumentException("input '" + name + "' needs a positive column count, got " + columns);
        }
        this.columns = columns;
    }

    /** Values per sample. */
    public int columns() {
        return columns;
    }

    @Override
    public List<Node> inputs() {
        return List.of();
    }
}
