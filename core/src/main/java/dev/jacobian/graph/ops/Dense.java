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

/**
 * A fully connected layer with its activation fused: {@code y = f(x W + b)}; {@code x: [n, in]},
 * {@code W: [in, out]}, {@code b: [1, out]}. Forward is one {@link Backend#gemmBiasActivation} (one launch on a
 * device backend: bias and activation in the product's epilogue); the pre-activation is never stored, because
 * {@code f'} is computed from {@code y} ({@link Activation#derivativeFromOutput}).
 *
 * <p>Backward is one {@link Backend#denseBackward}: {@code dz = dy f'(y)} (which may overwrite {@code dy}: the
 * executor hands each node's gradient to that node's backward alone), {@code dx = dz W^T}, {@code dW = x^T dz},
 * {@code db = sum over rows of dz}; two launches on a device backend.
 */
public record Dense(Activation activation, float param) implements Operation {
    /**
     * Checks that {@code activation} with {@code param} can compute its derivative from its output; an
     * {@link IllegalArgumentException} otherwise (use {@code linear} plus a separate activation).
     */
    public Dense {
        Checks.given("dense", "the activation", activation);
        if (!activation.derivativeFromOutput(param)) {
            throw new IllegalArgumentException("dense: " + activation + " with parameter " + param
                    + " needs its pre-activation for backward; use linear + activation instead");
        }
    }

    @Override
    public String name() {
        return "dense(" + activation.name().toLowerCase(Locale.ROOT) + ")";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        return new Linear().outputShape(in);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().gemmBiasActivation(in[0], in[1], in[2], activation, param, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Linear.affineBackward(ctx.backend(), activation, param, in, out, dOut, dIn, acc);
    }
}
