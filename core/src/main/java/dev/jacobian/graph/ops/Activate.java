package dev.jacobian.graph.ops;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/** An elementwise activation {@code y = f(x)} (sigmoid, tanh, ReLU, Leaky ReLU, ELU); backward {@code dx = dy f'(x)}. */
public record Activate(Activation function, float param) implements Operation {
    /** Checks that the function is given. */
    public Activate {
        Checks.given("activation", "the function", function);
    }

    @Override
    public String name() {
        return function.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        return Shapes.unary(name(), in);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.activation(function, param, in[0], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.activationBackward(function, param, in[0], out, dOut, dIn[0], acc[0]);
        }
    }
}
