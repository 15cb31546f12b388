package dev.jacobian.graph.ops;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * Global average pooling: the mean of each channel's plane, {@code [N, C, H, W] -> [N, C]}, as
 * {@code torch.nn.AdaptiveAvgPool2d(1)} followed by a flatten. One row-mean reduction over the input seen as
 * {@code [N C, H W]} (views, no copy); its backward spreads each gradient evenly over the plane.
 */
public record GlobalAvgPool() implements Operation {
    @Override
    public String name() {
        return "global_avg_pool";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        Shape x = in.get(0);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(name() + ": expects an input [N, C, H, W] of rank 4, got " + x);
        }
        return Shape.matrix(x.dim(0), x.dim(1));
    }

    private static Tensor planes(Tensor x) {
        Shape s = x.shape();
        return x.reshape(s.dim(0) * s.dim(1), s.dim(2) * s.dim(3));
    }


    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        try (Tensor x = planes(in[0]); Tensor y = out.reshape(x.rows(), 1)) {
            ctx.backend().reduce(Reduction.MEAN, Axis.COLS, x, y, false);
        }
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] == null) {
            return;
        }
        try (Tensor x = planes(in[0]); Tensor dx = planes(dIn[0]); Tensor y = out.reshape(x.rows(), 1);
             Tensor dy = dOut.reshape(x.rows(), 1)) {
            ctx.backend().reduceBackward(Reduction.MEAN, Axis.COLS, x, y, dy, dx, acc[0]);
        }
    }
}
