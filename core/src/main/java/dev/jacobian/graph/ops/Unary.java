package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * {@code y = op(x; p, q)} elementwise for a {@link UnaryOp}, any rank. The backward rule is composed from
 * the same primitives: the local derivative is computed into workspace, then multiplied by {@code dy}
 * (e.g. {@code d exp = dy * y}, {@code d log = dy * (1/x)}, {@code d tanh = dy * (1 - y^2)}). At a kink the
 * derivative is PyTorch's: {@code abs'(0) = 0}, {@code sign' = step' = 0}, {@code clamp'} is 1 where
 * {@code p <= x <= q}.
 */
public record Unary(UnaryOp op, float p, float q) implements Operation {
    /** Checks that the operation is given. */
    public Unary {
        Checks.given("unary", "the operation", op);
    }

    @Override
    public String name() {
        return op.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        return in.get(0);
    }

    /** The derivative needs the input for log, square, abs and clamp. */
    @Override
    public boolean backwardReadsInput(int i) {
        return switch (op) {
            case LOG, SQUARE, ABS, CLAMP, FINITE_OR_ZERO -> true;
            default -> false;
        };
    }

    /** The derivative is taken from the output for exp, sqrt, reciprocal, tanh, sigmoid (and clamp's mask). */
    @Override
    public boolean backwardReadsOutput() {
        return switch (op) {
            case EXP, SQRT, RECIPROCAL, TANH, SIGMOID, CLAMP -> true;
            default -> false;
        };
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().unary(op, p, q, in[0], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] == null) {
            return;
        }
        Backend b = ctx.backend();
        Tensor x = in[0];
        Tensor dx = dIn[0];
        float keep = acc[0] ? 1f : 0f;
        switch (op) {
            case NEG -> b.axpby(-1f, dOut, keep, dx);
            case ADD_SCALAR -> b.axpby(1f, dOut, keep, dx);
            case MUL_SCALAR -> b.axpby(p, dOut, keep, dx);
            case SIGN, STEP -> {
                if (!acc[0]) {
                    b.fill(dx, 0f);
                }
            }
            default -> {
                Tensor local = ctx.workspace(x.shape());
                localDerivative(b, x, out, local);
                multiplyInto(b, dOut, local, dx, acc[0]);
            }
        }
    }

    /** {@code local = f'(x)} for the operations whose derivative is not a constant. */
    private void localDerivative(Backend b, Tensor x, Tensor y, Tensor local) {
        switch (op) {
            case EXP -> b.axpby(1f, y, 0f, local);
            case LOG -> b.unary(UnaryOp.RECIPROCAL, 0f, 0f, x, local);
            case SQRT -> {
                b.unary(UnaryOp.MUL_SCALAR, 2f, 0f, y, local);
                b.unary(UnaryOp.RECIPROCAL, 0f, 0f, local, local);
            }
            case RECIPROCAL -> {
                b.unary(UnaryOp.SQUARE, 0f, 0f, y, local);
                b.unary(UnaryOp.NEG, 0f, 0f, local, local);
            }
            case SQUARE -> b.unary(UnaryOp.MUL_SCALAR, 2f, 0f, x, local);
            case ABS -> b.unary(UnaryOp.SIGN, 0f, 0f, x, local);
            case CLAMP -> {
                // 1 where clamp(x) == x, else 0: 1 - sign(|x - clamp(x)|)
                b.binary(BinaryOp.SUB, x, y, local);
                b.unary(UnaryOp.ABS, 0f, 0f, local, local);
                b.unary(UnaryOp.SIGN, 0f, 0f, local, local);
                b.unary(UnaryOp.MUL_SCALAR, -1f, 0f, local, local);
                b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, local, local);
            }
            case TANH -> {
                b.unary(UnaryOp.SQUARE, 0f, 0f, y, local);
                b.unary(UnaryOp.MUL_SCALAR, -1f, 0f, local, local);
                b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, local, local);
            }
            case FINITE_OR_ZERO -> {
                // 1 where x is finite, else 0: x * 0 + 1 is NaN exactly where x is not finite
                b.unary(UnaryOp.MUL_SCALAR, 0f, 0f, x, local);
                b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, local, local);
                b.unary(UnaryOp.FINITE_OR_ZERO, 0f, 0f, local, local);
            }
            case SIGMOID -> {
                b.unary(UnaryOp.MUL_SCALAR, -1f, 0f, y, local);
                b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, local, local);
                b.binary(BinaryOp.MUL, local, y, local);
            }
            default -> throw new AssertionError(op);
        }
    }

    /**
     * {@code dst (+)= dy * local}; {@code local} is scratch and is overwritten when accumulating. Shared by
     * the composed rules of this package.
     */
    static void multiplyInto(Backend b, Tensor dy, Tensor local, Tensor dst, boolean accumulate) {
        if (accumulate) {
            b.binary(BinaryOp.MUL, dy, local, local);
            b.axpby(1f, local, 1f, dst);
        } else {
            b.binary(BinaryOp.MUL, dy, local, dst);
        }
    }
}
