package dev.jacobian.nn;

import dev.jacobian.backend.Activation;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;

/**
 * One layer of a {@link Model} as built by {@link Sequential}: its affine parameters and the node its
 * output comes from (after the non-linearity), so that diagnostics can find them.
 *
 * @param name       e.g. {@code "dense1"}
 * @param kind       the non-linearity after the affine map: {@code relu}, {@code maxout}, {@code linear}, …
 * @param activation the elementwise activation, or null for PReLU, Maxout and the output layer
 * @param weight     {@code [in, out]} (for Maxout {@code [in, out*pieces]})
 * @param bias       {@code [1, out]}
 * @param slopes     PReLU slopes {@code [1, out]}, or null
 * @param output     the layer's output node
 * @param units      output units
 */
public record Layer(String name, String kind, Activation activation, Parameter weight, Parameter bias,
                    Parameter slopes, Node output, int units) {
}
