package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.GradientOnly;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/** {@code y = c x} for a constant {@code c}; backward {@code dx = c dy}. */
public record Scale(float factor) implements GradientOnly {
    @Override
    public String name() {
        return "scale";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        return Shapes.unary(name(), in);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.axpby(factor, in[0], 0f, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.axpby(factor, dOut, acc[0] ? 1f : 0f, dIn[0]);
        }
    }
}
