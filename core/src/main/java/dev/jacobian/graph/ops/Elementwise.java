package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/** {@code c = a op b} elementwise on equal shapes: add, subtract, multiply, max (see {@link BinaryOp}). */
public record Elementwise(BinaryOp op) implements Operation {
    @Override
    public String name() {
        return op.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        return Shapes.same(name(), in.get(0), in.get(1));
    }

    @Override
    public void forward(Backend b, Tensor[] in, Tensor out) {
        b.binary(op, in[0], in[1], out);
    }

    @Override
    public void backward(Backend b, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        for (int i = 0; i < 2; i++) {
            if (dIn[i] != null) {
                if (op == BinaryOp.ADD || (op == BinaryOp.SUB && i == 0)) {
                    b.axpby(1f, dOut, acc[i] ? 1f : 0f, dIn[i]);
                } else {
                    b.binaryBackward(op, i, in[0], in[1], dOut, dIn[i], acc[i]);
                }
            }
        }
    }
}
