package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Reduction;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import org.jocl.cl_kernel;

/**
 * Host side of {@code reduce.cl}. ROWS: one work-item per column. COLS: one work-group per row. ALL: a
 * single work-group for small inputs, else two stages on the device (per-segment partials, then one
 * work-group combines them) — the scalar never visits the host. MAX backward first computes the argmax
 * per group into a scratch buffer on the device.
 *
 * <p>Scratch buffers (partials, argmax) come from the backend's pool once and are kept and grown as needed,
 * so steady-state calls allocate nothing.
 */
final class ClReduce implements AutoCloseable {
    /** Largest number of stage-1 segments of an ALL reduction. */
    static final int MAX_PARTS = 256;
    /** An ALL reduction over at most this many elements runs in one work-group. */
    private static final int SINGLE_GROUP_LIMIT = 1 << 14;
    /**
     * {@code reduce.cl}'s ARGMAX_INDEX, no {@link Reduction}: ARGMAX writing the bits of the index plus the smallest
     * normal float's (a normal float, which no device flushes), exact past 2^24 (a float index is not), into the
     * scratch that MAX backward reads.
     */
    private static final int ARGMAX_INDEX = 5;

    private final ClContext cl;
    private final ClProgramCache cache;
    private final ClBufferPool pool;
    private final int redWg;
    private final int wg;
    private final String options;
    private ClBuffer partialValues;
    private ClBuffer partialIndices;
    private ClBuffer argmax;

    ClReduce(ClContext cl, ClProgramCache cache, ClBufferPool pool) {
        this.cl = cl;
        this.cache = cache;
        this.pool = pool;
        this.redWg = Integer.highestOneBit((int) Math.min(256, cl.device().maxWorkGroupSize()));
        this.wg = (int) Math.min(64, cl.device().maxWorkGroupSize());
        this.options = "-cl-std=CL1.2 -DRED_WG=" + redWg;
    }

    private cl_kernel bind(String name, Object... args) {
        return cache.bind(KernelSources.REDUCE, options, name, args);
    }

    /** {@code y (+)= reduce(x)} along {@code axis} into {@code y} (shapes checked by the caller). */
    void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        reduceInto(op.ordinal(), axis, x, buf(y), accumulate);
    }

    /**
     * {@link #reduce} with {@code reduce.cl}'s operation code {@code op} (a {@link Reduction}'s ordinal or
     * {@link #ARGMAX_INDEX}).
     */
    private void reduceInto(int op, Axis axis, Tensor x, ClBuffer y, boolean accumulate) {
        int m = x.rows();
        int n = x.cols();
        int acc = accumulate ? 1 : 0;
        switch (axis) {
            case ROWS -> {
                cl.launch1d(bind("reduce_rows", m, n, op, buf(x), y, acc), n, wg);
            }
            case COLS -> segments(op, n, n, m, 1, x, y, acc, true);
            case ALL -> {
                int len = m * n;
                if (len <= SINGLE_GROUP_LIMIT) {
                    segments(op, len, len, 1, 1, x, y, acc, true);
                } else {
                    int parts = (int) Math.min(MAX_PARTS, ((long) len + redWg * 16L - 1) / (redWg * 16L));
                    int segLen = (len + parts - 1) / parts;
                    parts = (len + segLen - 1) / segLen;
                    ensurePartials();
                    segments(op, len, segLen, 1, parts, x, y, acc, false);
                    cl_kernel k = bind("reduce_partials", parts, len, op, partialValues, partialIndices, y, acc);
                    cl.launch(k, new long[] {redWg}, new long[] {redWg});
                }
            }
        }
    }

    private void segments(int op, int len, int segLen, int rows, int parts, Tensor x, ClBuffer y, int acc,
                          boolean finalOut) {
        ClBuffer pv = finalOut ? y : partialValues;
        ClBuffer pi = finalOut ? y : partialIndices;
        cl_kernel k = bind("reduce_segments", len, segLen, op, buf(x), y, acc, finalOut ? 1 : 0, pv, pi);
        cl.launch(k, new long[] {(long) parts * redWg, rows}, new long[] {redWg, 1});
    }

    private void ensurePartials() {
        if (partialValues == null) {
            partialValues = pool.acquire(MAX_PARTS);
            partialIndices = pool.acquire(MAX_PARTS);
        }
    }

    /** {@code dx (+)= dy} through the local gradient of the reduction (shapes checked by the caller). */
    void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        ClBuffer arg = buf(dy);
        if (op == Reduction.MAX) {
            int groups = dy.size();
            if (argmax == null || argmax.floats() < groups) {
                if (argmax != null) {
                    pool.release(argmax);
                }
                argmax = pool.acquire(groups);
            }
            reduceInto(ARGMAX_INDEX, axis, x, argmax, false);
            arg = argmax;
        }
        cl_kernel k = bind("reduce_backward", x.rows(), x.cols(), axis.ordinal(), op.ordinal(), buf(x), buf(dy), arg,
                buf(dx), accumulate ? 1 : 0);
        cl.launch1d(k, x.size(), wg);
    }

    @Override
    public void close() {
        for (ClBuffer b : new ClBuffer[] {partialValues, partialIndices, argmax}) {
            if (b != null) {
                pool.release(b);
            }
        }
        partialValues = null;
        partialIndices = null;
        argmax = null;
    }
}
