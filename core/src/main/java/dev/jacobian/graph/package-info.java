/**
 * The computation graph and its executor: nodes (inputs, parameters with their {@link
 * dev.jacobian.graph.Initializer}s, operations), planning of a topological order with its buffers, the
 * parameter arena ({@link dev.jacobian.graph.ParameterLayout}), the op context (workspace, train/eval, the
 * counter-based random stream), the forward pass and reverse-mode backpropagation.
 */
package dev.jacobian.graph;
