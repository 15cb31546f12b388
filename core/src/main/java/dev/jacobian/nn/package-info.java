/**
 * Neural-network building blocks on top of the graph: weight initializers, the {@link
 * dev.jacobian.nn.Sequential} MLP builder, the resulting {@link dev.jacobian.nn.Model}, and
 * per-layer diagnostics.
 */
package dev.jacobian.nn;
