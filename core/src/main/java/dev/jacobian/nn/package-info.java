/**
 * Neural-network building blocks on top of the graph: {@link dev.jacobian.nn.Module} (a layer: its
 * parameters and its graph fragment) with {@code Dense}, activations, {@code Maxout} and {@code PRelu} as
 * modules, the {@link dev.jacobian.nn.Sequential} builder, the resulting {@link dev.jacobian.nn.Model}, and
 * per-layer diagnostics.
 */
package dev.jacobian.nn;
