package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;

/**
 * Argument checks shared by every backend, so that a shape mismatch reads the same everywhere: an
 * {@link IllegalArgumentException} naming the primitive and the shapes involved.
 */
public final class Checks {
    /** The longest Java array the JVMs allocate ({@code Integer.MAX_VALUE - 8}): a host copy holds at most this. */
    public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private Checks() {
    }

    private static IllegalArgumentException mismatch(String op, String what, Shape a, Shape b) {
        return new IllegalArgumentException(op + ": " + what + " " + a + " vs " + b);
    }

    /**
     * Throws an {@link IllegalArgumentException} "{@code op: what is null}" when {@code value} is null: a null
     * argument is named by the call it was passed to, never left to a {@link NullPointerException} in a kernel.
     */
    public static void given(String op, String what, Object value) {
        if (value == null) {
            throw new IllegalArgumentException(op + ": " + what + " is null");
        }
    }

    /** The index of the first NaN or infinite value of {@code values}, or -1 when every value is finite. */
    public static int firstNonFinite(float[] values) {
        return firstNonFinite(values, 0, values.length);
    }

    /** The index of the first NaN or infinite value of {@code values[from, to)}, or -1 when every one is finite. */
    public static int firstNonFinite(float[] values, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Throws an {@link IllegalArgumentException} naming {@code op}, the sample and the value when rows
     * {@code [firstRow, firstRow + rows)} of {@code x} ({@code columns} values each, already known to fit) hold a NaN
     * or infinite value: such an input gives no class (ReLU, for one, turns a NaN into 0). Row {@code firstRow} is
     * called sample {@code firstSample} in the message.
     */
    public static void finiteSamples(String op, float[] x, int firstRow, int rows, int columns, int firstSample) {
        int bad = firstNonFinite(x, firstRow * columns, (firstRow + rows) * columns);
        if (bad >= 0) {
            throw new IllegalArgumentException(op + ": input value " + bad % columns + " of sample "
                    + (firstSample + bad / columns - firstRow) + " is " + x[bad] + "; inputs must be finite");
        }
    }

    /** Same number of elements (the matrix views may differ). */
    public static void sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw mismatch(op, "sizes differ:", a.shape(), b.shape());
        }
    }

    /** Same matrix view {@code [rows, cols]}. */
    public static void sameMatrix(String op, Tensor a, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw mismatch(op, "shapes differ:", a.shape(), b.shape());
        }
    }

    /** {@code v} is {@code [1, x.cols]}. */
    public static void rowVectorFor(String op, Tensor x, Tensor v) {
        if (v.size() != x.cols()) {
            throw mismatch(op, "row vector must have one value per column of", x.shape(), v.shape());
        }
    }

    /** {@code dims = {m, n, k}} of {@code C = op(A) op(B)}, or an exception naming the three shapes. */
    public static int[] gemm(boolean transA, boolean transB, Tensor a, Tensor b, Tensor c) {
        int m = transA ? a.cols() : a.rows();
        int ka = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (ka != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm: cannot multiply " + (transA ? "A^T of " : "A ") + a.shape()
                    + " by " + (transB ? "B^T of " : "B ") + b.shape() + " into C " + c.shape());
        }
        if (c.buffer() == a.buffer() || c.buffer() == b.buffer()) {
            throw new IllegalArgumentException("gemm: C must not alias A or B");
        }
        return new int[] {m, n, ka};
    }

    /** The shape a reduction of {@code x} along {@code axis} must have. */
    public static void reduction(String op, Axis axis, Tensor x, Tensor y) {
        int rows = axis == Axis.COLS ? x.rows() : 1;
        int cols = axis == Axis.ROWS ? x.cols() : 1;
        if (y.rows() != rows || y.cols() != cols) {
            throw new IllegalArgumentException(op + ": reducing " + x.shape() + " along " + axis + " gives ["
                    + rows + ", " + cols + "], not " + y.shape());
        }
    }

    /** Maxout: {@code z: [m, n*pieces]}, {@code y: [m, n]}. */
    public static void maxout(String op, int pieces, Tensor z, Tensor y) {
        if (pieces < 1 || z.rows() != y.rows() || (long) y.cols() * pieces != z.cols()) {
            throw new IllegalArgumentException(op + ": " + pieces + " pieces of " + z.shape() + " do not give " + y.shape());
        }
    }

    /** Targets for {@code pred [n, c]}: {@code [n, 1]} class indices or {@code [n, c]} values, as {@code kind} needs. */
    private static void lossTargets(String op, LossKind kind, Tensor pred, Tensor target) {
        boolean targetOk = kind.classIndexTargets()
                ? target.rows() == pred.rows() && target.cols() == 1
                : target.rows() == pred.rows() && target.cols() == pred.cols();
        if (!targetOk) {
            throw mismatch(op + " (" + kind + ")", "predictions and targets do not match:", pred.shape(), target.shape());
        }
    }

    /** Loss shapes: {@code pred [n, c]}, {@code target [n, 1]} or {@code [n, c]}, {@code out [n, 1]}. */
    public static void rowLoss(String op, LossKind kind, Tensor pred, Tensor target, Tensor perRow) {
        lossTargets(op, kind, pred, target);
        if (perRow.rows() != pred.rows() || perRow.cols() != 1) {
            throw mismatch(op + " (" + kind + ")", "per-sample output must be [n, 1] for predictions", pred.shape(), perRow.shape());
        }
    }

    /** Arguments of {@link Backend#gemmBiasActivation}: {@code x [n, in]}, {@code W [in, out]}, bias {@code [1, out]}, {@code y [n, out]}. */
    public static void dense(Tensor x, Tensor w, Tensor bias, Tensor y) {
        product("gemmBiasActivation", x, w, y);
        rowVectorFor("gemmBiasActivation", y, bias);
    }

    /** {@code y = x W} fits: {@code x [n, in]}, {@code W [in, out]}, {@code y [n, out]}, or an exception naming the three. */
    private static void product(String op, Tensor x, Tensor w, Tensor y) {
        if (x.cols() != w.rows() || y.rows() != x.rows() || y.cols() != w.cols()) {
            throw new IllegalArgumentException(op + ": cannot multiply x " + x.shape() + " by W " + w.shape()
                    + " into y " + y.shape());
        }
    }

    /** Arguments of {@link Backend#denseBackward}; any gradient may be null. */
    public static void denseBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        String op = "denseBackward";
        product(op, x, w, y);
        sameMatrix(op, y, dy);
        if (dx != null) {
            sameMatrix(op, x, dx);
        }
        if (dw != null) {
            sameMatrix(op, w, dw);
        }
        if (db != null) {
            rowVectorFor(op, y, db);
        }
    }

    /** Arguments of {@link Backend#meanLoss} and {@link Backend#meanLossBackward}: the loss shapes and a scalar. */
    public static void meanLoss(String op, LossKind kind, Tensor pred, Tensor target, Tensor scalar) {
        lossTargets(op, kind, pred, target);
        if (scalar.size() != 1) {
            throw new IllegalArgumentException(op + " (" + kind + "): the mean loss is one value, got " + scalar.shape());
        }
    }

    /** A {@code [1, 1]} tensor (or null when allowed). */
    public static void scalarOrNull(String op, Tensor s) {
        if (s != null && s.size() != 1) {
            throw new IllegalArgumentException(op + ": expected a [1, 1] tensor, got " + s.shape());
        }
    }

    /** An operand index of a binary operation: 0 ({@code a}) or 1 ({@code b}). */
    public static void operand(String op, int operand) {
        if (operand != 0 && operand != 1) {
            throw new IllegalArgumentException(op + ": operand must be 0 or 1, got " + operand);
        }
    }

    // ---------------------------------------------------------------- one check per primitive

    /** Arguments of {@link Backend#addRowVector}, {@link Backend#biasActivation} and {@link Backend#prelu}. */
    public static void rowVectorOp(String op, Tensor x, Tensor v, Tensor y) {
        sameMatrix(op, x, y);
        rowVectorFor(op, x, v);
    }

    /** Arguments of {@link Backend#preluBackward}; either gradient may be null. */
    public static void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dslope) {
        rowVectorFor("preluBackward", x, slope);
        sameMatrix("preluBackward", x, dy);
        if (dx != null) {
            sameMatrix("preluBackward", x, dx);
        }
        if (dslope != null) {
            rowVectorFor("preluBackward", x, dslope);
        }
    }

    /** Arguments of {@link Backend#maxoutBackward}. */
    public static void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz) {
        maxout("maxoutBackward", pieces, z, dy);
        sameMatrix("maxoutBackward", z, dz);
    }

    /** Arguments of {@link Backend#reduce}. */
    public static void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        reduction("reduce " + op, axis, x, y);
        if (op == Reduction.ARGMAX && accumulate) {
            throw new IllegalArgumentException("reduce ARGMAX: cannot accumulate");
        }
    }

    /** Arguments of {@link Backend#reduceBackward}. */
    public static void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        reduction("reduceBackward " + op, axis, x, y);
        reduction("reduceBackward " + op, axis, x, dy);
        sameMatrix("reduceBackward " + op, x, dx);
        if (op == Reduction.ARGMAX) {
            throw new IllegalArgumentException("reduceBackward: ARGMAX is not differentiable");
        }
    }

    /** Arguments of {@link Backend#softmaxBackward}. */
    public static void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        sameMatrix("softmaxBackward", y, dy);
        sameMatrix("softmaxBackward", y, dx);
    }

    /** Arguments of {@link Backend#rowLossBackward}. */
    public static void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred) {
        rowLoss("rowLossBackward", kind, pred, target, dout);
        sameMatrix("rowLossBackward", pred, dpred);
    }

    /** Arguments of {@link Backend#sgdUpdate}. */
    public static void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        sameSize("sgdUpdate", param, grad);
        scalarOrNull("sgdUpdate", gradNormSq);
        if (u.momentum() != 0f) {
            if (velocity == null) {
                throw new IllegalArgumentException("sgdUpdate: momentum " + u.momentum() + " needs a velocity tensor");
            }
            sameSize("sgdUpdate", param, velocity);
        }
    }

    /** Arguments of {@link Backend#adaptiveUpdate}. */
    public static void adaptiveUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                      AdaptiveUpdate u) {
        if (u == null) {
            throw new IllegalArgumentException("adaptiveUpdate: the update must not be null");
        }
        sameSize("adaptiveUpdate", param, grad);
        scalarOrNull("adaptiveUpdate", gradNormSq);
        if (v == null) {
            throw new IllegalArgumentException("adaptiveUpdate: " + u.rule() + " needs a second-moment tensor");
        }
        sameSize("adaptiveUpdate", param, v);
        if (u.usesFirstMoment()) {
            if (m == null) {
                throw new IllegalArgumentException("adaptiveUpdate: " + u.rule() + " with beta1/momentum " + u.beta1()
                        + " needs a first-moment tensor");
            }
            sameSize("adaptiveUpdate", param, m);
        }
    }

    /** Bounds of a host array range {@code [offset, offset + count)}. */
    public static void hostRange(String op, float[] a, int offset, int count) {
        given(op, "host array", a);
        if (count < 0 || offset < 0 || (long) offset + count > a.length) {
            throw new IndexOutOfBoundsException(op + " of " + count + " floats at " + offset + " with a host array of "
                    + a.length);
        }
    }

    /**
     * Arguments of {@link Backend#uploadByteRows}: the arrays are given, the counts are not negative, there are offsets
     * for the rows, each row lies within {@code src}, and the rows' floats fit in {@code dst} from {@code dstOffset}.
     */
    public static void byteRows(String op, byte[] src, int[] offsets, int rows, int rowLength, Tensor dst,
                                int dstOffset) {
        if (src == null || offsets == null) {
            throw new IllegalArgumentException(op + ": " + (src == null ? "source bytes" : "row offsets") + " are null");
        }
        if (rows < 0 || rowLength < 0) {
            throw new IllegalArgumentException(op + ": " + rows + " rows of " + rowLength + " bytes");
        }
        if (rows > offsets.length) {
            throw new IllegalArgumentException(op + ": " + rows + " rows but " + offsets.length + " row offsets");
        }
        for (int r = 0; r < rows; r++) {
            int o = offsets[r];
            if (o < 0 || (long) o + rowLength > src.length) {
                throw new IndexOutOfBoundsException(op + ": row " + r + " at byte " + o + ", " + rowLength
                        + " bytes long, lies outside a source of " + src.length + " bytes");
            }
        }
        long count = (long) rows * rowLength;
        if (count > Integer.MAX_VALUE || dstOffset < 0 || dstOffset + count > dst.size()) {
            throw new IndexOutOfBoundsException(op + " of " + rows + " rows of " + rowLength + " values at " + dstOffset
                    + " with tensor " + dst.shape());
        }
    }

    /** Bounds of {@link Backend#upload} / {@link Backend#download} within a tensor. */
    public static void transfer(String op, Tensor t, int offset, int count) {
        if (count < 0 || offset < 0 || (long) offset + count > t.size()) {
            throw new IndexOutOfBoundsException(op + " of " + count + " floats at " + offset + " with tensor " + t.shape());
        }
    }

    /** Arguments of {@link Backend#permute}: {@code axes} is a permutation of the rank and {@code y} has the permuted shape. */
    public static void permute(Tensor x, int[] axes, Tensor y) {
        int rank = x.rank();
        if (axes == null || axes.length != rank) {
            throw new IllegalArgumentException("permute: axes " + java.util.Arrays.toString(axes) + " must list each of the "
                    + rank + " axes of " + x.shape() + " once");
        }
        boolean[] seen = new boolean[rank];
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            int a = axes[i];
            if (a < 0 || a >= rank || seen[a]) {
                throw new IllegalArgumentException("permute: axes " + java.util.Arrays.toString(axes)
                        + " are not a permutation of the " + rank + " axes of " + x.shape());
            }
            seen[a] = true;
            dims[i] = x.shape().dim(a);
        }
        Shape expected = Shape.of(dims);
        if (!y.shape().equals(expected)) {
            throw new IllegalArgumentException("permute: permuting " + x.shape() + " by " + java.util.Arrays.toString(axes)
                    + " gives " + expected + ", not " + y.shape());
        }
    }

    /** Arguments of {@link Backend#im2col} and {@link Backend#col2im}: the image {@code x} and its column matrix. */
    public static void im2col(String op, Conv2dSpec spec, int group, Tensor x, Tensor col) {
        if (group < 0 || group >= spec.groups()) {
            throw new IllegalArgumentException(op + ": group " + group + " is not in [0, " + spec.groups() + ")");
        }
        Shape expected = spec.columnShape(op, x.shape());
        if (!col.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": the column matrix of " + x.shape() + " (" + spec + ") is "
                    + expected + ", not " + col.shape());
        }
    }

    /**
     * Arguments of {@link Backend#conv2d} and its gradients: {@code x [N, C, H, W]} fits {@code spec}, {@code w} is
     * {@code [OC, C/groups, kH, kW]} with {@code OC} divisible by the groups, and {@code y} (called {@code yName} in
     * the message) is the convolution's output shape.
     */
    public static void conv2d(String op, Conv2dSpec spec, Tensor x, Tensor w, Tensor y, String yName) {
        spec.checkInput(op, x.shape());
        Shape ws = w.shape();
        Shape expectedW = Shape.of(ws.rank() == 4 ? ws.dim(0) : 1, x.shape().dim(1) / spec.groups(), spec.kernelH(),
                spec.kernelW());
        if (!ws.equals(expectedW) || ws.dim(0) % spec.groups() != 0) {
            throw new IllegalArgumentException(op + ": weights must be [out_channels (a multiple of " + spec.groups()
                    + "), " + expectedW.dim(1) + ", " + spec.kernelH() + ", " + spec.kernelW() + "] for input " + x.shape()
                    + " (" + spec + "), got " + ws);
        }
        Shape expected = spec.outputShape(op, x.shape(), ws.dim(0));
        if (!y.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": convolving " + x.shape() + " by " + ws + " (" + spec + ") gives "
                    + expected + ", not " + yName + " " + y.shape());
        }
    }

    /** Arguments of {@link Backend#pool2d}: {@code y} has the pooled shape of {@code x}. */
    public static void pool2d(String op, Pool2dSpec spec, Tensor x, Tensor y) {
        Shape expected = spec.outputShape(op, x.shape());
        if (!y.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": pooling " + x.shape() + " (" + spec + ") gives " + expected
                    + ", not " + y.shape());
        }
    }
}
