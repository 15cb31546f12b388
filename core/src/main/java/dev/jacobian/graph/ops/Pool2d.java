package dev.jacobian.graph.ops;

import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * 2-D max or average pooling of {@code x [N, C, H, W]} into {@code [N, C, OH, OW]}, as
 * {@code torch.nn.functional.max_pool2d} and {@code avg_pool2d} ({@link Pool2dSpec}): one
 * {@link dev.jacobian.backend.Backend#pool2d} forward, one {@link dev.jacobian.backend.Backend#pool2dBackward}
 * backward (max pooling recomputes each window's first maximum from {@code x}, so nothing is saved).
 *
 * @param spec window, stride, padding and kind
 */
public record Pool2d(Pool2dSpec spec) implements Operation {
    /** Checks that {@code spec} is present. */
    public Pool2d {
        if (spec == null) {
            throw new IllegalArgumentException("pool2d: spec must not be null");
        }
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        return spec.outputShape(name(), in.get(0));
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().pool2d(spec, in[0], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] != null) {
            ctx.backend().pool2dBackward(spec, in[0], dOut, dIn[0], acc[0]);
        }
    }
}
