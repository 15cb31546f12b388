package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;
import java.util.Arrays;

/**
 * How operands broadcast to an output shape by NumPy's rules, precomputed once per primitive call by
 * {@link AbstractBackend} and handed to the kernel hooks.
 *
 * <p>Dimensions are right-aligned and padded on the left with 1s to rank {@value #RANK}: {@link #dims()} is
 * the output shape, {@link #strides(int)} an operand's row-major strides in elements, 0 along every
 * dimension it is broadcast. Element {@code i} (flat, row-major) of the output reads element
 * {@link #index(int, int) index(operand, i)} of the operand.
 *
 * <p>Kernels pick a fast path from {@link #contiguous(int)} (the operand has the output's shape),
 * {@link #period(int)} (the operand repeats every {@code period} elements, e.g. a bias row) and
 * {@link #repeat(int)} (each operand element covers {@code repeat} consecutive output elements, e.g. a
 * per-row scale), and fall back to {@link #index} otherwise.
 */
public final class Broadcast {
    /** The padded rank every descriptor uses. */
    public static final int RANK = Shape.MAX_RANK;

    private final Shape out;
    private final int[] dims = new int[RANK];
    private final int[][] strides;
    private final Shape[] operands;

    private Broadcast(Shape out, Shape... operands) {
        this.out = out;
        this.operands = operands;
        int lead = RANK - out.rank();
        Arrays.fill(dims, 1);
        for (int i = 0; i < out.rank(); i++) {
            dims[lead + i] = out.dim(i);
        }
        strides = new int[operands.length][RANK];
        for (int k = 0; k < operands.length; k++) {
            Shape s = operands[k];
            int[] st = s.strides();
            int off = RANK - s.rank();
            for (int i = 0; i < s.rank(); i++) {
                strides[k][off + i] = s.dim(i) == 1 ? 0 : st[i];
            }
        }
    }

    /**
     * The descriptor of {@code c = a op b}: {@code c} must have the broadcast shape of {@code a} and
     * {@code b} (leading 1s aside), or an {@link IllegalArgumentException} names {@code op} and the three shapes.
     */
    public static Broadcast of(String op, Shape a, Shape b, Shape c) {
        Shape full = Shape.broadcast(op, a, b);
        if (!full.sameIgnoringLeadingOnes(c)) {
            throw new IllegalArgumentException(op + ": " + a + " and " + b + " broadcast to " + full + ", not to the output " + c);
        }
        return new Broadcast(c, a, b);
    }

    /**
     * The descriptor of a reduction of {@code big} to {@code small} (operand 0), where {@code small}
     * broadcasts to {@code big}; else an {@link IllegalArgumentException} naming {@code op} and both shapes.
     */
    public static Broadcast reduction(String op, Shape big, Shape small) {
        if (!small.broadcastsTo(big)) {
            throw new IllegalArgumentException(op + ": " + small + " does not broadcast to " + big);
        }
        return new Broadcast(big, small);
    }

    /** The output shape (the larger one, for a reduction). */
    public Shape shape() {
        return out;
    }

    /** The shape of operand {@code k}. */
    public Shape operand(int k) {
        return operands[k];
    }

    /** Output elements. */
    public int size() {
        return out.size();
    }

    /** The output dimensions, padded on the left with 1s to rank {@value #RANK} (a copy). */
    public int[] dims() {
        return dims.clone();
    }

    /** Operand {@code k}'s strides over the padded output dimensions, 0 where it is broadcast (a copy). */
    public int[] strides(int k) {
        return strides[k].clone();
    }

    /** Flat index into operand {@code k} of output element {@code i}. */
    public int index(int k, int i) {
        int[] st = strides[k];
        int idx = 0;
        int rem = i;
        for (int d = RANK - 1; d >= 0 && rem > 0; d--) {
            int coord = rem % dims[d];
            rem /= dims[d];
            idx += coord * st[d];
        }
        return idx;
    }

    /** Whether operand {@code k} has as many elements as the output (no broadcasting: index = i). */
    public boolean contiguous(int k) {
        return operands[k].size() == out.size();
    }

    /**
     * If operand {@code k} repeats with a period — it equals the output's trailing dimensions and is
     * broadcast along all leading ones, so its index is {@code i % period} — that period; else -1.
     */
    public int period(int k) {
        int[] st = strides[k];
        int expected = 1;
        int d = RANK - 1;
        while (d >= 0 && (dims[d] == 1 || st[d] == expected)) {
            expected *= dims[d];
            d--;
        }
        for (; d >= 0; d--) {
            if (st[d] != 0 && dims[d] != 1) {
                return -1;
            }
        }
        return operands[k].size() == expected ? expected : -1;
    }

    /**
     * If each element of operand {@code k} covers a run of consecutive output elements — the operand equals
     * the output's leading dimensions and is broadcast along all trailing ones, so its index is
     * {@code i / repeat} — that run length; else -1.
     */
    public int repeat(int k) {
        int[] st = strides[k];
        int d = RANK - 1;
        int run = 1;
        while (d >= 0 && (st[d] == 0 || dims[d] == 1)) {
            run *= dims[d];
            d--;
        }
        int expected = 1;
        for (; d >= 0; d--) {
            if (dims[d] != 1 && st[d] != expected) {
                return -1;
            }
            expected *= dims[d];
        }
        return run;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("broadcast to ").append(out);
        for (Shape s : operands) {
            sb.append(" from ").append(s);
        }
        return sb.toString();
    }
}
