package dev.jacobian.graph.ops;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * A fully connected layer with its activation fused: {@code y = f(x W + b)}; {@code x: [n, in]},
 * {@code W: [in, out]}, {@code b: [1, out]}. Forward is one GEMM and one fused bias+activation pass
 * written in place; the pre-activation is never stored, because {@code f'} is computed from {@code y}
 * ({@link Activation#derivativeFromOutput}).
 *
 * <p>Backward turns {@code dy} into {@code dz = dy f'(y)} <em>in place</em> (the executor hands each
 * node's gradient to that node's backward alone), then {@code dx = dz W^T}, {@code dW = x^T dz},
 * {@code db = sum over rows of dz}.
 */
public record Dense(Activation activation, float param) implements Operation {
    /**
     * Checks that {@code activation} with {@code param} can compute its derivative from its output; an
     * {@link IllegalArgumentException} otherwise (use {@code linear} plus a separate activation).
     */
    public Dense {
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
        Backend b = ctx.backend();
        b.gemm(false, false, 1f, in[0], in[1], 0f, out);
        b.biasActivation(out, in[2], activation, param, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (activation != Activation.IDENTITY) {
            b.activationBackward(activation, param, out, out, dOut, dOut, false);
        }
        Linear.affineBackward(b, in, dOut, dIn, acc);
    }
}
