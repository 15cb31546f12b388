package dev.jacobian.data;

import java.util.Arrays;

/** Checks and index arithmetic shared by the data sets and their views. */
final class Subsets {
    private Subsets() {
    }

    /** A copy of {@code indices}, each checked to lie in {@code [0, size)} of the set called {@code name}. */
    static int[] checked(int[] indices, int size, String name) {
        int[] copy = indices.clone();
        for (int j = 0; j < copy.length; j++) {
            if (copy[j] < 0 || copy[j] >= size) {
                throw new IndexOutOfBoundsException(name + ": index " + copy[j] + " at position " + j
                        + " is outside the " + size + " samples");
            }
        }
        return copy;
    }

    /**
     * {@code index} when it lies in {@code [0, size)}, else an {@link IndexOutOfBoundsException} naming the set
     * {@code name} and the sample.
     */
    static int sample(int index, int size, String name) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(name + ": sample " + index + " is outside the " + size + " samples");
        }
        return index;
    }

    /**
     * Checks that a sample of {@code features} values fits in {@code dst} from {@code dstOffset}, else an
     * {@link IndexOutOfBoundsException} naming the set {@code name}.
     */
    static void checkDestination(String name, int features, float[] dst, int dstOffset) {
        if (dstOffset < 0 || (long) dstOffset + features > dst.length) {
            throw new IndexOutOfBoundsException(name + ": a sample of " + features + " values does not fit at offset "
                    + dstOffset + " of an array of " + dst.length);
        }
    }

    /**
     * Checks that a batch of {@code count} samples of {@code features} values each fits in {@code dst} from
     * {@code dstOffset}, else an {@link IndexOutOfBoundsException} naming the set {@code name}.
     */
    static void checkDestination(String name, int count, int features, float[] dst, int dstOffset) {
        long values = (long) count * features;
        if (dstOffset < 0 || dstOffset + values > dst.length) {
            throw new IndexOutOfBoundsException(name + ": a batch of " + count + " samples (" + values
                    + " values) does not fit at offset " + dstOffset + " of an array of " + dst.length);
        }
    }

    /** {@code 0, 1, ..., min(n, size) - 1}. */
    static int[] range(int n, int size) {
        if (n < 0) {
            throw new IllegalArgumentException("cannot take " + n + " samples");
        }
        int[] idx = new int[Math.min(n, size)];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return idx;
    }

    /** The product of {@code shape}: at least one dimension, each at least 1, the product within an int. */
    static int features(String name, int[] shape) {
        if (shape.length == 0) {
            throw new IllegalArgumentException(name + ": a sample shape needs at least one dimension");
        }
        long f = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(name + ": sample shape " + Arrays.toString(shape) + " has a size below 1");
            }
            f *= d;
            if (f > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ": sample shape " + Arrays.toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " values");
            }
        }
        return (int) f;
    }

    /**
     * Checks that {@code values} holds exactly {@code samples * features} entries and every label is {@code >= 0};
     * {@code what} names the values for the message.
     */
    static void checkArrays(String name, long values, int features, int[] labels, String what) {
        if ((long) labels.length * features != values) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels need " + (long) labels.length
                    * features + " " + what + " (" + features + " per sample), got " + values);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of sample " + i + " is negative");
            }
        }
    }
}
