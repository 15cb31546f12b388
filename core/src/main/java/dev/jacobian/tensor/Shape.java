package dev.jacobian.tensor;

import java.util.Arrays;

/**
 * The dimensions of a float32 row-major tensor of rank 0 to {@value #MAX_RANK}.
 *
 * <p>A rank-0 shape {@code []} is a scalar (one element). Matrix primitives see every tensor as a matrix:
 * {@link #rows()} is the product of all dimensions but the last, {@link #cols()} is the last one (a
 * rank-1 shape {@code [n]} is the matrix {@code [1, n]}, a rank-0 shape is {@code [1, 1]}). Elementwise
 * primitives broadcast by NumPy's rules ({@link #broadcast}). A shape is immutable; two shapes are equal
 * when their dimensions are.
 */
public final class Shape {
    /** The highest rank a tensor may have. */
    public static final int MAX_RANK = 6;

    private static final Shape SCALAR = new Shape(new int[] {1, 1});

    private final int[] dims;
    private final int size;

    private Shape(int[] dims) {
        if (dims.length > MAX_RANK) {
            throw new IllegalArgumentException("rank " + dims.length + " is above the maximum " + MAX_RANK + ": "
                    + Arrays.toString(dims));
        }
        long s = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            }
            s *= d;
            if (s > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor too large (over 2^31-1 elements): " + Arrays.toString(dims));
            }
        }
        this.dims = dims;
        this.size = (int) s;
    }

    /** A shape with the given dimensions, outermost first; no dimensions gives the rank-0 scalar shape. */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** The matrix shape {@code [rows, cols]}. */
    public static Shape matrix(int rows, int cols) {
        return new Shape(new int[] {rows, cols});
    }

    /** The shape {@code [1, 1]} of a scalar held on a backend (losses, norms). */
    public static Shape scalar() {
        return SCALAR;
    }

    /** Number of dimensions, 0 to {@value #MAX_RANK}. */
    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}, outermost first; a negative {@code i} counts from the end ({@code -1} is the last). */
    public int dim(int i) {
        int k = i < 0 ? dims.length + i : i;
        if (k < 0 || k >= dims.length) {
            throw new IndexOutOfBoundsException("dimension " + i + " of shape " + this);
        }
        return dims[k];
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements (1 for rank 0). */
    public int size() {
        return size;
    }

    /** Rows of the matrix view: the product of all dimensions but the last (1 for rank 0 and 1). */
    public int rows() {
        return dims.length == 0 ? 1 : size / dims[dims.length - 1];
    }

    /** Columns of the matrix view: the last dimension (1 for rank 0). */
    public int cols() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** Row-major strides in elements: {@code strides()[i]} is the product of the dimensions after {@code i}. */
    public int[] strides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /** The same shape with its first dimension replaced (e.g. another batch size). */
    public Shape withFirst(int first) {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a rank-0 shape has no first dimension");
        }
        int[] d = dims.clone();
        d[0] = first;
        return new Shape(d);
    }

    /** {@code [batch, this...]}: a per-sample shape with a batch dimension in front. */
    public Shape prepend(int batch) {
        int[] d = new int[dims.length + 1];
        d[0] = batch;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return new Shape(d);
    }

    /**
     * The shape with the given dimensions and the same size; one dimension may be {@code -1} and is then
     * inferred. An {@link IllegalArgumentException} names both shapes when the sizes differ.
     */
    public Shape reshape(int... newDims) {
        int[] d = newDims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + this + " to " + Arrays.toString(newDims)
                            + ": only one dimension may be -1");
                }
                infer = i;
            } else if (d[i] <= 0) {
                throw new IllegalArgumentException("reshape " + this + " to " + Arrays.toString(newDims)
                        + ": dimensions must be positive or -1");
            } else {
                known *= d[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException("reshape " + this + " to " + Arrays.toString(newDims)
                        + ": " + size + " elements do not divide into " + known);
            }
            d[infer] = (int) (size / known);
            known *= d[infer];
        }
        if (known != size) {
            throw new IllegalArgumentException("reshape " + this + " (" + size + " elements) to "
                    + Arrays.toString(newDims) + " (" + known + " elements): sizes differ");
        }
        return new Shape(d);
    }

    /**
     * The shape with dimensions {@code startDim..} merged into one: {@code [n, c, h, w]} from 1 is
     * {@code [n, c*h*w]}; an {@link IllegalArgumentException} when there is no such dimension.
     */
    public Shape flatten(int startDim) {
        if (startDim < 0 || startDim >= Math.max(1, rank())) {
            throw new IllegalArgumentException("flatten " + this + " from dimension " + startDim
                    + ": needs 0 <= startDim < rank");
        }
        int[] d = Arrays.copyOf(dims, startDim + 1);
        d[startDim] = -1;
        return reshape(d);
    }

    /**
     * Whether this shape broadcasts to {@code target} by NumPy's rules: aligned at the last dimension,
     * each of this shape's dimensions is 1 or equal to the target's, and this rank is not higher (leading
     * dimensions of 1 are ignored).
     */
    public boolean broadcastsTo(Shape target) {
        int lead = dims.length - target.dims.length;
        for (int i = 0; i < dims.length; i++) {
            int t = i - lead;
            if (t < 0) {
                if (dims[i] != 1) {
                    return false;
                }
            } else if (dims[i] != 1 && dims[i] != target.dims[t]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The shape of {@code a op b} by NumPy's broadcasting rules: aligned at the last dimension, each pair
     * equal or one of them 1; the result has the larger rank and the larger of each pair.
     *
     * @param op named in the exception when the shapes do not broadcast
     */
    public static Shape broadcast(String op, Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.rank()) >= 0 ? a.dims[i - (rank - a.rank())] : 1;
            int db = i - (rank - b.rank()) >= 0 ? b.dims[i - (rank - b.rank())] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast (dimension "
                        + (i - rank) + ": " + da + " vs " + db + ")");
            }
            out[i] = Math.max(da, db);
        }
        return new Shape(out);
    }

    /** Whether the two shapes are equal once leading dimensions of 1 are dropped ({@code [1, n]} and {@code [n]}). */
    public boolean sameIgnoringLeadingOnes(Shape other) {
        return Arrays.equals(stripLeadingOnes(dims), stripLeadingOnes(other.dims));
    }

    private static int[] stripLeadingOnes(int[] d) {
        int i = 0;
        while (i < d.length && d[i] == 1) {
            i++;
        }
        return Arrays.copyOfRange(d, i, d.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
