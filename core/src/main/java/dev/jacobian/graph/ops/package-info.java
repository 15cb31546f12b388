/**
 * The differentiable operations of the graph, one class each with its shape rule, forward and
 * backward side by side, all composed from {@link dev.jacobian.backend.Backend} primitives.
 */
package dev.jacobian.graph.ops;
