/**
 * The computation graph and its executor: nodes (inputs, parameters, operations), planning of a
 * topological order with its buffers, the forward pass and reverse-mode backpropagation.
 */
package dev.jacobian.graph;
