package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * {@code c = a op b} elementwise with NumPy broadcasting (see {@link BinaryOp}): add, subtract, multiply,
 * max. The output has the broadcast shape; an operand that was broadcast gets its gradient summed over the
 * broadcast dimensions ({@link Backend#sumTo}, or {@link Backend#binaryBackward} which sums as it goes).
 */
public record Elementwise(BinaryOp op) implements Operation {
    @Override
    public String name() {
        return op.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        Shape a = in.get(0);
        Shape b = in.get(1);
        if (a.equals(b)) {
            return a;
        }
        return Shape.broadcast(name(), a, b);
    }

    /** Add and subtract need no forward values; multiply and max read both operands. */
    @Override
    public boolean backwardReadsInput(int i) {
        return op == BinaryOp.MUL || op == BinaryOp.MAX;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().binary(op, in[0], in[1], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        for (int i = 0; i < 2; i++) {
            if (dIn[i] == null) {
                continue;
            }
            boolean broadcast = in[i].size() != out.size();
            float keep = acc[i] ? 1f : 0f;
            if (op == BinaryOp.ADD || (op == BinaryOp.SUB && i == 0)) {
                if (broadcast) {
                    b.sumTo(dOut, dIn[i], acc[i]);
                } else {
                    b.axpby(1f, dOut, keep, dIn[i]);
                }
            } else if (op == BinaryOp.SUB) {
                if (broadcast) {
                    Tensor sum = ctx.workspace(dIn[i].shape());
                    b.sumTo(dOut, sum, false);
                    b.axpby(-1f, sum, keep, dIn[i]);
                } else {
                    b.axpby(-1f, dOut, keep, dIn[i]);
                }
            } else {
                b.binaryBackward(op, i, in[0], in[1], dOut, dIn[i], acc[i]);
            }
        }
    }
}
