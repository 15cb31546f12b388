package dev.jacobian.graph;

import java.util.List;

/**
 * A value in a {@link Graph}: an {@link Input} fed from the host, a learnable {@link Parameter}, a
 * non-trainable {@link Buffer} (running statistics), or an {@link OpNode} computed from other nodes. Nodes are immutable and compared by identity; their
 * tensors live in an {@link Executor}.
 */
public abstract sealed class Node permits Input, Parameter, Buffer, OpNode {
    private final Graph graph;
    private final int id;
    private final String name;

    Node(Graph graph, int id, String name) {
        this.graph = graph;
        this.id = id;
        this.name = name;
    }

    /** The graph that made this node. */
    public Graph graph() {
        return graph;
    }

    /** Position in creation order (unique within the graph). */
    public int id() {
        return id;
    }

    /** The name given at creation (for an {@link OpNode}, its operation's name); not necessarily unique. */
    public String name() {
        return name;
    }

    /** The nodes this one is computed from (empty for inputs and parameters). */
    public abstract List<Node> inputs();

    @Override
    public String toString() {
        return name + "#" + id;
    }
}
