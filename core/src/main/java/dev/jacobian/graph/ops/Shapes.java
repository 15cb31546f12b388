package dev.jacobian.graph.ops;

import dev.jacobian.tensor.Shape;
import java.util.List;

/** Shape checks shared by the operations: every failure names the operation and the shapes. */
final class Shapes {
    private Shapes() {
    }

    static void arity(String op, List<Shape> in, int n) {
        if (in.size() != n) {
            throw new IllegalArgumentException(op + ": expects " + n + " inputs, got " + in.size() + " " + in);
        }
    }

    /** An elementwise unary operation: one input, the output has its shape (an image stays [N, C, H, W]). */
    static Shape unary(String op, List<Shape> in) {
        arity(op, in, 1);
        return in.get(0);
    }

    static Shape same(String op, Shape a, Shape b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException(op + ": shapes differ: " + a + " vs " + b);
        }
        return Shape.matrix(a.rows(), a.cols());
    }

    static void rowVector(String op, Shape x, Shape v) {
        if (v.size() != x.cols()) {
            throw new IllegalArgumentException(op + ": expects a [1, " + x.cols() + "] row vector for input " + x + ", got " + v);
        }
    }
}
