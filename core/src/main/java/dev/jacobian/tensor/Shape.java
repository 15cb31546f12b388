package dev.jacobian.tensor;

import java.util.Arrays;

/**
 * The dimensions of a float32 row-major tensor.
 *
 * <p>Backends see every tensor as a matrix: {@link #rows()} is the product of all dimensions but the
 * last, {@link #cols()} is the last one (a rank-1 shape {@code [n]} is the matrix {@code [1, n]}). A
 * shape is immutable; two shapes are equal when their dimensions are.
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a shape needs at least one dimension");
        }
        long size = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            }
            size *= d;
            if (size > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor too large (over 2^31-1 elements): " + Arrays.toString(dims));
            }
        }
        this.dims = dims;
    }

    /** A shape with the given dimensions, outermost first. */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** The matrix shape {@code [rows, cols]}. */
    public static Shape matrix(int rows, int cols) {
        return new Shape(new int[] {rows, cols});
    }

    /** The shape {@code [1, 1]} of a scalar held on a backend. */
    public static Shape scalar() {
        return matrix(1, 1);
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i];
    }

    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public int size() {
        int s = 1;
        for (int d : dims) {
            s *= d;
        }
        return s;
    }

    /** Rows of the matrix view: the product of all dimensions but the last. */
    public int rows() {
        return size() / dims[dims.length - 1];
    }

    /** Columns of the matrix view: the last dimension. */
    public int cols() {
        return dims[dims.length - 1];
    }

    /** The same shape with its first dimension replaced (e.g. another batch size). */
    public Shape withFirst(int first) {
        int[] d = dims.clone();
        d[0] = first;
        return new Shape(d);
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
