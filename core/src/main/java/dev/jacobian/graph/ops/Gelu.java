package dev.jacobian.graph.ops;

import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Node;

/**
 * GELU (Hendrycks &amp; Gimpel 2016) in its tanh approximation, as PyTorch's
 * {@code gelu(x, approximate='tanh')}:
 * {@code y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}.
 *
 * <p>Composed in core from the unary and binary primitives as graph nodes, so it runs on every backend
 * without a kernel of its own and its gradient comes from the primitives' rules — the pattern for adding an
 * activation: one class like this one, plus a gradient check.
 */
public final class Gelu {
    /** {@code sqrt(2 / pi)}. */
    static final float K = (float) Math.sqrt(2.0 / Math.PI);
    /** The cubic coefficient of the approximation. */
    static final float C = 0.044715f;

    private Gelu() {
    }

    /** Adds the nodes of {@code gelu(x)} to {@code g} and returns the output node (same shape as {@code x}). */
    public static Node apply(Graph g, Node x) {
        Node cube = g.mul(g.unary(x, UnaryOp.SQUARE), x);
        Node inner = g.add(x, g.unary(cube, UnaryOp.MUL_SCALAR, C));
        Node t = g.unary(g.unary(inner, UnaryOp.MUL_SCALAR, K), UnaryOp.TANH);
        Node onePlusT = g.unary(t, UnaryOp.ADD_SCALAR, 1f);
        return g.unary(g.mul(x, onePlusT), UnaryOp.MUL_SCALAR, 0.5f);
    }
}
