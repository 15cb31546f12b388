package dev.jacobian.cpu;

import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Broadcast;
import dev.jacobian.tensor.Shape;
import java.util.Arrays;

/**
 * The broadcasting elementwise kernels: {@code binary} and {@code binaryBackward} when the operands do not
 * all have the output's size, and {@code sumTo}. They split the output into equal <em>runs</em> of
 * consecutive elements along which every operand either advances one element at a time or stays on one
 * element (see {@link Runs}), and hand each run to a flat kernel of {@link CpuElementwise} (vector or
 * scalar twin):
 * <ul>
 *   <li>an operand repeating with a period (a bias row {@code [n]} of {@code [m, n]}: index {@code i % n})
 *       gives runs of the period, each a flat vector loop;</li>
 *   <li>an operand whose each element covers a run ({@code [m, 1]} of {@code [m, n]}: index {@code i / n})
 *       gives runs of that length, each a vector loop against one broadcast scalar;</li>
 *   <li>a per-channel statistic ({@code [1, C, 1, 1]} of {@code [N, C, H, W]}: index {@code (i / (H W)) % C})
 *       gives runs of a plane, each a vector loop against one scalar;</li>
 *   <li>any other broadcast pattern gives runs of (a divisor of) the output's last dimension, each one's
 *       start located with {@link Broadcast#index}.</li>
 * </ul>
 * Gradients and sums onto a broadcast operand add each run into it (a run along which the operand stays
 * put is first summed in a fixed lane order), runs in ascending order, so results are deterministic. They
 * accumulate into the output itself after clearing it, or, when adding onto an existing gradient
 * ({@code acc}), into a reused scratch row that is then added in once: no per-call temporaries.
 */
final class CpuBroadcast {
    private final CpuElementwise ew;
    private final Scratch scratch = new Scratch();

    CpuBroadcast(CpuElementwise ew) {
        this.ew = ew;
    }

    /** {@code c = a op b} broadcast by {@code bc} (operand 0 = a, 1 = b); c may be an operand of its size. */
    void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] c, int co, Broadcast bc) {
        Runs runs = new Runs(bc, 2);
        int len = runs.length;
        int sa = runs.step(0);
        int sb = runs.step(1);
        for (int start = 0; start < runs.size; start += len) {
            int ia = ao + runs.base(0, start);
            int ib = bo + runs.base(1, start);
            if (sa == 1 && sb == 1) {
                ew.binary(op, a, ia, b, ib, c, co + start, len);
            } else if (sa == 1) {
                ew.binaryScalarRight(op, a, ia, b[ib], c, co + start, len);
            } else if (sb == 1) {
                ew.binaryScalarLeft(op, a[ia], b, ib, c, co + start, len);
            } else {
                Arrays.fill(c, co + start, co + start + len, op.apply(a[ia], b[ib]));
            }
        }
    }

    /**
     * {@code grad (+)= sum over the broadcast positions of dc * d(a op b)/d(operand)}; {@code grad} has the
     * operand's shape and overlaps no input.
     */
    void binaryBackward(BinaryOp op, int operand, float[] a, int ao, float[] b, int bo, float[] dc, int dco,
                        float[] grad, int go, boolean acc, Broadcast bc) {
        Runs runs = new Runs(bc, 2);
        int len = runs.length;
        int sa = runs.step(0);
        int sb = runs.step(1);
        int sg = runs.step(operand);
        if (bc.contiguous(operand)) {
            // One output element per gradient element: store straight into grad.
            for (int start = 0; start < runs.size; start += len) {
                ew.binaryBackwardRun(op, operand, a, ao + runs.base(0, start), sa, b, bo + runs.base(1, start), sb,
                        dc, dco + start, grad, go + start, 1, len, acc);
            }
            return;
        }
        int n = bc.operand(operand).size();
        float[] dst = acc ? scratch.floats(n) : grad;
        int dOff = acc ? 0 : go;
        Arrays.fill(dst, dOff, dOff + n, 0f);
        for (int start = 0; start < runs.size; start += len) {
            ew.binaryBackwardRun(op, operand, a, ao + runs.base(0, start), sa, b, bo + runs.base(1, start), sb,
                    dc, dco + start, dst, dOff + runs.base(operand, start), sg, len, true);
        }
        if (acc) {
            ew.addInto(dst, 0, grad, go, n);
        }
    }

    /** {@code y (+)= x} summed over the dimensions {@code y} (operand 0 of {@code bc}) is broadcast along. */
    void sumTo(float[] x, int xo, float[] y, int yo, boolean acc, Broadcast bc) {
        int n = bc.operand(0).size();
        if (bc.contiguous(0)) {
            if (acc) {
                ew.addInto(x, xo, y, yo, n);
            } else {
                System.arraycopy(x, xo, y, yo, n);
            }
            return;
        }
        Runs runs = new Runs(bc, 1);
        int len = runs.length;
        float[] dst = acc ? scratch.floats(n) : y;
        int dOff = acc ? 0 : yo;
        Arrays.fill(dst, dOff, dOff + n, 0f);
        if (runs.step(0) == 1) {
            // e.g. the bias gradient: every run (row) is added onto the row of sums.
            for (int start = 0; start < runs.size; start += len) {
                ew.addInto(x, xo + start, dst, dOff + runs.base(0, start), len);
            }
        } else {
            // e.g. per-row sums: every run adds up to one element.
            for (int start = 0; start < runs.size; start += len) {
                dst[dOff + runs.base(0, start)] += ew.sum(x, xo + start, len);
            }
        }
        if (acc) {
            ew.addInto(dst, 0, y, yo, n);
        }
    }

    /**
     * How the output of a {@link Broadcast} splits into runs of {@link #length} consecutive elements along
     * which each operand advances by {@link #step} (1) or stays on one element (0), starting at
     * {@link #base}. The length is the largest one that every operand's pattern allows: the period or the
     * repeat length of an operand with one (the gcd over operands), else a divisor of the output's last
     * dimension.
     */
    static final class Runs {
        private static final int CONTIGUOUS = 0;
        private static final int PERIOD = 1;
        private static final int REPEAT = 2;
        private static final int INDEX = 3;
        private static final int REPEAT_PERIOD = 4;

        /** Elements per run. */
        final int length;
        /** Output elements (a multiple of {@link #length}). */
        final int size;
        private final Broadcast bc;
        private final int[] kind;
        private final int[] param;
        private final int[] period;
        private final int[] step;

        /** The runs of operands {@code 0 .. operands-1} of {@code bc}. */
        Runs(Broadcast bc, int operands) {
            this.bc = bc;
            this.size = bc.size();
            Shape out = bc.shape();
            int last = out.rank() == 0 ? 1 : out.dim(-1);
            kind = new int[operands];
            param = new int[operands];
            period = new int[operands];
            step = new int[operands];
            int g = 0;
            for (int k = 0; k < operands; k++) {
                int candidate;
                if (bc.contiguous(k)) {
                    kind[k] = CONTIGUOUS;
                    step[k] = 1;
                    continue;
                }
                int p = bc.period(k);
                int r = bc.repeat(k);
                int[] rp = r > 0 || p > 0 ? null : repeatPeriod(bc, k);
                if (r > 0 && (p <= 0 || r >= p)) {
                    kind[k] = REPEAT;
                    param[k] = r;
                    step[k] = 0;
                    candidate = r;
                } else if (p > 0) {
                    kind[k] = PERIOD;
                    param[k] = p;
                    step[k] = 1;
                    candidate = p;
                } else if (rp != null) {
                    // a per-channel statistic [1, C, 1, 1] of [N, C, H, W]: index (i / (H W)) % C
                    kind[k] = REPEAT_PERIOD;
                    param[k] = rp[0];
                    period[k] = rp[1];
                    step[k] = 0;
                    candidate = rp[0];
                } else {
                    Shape s = bc.operand(k);
                    kind[k] = INDEX;
                    step[k] = last > 1 && s.rank() > 0 && s.dim(-1) != 1 ? 1 : 0;
                    candidate = last;
                }
                g = gcd(g, candidate);
            }
            this.length = g == 0 ? size : g;
        }

        /**
         * {@code {run, count}} when operand {@code k} is broadcast along the output's trailing dimensions (a run of
         * {@code run} elements), matches the dimensions before them ({@code count} elements, contiguous) and is
         * broadcast along all leading ones, so its index is {@code (i / run) % count}; else null.
         */
        private static int[] repeatPeriod(Broadcast bc, int k) {
            int[] st = bc.strides(k);
            int[] dims = bc.dims();
            int d = dims.length - 1;
            int run = 1;
            while (d >= 0 && (st[d] == 0 || dims[d] == 1)) {
                run *= dims[d];
                d--;
            }
            int count = 1;
            while (d >= 0 && (dims[d] == 1 || st[d] == count)) {
                count *= dims[d];
                d--;
            }
            for (; d >= 0; d--) {
                if (st[d] != 0 && dims[d] != 1) {
                    return null;
                }
            }
            return run > 1 && count > 1 && count == bc.operand(k).size() ? new int[] {run, count} : null;
        }

        private static int gcd(int a, int b) {
            while (b != 0) {
                int t = a % b;
                a = b;
                b = t;
            }
            return a;
        }

        /** 1 when operand {@code k} advances along a run, 0 when it stays on one element. */
        int step(int k) {
            return step[k];
        }

        /** Index into operand {@code k} of the first element of the run starting at output element {@code start}. */
        int base(int k, int start) {
            return switch (kind[k]) {
                case CONTIGUOUS -> start;
                case PERIOD -> start % param[k];
                case REPEAT -> start / param[k];
                case REPEAT_PERIOD -> (start / param[k]) % period[k];
                default -> bc.index(k, start);
            };
        }
    }
}
