package dev.jacobian.graph;

import java.util.List;

/** A node computed by an {@link Operation} from its input nodes. */
public final class OpNode extends Node {
    private final Operation operation;
    private final List<Node> inputs;

    OpNode(Graph graph, int id, String name, Operation operation, List<Node> inputs) {
        super(graph, id, name);
        this.operation = operation;
        this.inputs = List.copyOf(inputs);
    }

    /** The operation that computes this node from its {@link #inputs()}. */
    public Operation operation() {
        return operation;
    }

    @Override
    public List<Node> inputs() {
        return inputs;
    }
}
