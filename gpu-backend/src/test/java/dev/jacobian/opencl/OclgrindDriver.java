package dev.jacobian.opencl;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import dev.jacobian.train.Trainer;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * Launches every kernel of the OpenCL backend, on small sizes, for a run under Oclgrind's data-race,
 * uninitialized-value and API checks: {@code benchmarks/oclgrind.sh} runs it and reads Oclgrind's reports. The
 * compile-time variants that change a kernel's indexing or synchronization run too: every GEMM tile configuration
 * ({@link ClMatmul.Params#CANDIDATES}, {@link ClMatmul.Params#GPU_LARGE}) in the four transposes, and their tuning
 * {@linkplain ClMatmul.Params#variants variants} (prefetch, float4 local reads, deeper K) in two, on sizes with an
 * interior and an edge tile in M, N and K; the small GEMM; split K; the fused epilogues and operand masks; each
 * softmax/loss work-group size; one- and two-stage reductions. The groups of {@link #GROUPS} each cover one kernel
 * file (GEMM: three groups), and {@code training} runs two steps of a small MLP end to end.
 *
 * <p>Each primitive runs on the OpenCL backend and on the {@link ReferenceBackend} from the same host data, and
 * every operand is compared afterwards, loosely: the point is to notice a kernel that Oclgrind stopped or that
 * computed garbage, not to repeat the conformance suite.
 *
 * <p>Usage: {@code OclgrindDriver [--any-device] [--max-tile=N] [--skip=GROUP ...] [GROUP ...]} runs the named groups
 * (none: all but the skipped ones); {@code --max-tile} leaves out GEMM tile configurations of more than N rows.
 * {@code OclgrindDriver --canary} instead launches one deliberately broken kernel ({@link #CANARY}), to show that
 * Oclgrind's checks fire. Without {@code --any-device} it refuses any device but Oclgrind's, so a run that fell back
 * to another OpenCL driver cannot pass. Exit status 0 when every comparison held, 1 otherwise.
 */
public final class OclgrindDriver {
    /** The workload groups, by name, in the order they run. */
    public static final List<String> GROUPS = List.of("elementwise", "broadcast", "conv", "random", "reduce",
            "softmax_loss", "optimizer", "gemm_small", "gemm_tiles", "gemm_split", "training");

    /** Host data of one operand; {@code scratch} operands are not compared (the primitive may overwrite them). */
    private record Op(Shape shape, float[] data, boolean scratch) {
    }

    /** One primitive call, made once per backend on tensors uploaded from the same operands. */
    @FunctionalInterface
    private interface Call {
        void run(Backend b, Tensor[] t);
    }

    private final ClBackend cl;
    private final Backend ref = new ReferenceBackend();
    private final SplittableRandom random = new SplittableRandom(12);
    private final List<String> failures = new ArrayList<>();
    /**
     * The OpenCL operands of every check, closed only before their backend, so that no check's tensor lands in a
     * pooled buffer an earlier check used. Oclgrind 21.10's uninitialized-value check loses track of reused buffers:
     * upload 30 floats into a fresh tensor (a 32-float pooled buffer), close it, allocate a 32-float tensor (the same
     * buffer), fill all of it, and a kernel reading elements 30 and 31 is still reported. With fresh buffers, what
     * it reports instead is a kernel reading past its tensor into the pooled buffer's never-written tail, which the
     * out-of-bounds check cannot see (the buffer is larger than the tensor).
     */
    private final List<Tensor> kept = new ArrayList<>();
    private final String selector = System.getProperty(ClContext.DEVICE_PROPERTY);
    /** Tile configurations with more rows than this are skipped ({@code --max-tile=N}). */
    private final int maxTile;
    private final boolean anyDevice;
    private int checks;

    /** The fused GEMM variants run on tile configurations of at most this many rows. */
    static final int FUSED_MAX_TILE = 32;

    private OclgrindDriver(boolean anyDevice, int maxTile) {
        this.anyDevice = anyDevice;
        this.maxTile = maxTile;
        this.cl = open(null);
    }

    /**
     * Runs the selected groups and exits with 1 when a comparison failed.
     *
     * @param args {@code --any-device} to allow a device other than Oclgrind's, then group names (none: all)
     */
    public static void main(String[] args) {
        boolean any = false;
        int maxTile = Integer.MAX_VALUE;
        List<String> groups = new ArrayList<>();
        List<String> skip = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--any-device")) {
                any = true;
            } else if (a.equals("--canary")) {
                canary();
                return;
            } else if (a.startsWith("--skip=") && GROUPS.contains(a.substring("--skip=".length()))) {
                skip.add(a.substring("--skip=".length()));
            } else if (a.startsWith("--max-tile=")) {
                maxTile = Integer.parseInt(a.substring("--max-tile=".length()));
            } else if (GROUPS.contains(a)) {
                groups.add(a);
            } else {
                System.err.println("usage: OclgrindDriver --canary | [--any-device] [--max-tile=N] [--skip=group ...] "
                        + "[group ...]; groups: " + GROUPS);
                System.exit(2);
            }
        }
        if (groups.isEmpty()) {
            groups.addAll(GROUPS);
        }
        groups.removeAll(skip);
        waitForTransfersInline();
        OclgrindDriver d = new OclgrindDriver(any, maxTile);
        int status;
        try {
            status = d.run(groups);
        } finally {
            d.closeKept();
            d.cl.close();
            d.ref.close();
        }
        System.exit(status);
    }

    /**
     * A kernel with one of each error the run must catch: a read-write race in local memory (no barrier between the
     * store and the neighbour's load), an out-of-bounds global read ({@code x[i + n]} past the end), an uninitialized
     * private value stored to global memory ({@code t[1..3]}). Named so that it matches no kernel of the backend.
     */
    static final String CANARY = """
            __kernel void oclgrind_canary(__global float* x, const int n) {
                __local float s[16];
                float t[4];
                const int i = get_local_id(0);
                t[0] = 1.0f;
                s[i] = x[i];
                x[i] = s[(i + 1) % 16] + x[i + n] + t[i % 4];
            }
            """;

    /**
     * Launches {@link #CANARY} once on 16 work-items over a 16-float buffer (n = 8), then makes one invalid API call
     * (a local size that does not divide the global size), which throws here and which Oclgrind's API check reports.
     */
    private static void canary() {
        try (ClContext c = ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY))) {
            cl_program program = c.build("oclgrind_canary", CANARY, "-cl-std=CL1.2");
            cl_kernel kernel = CL.clCreateKernel(program, "oclgrind_canary", null);
            cl_mem x = CL.clCreateBuffer(c.context(), CL.CL_MEM_READ_WRITE | CL.CL_MEM_COPY_HOST_PTR,
                    16L * Sizeof.cl_float, Pointer.to(new float[16]), null);
            try {
                CL.clSetKernelArg(kernel, 0, Sizeof.cl_mem, Pointer.to(x));
                CL.clSetKernelArg(kernel, 1, Sizeof.cl_int, Pointer.to(new int[] {8}));
                CL.clEnqueueNDRangeKernel(c.queue(), kernel, 1, null, new long[] {16}, new long[] {16}, 0, null, null);
                CL.clFinish(c.queue());
                try {
                    CL.clEnqueueNDRangeKernel(c.queue(), kernel, 1, null, new long[] {16}, new long[] {5}, 0, null,
                            null);
                    System.out.println("oclgrind-driver: canary: the invalid launch was accepted");
                } catch (CLException expected) {
                    System.out.println("oclgrind-driver: canary: the invalid launch failed with "
                            + expected.getMessage());
                }
            } finally {
                CL.clReleaseMemObject(x);
                CL.clReleaseKernel(kernel);
                CL.clReleaseProgram(program);
            }
        }
    }

    /**
     * Oclgrind's OpenCL runtime is not thread-safe (jrprice/Oclgrind#28), and JOCL waits for the event of every
     * non-blocking transfer (the backend's staged uploads and pending reads) on a thread of its own, concurrently with
     * the backend's next calls, which crashes Oclgrind now and then. Those waits run inline here instead: the run
     * stays single-threaded, and a transfer merely completes before the call that enqueued it returns.
     */
    private static void waitForTransfersInline() {
        try {
            Field f = CL.class.getDeclaredField("referenceReleaseExecutor");
            f.setAccessible(true);
            f.set(null, (Executor) Runnable::run);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot make JOCL wait for transfers inline (JOCL changed?): " + e, e);
        }
    }

    private int run(List<String> groups) {
        System.out.println("oclgrind-driver: device " + cl.deviceDescription() + ", default GEMM " + cl.gemmOptions());
        long t0 = System.nanoTime();
        for (String g : groups) {
            long t = System.nanoTime();
            int before = checks;
            switch (g) {
                case "elementwise" -> elementwise();
                case "broadcast" -> broadcast();
                case "conv" -> conv();
                case "random" -> random();
                case "reduce" -> reduce();
                case "softmax_loss" -> softmaxLoss();
                case "optimizer" -> optimizer();
                case "gemm_small" -> gemmSmall();
                case "gemm_tiles" -> gemmTiles();
                case "gemm_split" -> gemmSplit();
                case "training" -> training();
                default -> throw new IllegalArgumentException(g);
            }
            System.out.printf(Locale.ROOT, "oclgrind-driver: %-12s %4d checks %6.1f s%n", g, checks - before,
                    (System.nanoTime() - t) / 1e9);
        }
        System.out.printf(Locale.ROOT, "oclgrind-driver: %d checks in %.1f s, %d failed%n", checks,
                (System.nanoTime() - t0) / 1e9, failures.size());
        for (String f : failures) {
            System.out.println("oclgrind-driver: FAILED " + f);
        }
        return failures.isEmpty() ? 0 : 1;
    }

    /** A backend on the selected device with the given GEMM tiles (null: the device's own choice). */
    private ClBackend open(ClMatmul.Params tiles) {
        ClContext context = ClContext.open(selector);
        return checked(tiles == null ? new ClBackend(context) : new ClBackend(context, tiles, tiles));
    }

    /** {@code b} when it runs on Oclgrind's device (or {@code --any-device} was given); else closes it and throws. */
    private ClBackend checked(ClBackend b) {
        if (!anyDevice && !b.device().platform().toLowerCase(Locale.ROOT).contains("oclgrind")) {
            String d = b.deviceDescription();
            b.close();
            throw new IllegalStateException("not running on Oclgrind but on " + d + " (start this under `oclgrind`, "
                    + "pick the device with -D" + ClContext.DEVICE_PROPERTY + ", or pass --any-device)");
        }
        return b;
    }

    // ------------------------------------------------------------------ operands and the comparison

    private Op rnd(int... dims) {
        return values(-1, 1, dims);
    }

    private Op values(double lo, double hi, int... dims) {
        Shape s = Shape.of(dims);
        float[] x = new float[s.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(lo, hi);
        }
        return new Op(s, x, false);
    }

    private static Op zeros(int... dims) {
        Shape s = Shape.of(dims);
        return new Op(s, new float[s.size()], false);
    }

    private static Op of(float[] data, int... dims) {
        return new Op(Shape.of(dims), data, false);
    }

    private static Op scratch(Op o) {
        return new Op(o.shape(), o.data(), true);
    }

    /** Class indices {@code [n, 1]} in {@code [0, classes)}, as floats. */
    private Op labels(int n, int classes) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(classes);
        }
        return of(y, n, 1);
    }

    private void check(String what, Call call, Op... ops) {
        check(what, 1e-4, call, ops);
    }

    /**
     * Runs {@code call} on the OpenCL backend {@link #cl} and on the reference, then compares every operand that
     * is not scratch: {@code |cl - ref| <= tol (1 + |ref|)}, NaN matching NaN. The OpenCL operands stay open until
     * their backend closes (see {@link #kept}).
     */
    private void check(String what, double tol, Call call, Op... ops) {
        check(cl, what, tol, call, ops);
    }

    private void check(ClBackend on, String what, double tol, Call call, Op... ops) {
        checks++;
        Tensor[] r = new Tensor[ops.length];
        Tensor[] c = new Tensor[ops.length];
        try {
            for (int i = 0; i < ops.length; i++) {
                r[i] = ref.fromHost(ops[i].shape(), ops[i].data());
                c[i] = on.fromHost(ops[i].shape(), ops[i].data());
            }
            call.run(ref, r);
            call.run(on, c);
            for (int i = 0; i < ops.length; i++) {
                if (ops[i].scratch()) {
                    continue;
                }
                float[] want = r[i].download();
                float[] got = c[i].download();
                for (int j = 0; j < want.length; j++) {
                    boolean same = Float.isNaN(want[j]) ? Float.isNaN(got[j])
                            : want[j] == got[j] || Math.abs(got[j] - want[j]) <= tol * (1 + Math.abs(want[j]));
                    if (!same) {
                        failures.add(what + ": operand " + i + " " + ops[i].shape() + " element " + j + " is " + got[j]
                                + ", the reference computes " + want[j]);
                        break;
                    }
                }
            }
        } catch (RuntimeException e) {
            failures.add(what + ": " + e);
            e.printStackTrace();
        } finally {
            for (int i = 0; i < ops.length; i++) {
                if (r[i] != null) {
                    r[i].close();
                }
                if (c[i] != null) {
                    kept.add(c[i]);
                }
            }
        }
    }

    /** Closes the operands {@link #kept} so far (before their backend closes). */
    private void closeKept() {
        kept.forEach(Tensor::close);
        kept.clear();
    }

    // ------------------------------------------------------------------ elementwise.cl

    /** Sizes that leave a partial last work-group (7 x 33 = 231 work-items in groups of 64). */
    private static final int M = 7;
    private static final int N = 33;

    private void elementwise() {
        check("fill", (b, t) -> b.fill(t[0], 1.5f), rnd(M, N));
        check("copy ranged", (b, t) -> b.copy(t[0], 3, t[1], 5, 200), rnd(M, N), rnd(M, N));
        byte[] pixels = new byte[3 * M * N + 17];
        new java.util.SplittableRandom(5).nextBytes(pixels);
        int[] rowsAt = new int[M];
        for (int r = 0; r < M; r++) {
            rowsAt[r] = (r * 5 + 3) % M * (N + 7); // scattered, unaligned rows
        }
        check("uploadByteRows", (b, t) -> b.uploadByteRows(pixels, rowsAt, M, N, 255f, t[0], 0), zeros(M, N));
        check("axpby", (b, t) -> b.axpby(0.5f, t[0], -2f, t[1]), rnd(M, N), rnd(M, N));
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RECIPROCAL;
            Op x = positive ? values(0.1, 2, M, N) : values(-3, 3, M, N);
            check("unary " + op, (b, t) -> b.unary(op, -0.5f, 0.5f, t[0], t[1]), x, zeros(M, N));
        }
        for (BinaryOp op : BinaryOp.values()) {
            check("binary " + op, (b, t) -> b.binary(op, t[0], t[1], t[2]), rnd(M, N), rnd(M, N), zeros(M, N));
            for (int operand = 0; operand < 2; operand++) {
                int k = operand;
                check("binaryBackward " + op + " operand " + k,
                        (b, t) -> b.binaryBackward(op, k, t[0], t[1], t[2], t[3], k == 1), rnd(M, N), rnd(M, N),
                        rnd(M, N), rnd(M, N));
            }
        }
        for (Activation f : Activation.values()) {
            check("activation " + f, (b, t) -> b.activation(f, 0.1f, t[0], t[1]), rnd(M, N), zeros(M, N));
            check("activationBackward " + f, (b, t) -> {
                b.activation(f, 0.1f, t[0], t[1]);
                b.activationBackward(f, 0.1f, t[0], t[1], t[2], t[3], f.ordinal() % 2 == 0);
            }, rnd(M, N), zeros(M, N), rnd(M, N), rnd(M, N));
            check("biasActivation " + f, (b, t) -> b.biasActivation(t[0], t[1], f, 0.1f, t[2]), rnd(M, N), rnd(1, N),
                    zeros(M, N));
        }
        check("addRowVector", (b, t) -> b.addRowVector(t[0], t[1], t[2]), rnd(M, N), rnd(1, N), zeros(M, N));
        check("prelu", (b, t) -> b.prelu(t[0], t[1], t[2]), rnd(M, N), rnd(1, N), zeros(M, N));
        for (boolean acc : new boolean[] {false, true}) {
            check("preluBackward accumulate=" + acc, (b, t) -> b.preluBackward(t[0], t[1], t[2], t[3], acc, t[4], acc),
                    rnd(M, N), rnd(1, N), rnd(M, N), rnd(M, N), rnd(1, N));
        }
        int pieces = 3;
        check("maxout", (b, t) -> b.maxout(pieces, t[0], t[1]), rnd(M, N * pieces), zeros(M, N));
        for (boolean acc : new boolean[] {false, true}) {
            check("maxoutBackward accumulate=" + acc, (b, t) -> b.maxoutBackward(pieces, t[0], t[1], t[2], acc),
                    rnd(M, N * pieces), rnd(M, N), rnd(M, N * pieces));
        }
    }

    // ------------------------------------------------------------------ broadcast.cl

    private void broadcast() {
        // one pair per index mode of binary_broadcast: a row (period), a column (repeat), strided ranks, a scalar
        int[][][] pairs = {{{M, N}, {1, N}}, {{M, 1}, {M, N}}, {{3, 1, 5}, {1, 4, 5}}, {{2, 3, 4, 5}, {3, 1, 1}},
            {{M, N}, {1, 1}}};
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] p : pairs) {
                int[] out = Shape.broadcast("oclgrind", Shape.of(p[0]), Shape.of(p[1])).dims();
                String s = Arrays.toString(p[0]) + " " + Arrays.toString(p[1]);
                check("broadcast " + op + " " + s, (b, t) -> b.binary(op, t[0], t[1], t[2]), rnd(p[0]), rnd(p[1]),
                        zeros(out));
                for (int operand = 0; operand < 2; operand++) {
                    int k = operand;
                    check("broadcastBackward " + op + " " + s + " operand " + k, (b, t) -> b.binaryBackward(op, k, t[0],
                            t[1], t[2], t[3], k == 0), rnd(p[0]), rnd(p[1]), rnd(out), rnd(p[k]));
                }
            }
        }
        check("sumTo rows", (b, t) -> b.sumTo(t[0], t[1], false), rnd(M, N), zeros(1, N));
        check("sumTo rank 3", (b, t) -> b.sumTo(t[0], t[1], true), rnd(3, 4, 5), rnd(3, 1, 5));
    }

    // ------------------------------------------------------------------ conv.cl

    private void conv() {
        check("permute rank 3", (b, t) -> b.permute(t[0], new int[] {2, 0, 1}, t[1]), rnd(3, 4, 5), zeros(5, 3, 4));
        check("permute rank 4", (b, t) -> b.permute(t[0], new int[] {0, 2, 3, 1}, t[1]), rnd(2, 3, 4, 5),
                zeros(2, 4, 5, 3));
        Conv2dSpec[] specs = {Conv2dSpec.of(3, 1, 1), new Conv2dSpec(3, 2, 2, 1, 1, 0, 2, 1, 2)};
        int[] x = {2, 4, 7, 6};
        for (Conv2dSpec s : specs) {
            Shape col = s.columnShape("oclgrind", Shape.of(x));
            for (int g = 0; g < s.groups(); g++) {
                int group = g;
                check("im2col " + s + " group " + g, (b, t) -> b.im2col(s, group, t[0], t[1]), rnd(x),
                        zeros(col.dims()));
                check("col2im " + s + " group " + g, (b, t) -> b.col2im(s, group, t[0], t[1], group == 1),
                        rnd(col.dims()), rnd(x));
            }
        }
        Pool2dSpec[] pools = {Pool2dSpec.max(3, 2, 1), Pool2dSpec.avg(2, 2, 0), Pool2dSpec.avg(3, 2, 1)
            .withCountIncludePad(false)};
        for (Pool2dSpec p : pools) {
            int[] y = p.outputShape("oclgrind", Shape.of(x)).dims();
            check("pool2d " + p, (b, t) -> b.pool2d(p, t[0], t[1]), rnd(x), zeros(y));
            boolean acc = p.kind() == Pool2dSpec.Kind.MAX;
            check("pool2dBackward " + p, (b, t) -> b.pool2dBackward(p, t[0], t[1], t[2], acc), rnd(x), rnd(y), rnd(x));
        }
    }

    // ------------------------------------------------------------------ random.cl

    private void random() {
        check("randomUniform 231", (b, t) -> b.randomUniform(42, 7, t[0]), zeros(M, N));
        check("randomUniform 13 of 20", (b, t) -> {
            try (Tensor view = t[0].reshape(20).slice(0, 13)) {
                b.randomUniform(1L << 40, 3, view);
            }
        }, zeros(2, 10));
    }

    // ------------------------------------------------------------------ reduce.cl

    private static Shape reduced(Axis axis, int m, int n) {
        return switch (axis) {
            case ROWS -> Shape.matrix(1, n);
            case COLS -> Shape.matrix(m, 1);
            case ALL -> Shape.matrix(1, 1);
        };
    }

    private void reduce() {
        for (Reduction r : Reduction.values()) {
            for (Axis axis : Axis.values()) {
                int[] y = reduced(axis, M, N).dims();
                boolean acc = r != Reduction.ARGMAX && axis == Axis.COLS;
                check("reduce " + r + " " + axis, (b, t) -> b.reduce(r, axis, t[0], t[1], acc), rnd(M, N), rnd(y));
                if (r != Reduction.ARGMAX) {
                    check("reduceBackward " + r + " " + axis, (b, t) -> {
                        b.reduce(r, axis, t[0], t[1], false);
                        b.reduceBackward(r, axis, t[0], t[1], t[2], t[3], axis == Axis.ROWS);
                    }, rnd(M, N), zeros(y), rnd(y), rnd(M, N));
                }
            }
        }
        // above the one-work-group limit (2^14 elements): per-segment partials, then reduce_partials (16517 elements)
        for (Reduction r : new Reduction[] {Reduction.SUM, Reduction.MAX, Reduction.ARGMAX}) {
            check("reduce " + r + " ALL two-stage", 1e-3, (b, t) -> b.reduce(r, Axis.ALL, t[0], t[1], false),
                    rnd(83, 199), zeros(1, 1));
        }
        check("reduceBackward MAX ALL two-stage", (b, t) -> {
            b.reduce(Reduction.MAX, Axis.ALL, t[0], t[1], false);
            b.reduceBackward(Reduction.MAX, Axis.ALL, t[0], t[1], t[2], t[3], false);
        }, rnd(83, 199), zeros(1, 1), rnd(1, 1), zeros(83, 199));
    }

    // ------------------------------------------------------------------ softmax_loss.cl

    private void softmaxLoss() {
        // one row length per work-group size (SM_WG 8, 32, 128, 256)
        for (int c : new int[] {5, 20, 100, 300}) {
            check("softmax c=" + c, (b, t) -> b.softmax(t[0], t[1]), values(-4, 4, 3, c), zeros(3, c));
            check("softmaxBackward c=" + c, (b, t) -> {
                b.softmax(t[0], t[1]);
                b.softmaxBackward(t[1], t[2], t[3], c > 50);
            }, values(-4, 4, 3, c), zeros(3, c), rnd(3, c), rnd(3, c));
        }
        for (LossKind k : LossKind.values()) {
            for (int c : new int[] {5, 40}) {
                int n = 6;
                Op target = k.classIndexTargets() ? labels(n, c) : values(0, 1, n, c);
                check("rowLoss " + k + " c=" + c, (b, t) -> b.rowLoss(k, t[0], t[1], t[2]), values(-3, 3, n, c), target,
                        zeros(n, 1));
                check("rowLossBackward " + k + " c=" + c,
                        (b, t) -> b.rowLossBackward(k, t[0], t[1], t[2], t[3], c > 10), values(-3, 3, n, c), target,
                        rnd(n, 1), rnd(n, c));
            }
            // loss_mean: one work-group whose size follows the batch (8, 32, 128, 256)
            for (int n : new int[] {5, 20, 100, 300}) {
                int c = 4;
                Op target = k.classIndexTargets() ? labels(n, c) : values(0, 1, n, c);
                check("meanLoss " + k + " n=" + n, 1e-3, (b, t) -> b.meanLoss(k, t[0], t[1], t[2]), values(-3, 3, n, c),
                        target, zeros(1, 1));
            }
            Op target = k.classIndexTargets() ? labels(9, 4) : values(0, 1, 9, 4);
            check("meanLossBackward " + k, (b, t) -> b.meanLossBackward(k, t[0], t[1], t[2], t[3], true),
                    values(-3, 3, 9, 4), target, of(new float[] {1.5f}, 1, 1), rnd(9, 4));
        }
    }

    // ------------------------------------------------------------------ optimizer.cl

    private void optimizer() {
        SgdUpdate[] sgd = {new SgdUpdate(0.1f, 0f, false, 0f, 0f, 0f),
            new SgdUpdate(0.1f, 0.9f, true, 1e-3f, 1f, 0.5f, 100)};
        for (SgdUpdate u : sgd) {
            boolean momentum = u.momentum() != 0f;
            check("sgdUpdate " + u,
                    (b, t) -> b.sgdUpdate(t[0], t[1], momentum ? t[2] : null, momentum ? t[3] : null, u), rnd(M, N),
                    rnd(M, N), rnd(M, N), of(new float[] {4f}, 1, 1));
        }
        AdaptiveUpdate[] adaptive = {
            new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-2, 0.9, 0.999, 1e-8, 1e-3, 0f, 0f, Integer.MAX_VALUE, 3),
            new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAMW, 1e-2, 0.9, 0.999, 1e-8, 1e-2, 1f, 0.5f, 100, 1),
            new AdaptiveUpdate(AdaptiveUpdate.Rule.RMSPROP, 1e-2, 0, 0.99, 1e-8, 0, 0f, 0f, Integer.MAX_VALUE, 2)};
        for (AdaptiveUpdate u : adaptive) {
            boolean norm = u.clipNorm() > 0;
            boolean first = u.usesFirstMoment();
            check("adaptiveUpdate " + u.rule(),
                    (b, t) -> b.adaptiveUpdate(t[0], t[1], first ? t[2] : null, t[3], norm ? t[4] : null, u), rnd(M, N),
                    rnd(M, N), rnd(M, N), values(0, 1, M, N), of(new float[] {4f}, 1, 1));
        }
    }

    // ------------------------------------------------------------------ matmul.cl

    /** {@code op} of a stored matrix: {@code [rows, cols]}, or {@code [cols, rows]} when transposed. */
    private Op stored(boolean trans, int rows, int cols) {
        return trans ? rnd(cols, rows) : rnd(rows, cols);
    }

    /** Plain GEMM in the four transposes, beta 0 (C ignored) and beta != 0 alternating. */
    private void gemmTransposes(ClBackend on, String what, int m, int n, int k) {
        gemmTransposes(on, what, m, n, k, 0, 1, 2, 3);
    }

    /** {@link #gemmTransposes(ClBackend, String, int, int, int)} in the transposes {@code tr} (bit 0: A, bit 1: B). */
    private void gemmTransposes(ClBackend on, String what, int m, int n, int k, int... transposes) {
        for (int tr : transposes) {
            boolean ta = (tr & 1) != 0;
            boolean tb = (tr & 2) != 0;
            float beta = tr % 2 == 0 ? 0f : 0.5f;
            check(on, what + " " + m + "x" + n + "x" + k + " transA=" + ta + " transB=" + tb, 1e-3,
                    (b, t) -> b.gemm(ta, tb, 0.75f, t[0], t[1], beta, t[2]), stored(ta, m, k), stored(tb, k, n),
                    rnd(m, n));
        }
    }

    /** The fused dense-layer variants: bias and activation in the epilogue, the masked backward with column sums. */
    private void gemmFused(ClBackend on, String what, int m, int n, int k, Activation f) {
        String size = " " + m + "x" + n + "x" + k + " " + f;
        check(on, what + " gemmBiasActivation" + size, 1e-3, (b, t) -> b.gemmBiasActivation(t[0], t[1], t[2], f, 0.1f,
                t[3]), rnd(m, k), rnd(k, n), rnd(1, n), zeros(m, n));
        // x [m, k], W [k, n], y = f(x W) [m, n]: dx = dz W^T is an m x k x n product masked on op(A), dW = x^T dz a
        // k x n x m product masked on op(B) with the bias gradient as its column sums
        Call dense = (b, t) -> {
            b.gemmBiasActivation(t[0], t[1], t[2], f, 0.1f, t[3]);
            b.denseBackward(f, 0.1f, t[0], t[1], t[3], t[4], t[5], false, t[6], true, t[7], true);
        };
        check(on, what + " denseBackward" + size, 1e-3, dense, rnd(m, k), rnd(k, n), rnd(1, n), zeros(m, n),
                scratch(rnd(m, n)), rnd(m, k), rnd(k, n), rnd(1, n));
        check(on, what + " denseBackward dW only" + size, 1e-3, (b, t) -> {
            b.gemmBiasActivation(t[0], t[1], t[2], f, 0.1f, t[3]);
            b.denseBackward(f, 0.1f, t[0], t[1], t[3], t[4], null, false, t[5], false, null, false);
        }, rnd(m, k), rnd(k, n), rnd(1, n), zeros(m, n), scratch(rnd(m, n)), rnd(k, n));
    }

    /** Products small enough for {@code gemm_small}, on the device's own tiles, plain and fused. */
    private void gemmSmall() {
        gemmTransposes(cl, "gemm_small", 5, 7, 3);
        for (Activation f : Activation.values()) {
            gemmFused(cl, "gemm_small", 6, 9, 5, f);
        }
    }

    /**
     * Sizes for {@code p} with two tiles in M and N (an interior and an edge one) and K an interior step plus an
     * edge step, grown in K until the product is too large for {@code gemm_small}.
     */
    static int[] tiledSize(ClMatmul.Params p) {
        int m = p.tileM() + 3;
        int n = p.tileN() + 5;
        int k = Math.max(p.tileK() + 3, (int) (ClMatmul.SMALL_LIMIT / ((long) m * n)) + 1);
        if (k % p.tileK() == 0) {
            k++;
        }
        return new int[] {m, n, k};
    }

    /**
     * Every tile configuration up to {@link #maxTile} rows in the four transposes (tuning variants: NN and TT); the
     * fused variants on the
     * configurations of at most {@value #FUSED_MAX_TILE} rows (the fused code indexes the tiles as the plain one does,
     * and a 64- or 128-row tile costs Oclgrind ten to forty times as much). Every epilogue and mask activation runs
     * in {@link #gemmSmall()}, which shares the epilogue and the activation code with the tiled kernel.
     */
    private void gemmTiles() {
        for (ClMatmul.Params p : ClMatmul.Params.all()) {
            boolean variant = !ClMatmul.Params.builtIn().contains(p);
            if (p.tileM() > maxTile) {
                System.out.println("oclgrind-driver:   skipped " + p + " (--max-tile=" + maxTile + ")");
                continue;
            }
            long t0 = System.nanoTime();
            try (ClBackend on = open(p)) {
                if (!p.fits(on.device())) {
                    failures.add("gemm " + p + " does not fit " + on.deviceDescription()
                            + " (raise Oclgrind's limits)");
                    continue;
                }
                int[] s = tiledSize(p);
                String what = "gemm " + p.text();
                if (variant) {
                    // the tuning variants share the loads and stores of every transpose with the base configurations;
                    // what they change (prefetch order, float4 local reads, depth) is the same in each transpose
                    gemmTransposes(on, what, s[0], s[1], s[2], 0, 3);
                } else {
                    gemmTransposes(on, what, s[0], s[1], s[2], 0, 1, 2, 3);
                }
                if (p.tileM() <= FUSED_MAX_TILE) {
                    gemmFused(on, what, s[0], s[1], s[2], Activation.RELU);
                }
                System.out.printf(Locale.ROOT, "oclgrind-driver:   %s, m n k = %d %d %d: %.1f s%n", p, s[0], s[1], s[2],
                        (System.nanoTime() - t0) / 1e9);
            } finally {
                closeKept();
            }
        }
    }

    /** Compute units the split-K backend pretends to have, so that a product of a few tiles is split. */
    static final int SPLIT_UNITS = 64;

    /**
     * Split K ({@code -DSPLIT=1} and {@code gemm_split_reduce}): the shape-aware backend of a device with
     * {@value #SPLIT_UNITS} compute units, on products of two tiles of its smallest configuration with a deep K (the
     * last split ends in an edge step); plain in the four transposes, with the epilogue, and the dense backward.
     */
    private void gemmSplit() {
        int m = 20;
        int n = 9;
        int k = 131;
        try (ClBackend on = checked(new ClBackend(ClContext.open(selector), SPLIT_UNITS))) {
            ClMatmul.Plan plan = on.gemmPlan(m, n, k);
            System.out.println("oclgrind-driver:   split K: " + m + "x" + n + "x" + k + " as " + plan);
            if (plan.splits() < 2) {
                failures.add("gemm_split: " + m + "x" + n + "x" + k + " is not split on " + SPLIT_UNITS + " units: "
                        + plan);
            }
            gemmTransposes(on, "gemm split-K", m, n, k);
            gemmFused(on, "gemm split-K", m, n, k, Activation.TANH);
        } finally {
            closeKept();
        }
    }

    // ------------------------------------------------------------------ end to end

    /** Two training steps of a small MLP: the kernels in the order a step enqueues them, with the host's reads. */
    private void training() {
        checks++;
        try (Model mlp = Sequential.builder(12).hidden(16, "relu").output(4, LossKind.SOFTMAX_CROSS_ENTROPY).build(cl);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(1).build();
             Trainer t = new Trainer(mlp, sgd)) {
            SplittableRandom r = new SplittableRandom(3);
            float[] x = new float[8 * 12];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble(-1, 1);
            }
            float[] y = mlp.encodeTargets(new int[] {0, 1, 2, 3, 0, 1, 2, 3});
            for (int i = 0; i < 2; i++) {
                float loss = t.step(x, y, 0, 8).loss();
                System.out.println("oclgrind-driver:   training step " + i + " loss " + loss);
                if (!Float.isFinite(loss)) {
                    failures.add("training step " + i + ": loss " + loss);
                }
            }
        }
    }
}
