package dev.jacobian.cpu;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.HeapBackend;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Broadcast;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Philox;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The pure-Java CPU backend ({@code "cpu"}): tensors are Java arrays, kernels use the Vector API (with
 * scalar twins), and SGEMM is blocked, packed and multi-threaded (see {@link CpuMatmul}).
 *
 * <p>Kernels run synchronously on the calling thread (SGEMM also on this backend's own worker pool), so
 * {@link #synchronize()} has nothing to wait for. Like every {@link Backend}, an instance is used by one
 * thread at a time; {@link #close()} frees every buffer and stops the worker threads.
 *
 * <p>Memory accounting in {@link #stats()} follows the reference backend: one allocation per
 * {@link #allocateBuffer}, one upload/download per transfer, 4 bytes per float.
 *
 * <p>Arguments are checked by {@link dev.jacobian.backend.AbstractBackend}; the kernel hooks here pass each
 * tensor's array together with the offset of its first element ({@link HeapBackend#offset}), so every
 * primitive works on views ({@link Tensor#slice}) as well as on whole tensors.
 */
public final class CpuBackend extends HeapBackend {
    private final boolean vector;
    /** Whether byte rows are converted in vectors ({@link CpuByteConverter#convert}): at least 8 float lanes. */
    private final boolean convertsInVectors;
    private final Parallel parallel;
    private final CpuMatmul matmul;
    private final CpuElementwise elementwise;
    private final CpuBroadcast broadcast;
    private final CpuReduce reduce;
    private final CpuOptimizer optimizer;
    private final CpuConv conv;
    private final CpuWinograd winograd;

    /**
     * The share of a dense layer's input gradient that the caller computes beside the worker's weight gradient
     * ({@link #denseBackwardKernel}), in whole tiles; the worker computes the rest after the weight gradient, unless
     * the caller gets there first. Measured for the second layer of the 784-256-128-10 MLP at batch 128 (an AMD EPYC of
     * family 26, 2 vCPUs on two dies): the caller's input gradient alone took 1.82x as long as the worker's weight
     * gradient (the thread pool's Flight Recorder events), so that an even split is about 3/4.
     */
    static final double INPUT_GRADIENT_CALLER_SHARE = 0.75;
    /** Pieces of the input gradient's columns in {@link #denseBackwardKernel} that are the caller's (the first). */
    private static final int CALLER_PIECES = 3;
    /** Pieces of the input gradient's columns that are the worker's (the last). */
    private static final int WORKER_PIECES = 2;
    /**
     * What each task of {@link #denseBackwardKernel} computes, task {@code t} homed on thread {@code t % 2}: a piece
     * of the input gradient's columns, or -1 for the weight gradient. The caller's pieces in order, the worker's
     * weight gradient first and then its pieces.
     */
    private static final int[] DENSE_BACKWARD_TASKS = {0, -1, 1, 3, 2, 4};

    /** Floats from which an upload is shared by the threads ({@link #uploadKernel}). */
    static final int UPLOAD_PARALLEL_MIN = 1 << 15;
    /** Bytes of rows whose cache lines {@link #convertRows} touches before converting them: a group at a time. */
    private static final int TOUCH_BYTES = 1 << 16;

    /** A backend with one worker per available processor and the vector kernels when available. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend with {@code threads} workers (the caller included) and the vector kernels when available. */
    public CpuBackend(int threads) {
        this(threads, true);
    }

    /** The thread pool, for the package's tests (which put its workers to sleep to see the caller run alone). */
    Parallel parallel() {
        return parallel;
    }

    /**
     * A backend with {@code threads} workers; {@code useVector = false} forces the scalar twins (the vector
     * kernels also stay off when {@link #vectorAvailable()} is false).
     */
    public CpuBackend(int threads, boolean useVector) {
        this(threads, useVector, true);
    }

    /**
     * A backend with {@code threads} workers; {@code useVector = false} forces the scalar twins; {@code lendToJit =
     * false} keeps every thread at work while the JIT compilers warm the program up, where by default its kernels
     * split over fewer then (unless {@code -Djacobian.cpu.yieldToJit=false}): a backend whose purpose is to have the
     * code of every thread compiled (a JIT warm-up) wants them all.
     */
    public CpuBackend(int threads, boolean useVector, boolean lendToJit) {
        this.vector = useVector && VectorSupport.available();
        this.convertsInVectors = vector && ConvertVector.LANES >= 8;
        this.parallel = new Parallel(threads, Parallel.SPIN_NANOS,
                lendToJit ? CompilerLoad.of(threads) : CompilerLoad.never());
        this.matmul = new CpuMatmul(parallel, vector);
        this.elementwise = new CpuElementwise(vector);
        this.broadcast = new CpuBroadcast(elementwise);
        this.reduce = new CpuReduce(vector, parallel);
        this.optimizer = new CpuOptimizer(vector, parallel);
        this.conv = new CpuConv(parallel);
        this.winograd = new CpuWinograd(parallel, vector);
    }

    /**
     * Whether this JVM can run the vector kernels: {@code jdk.incubator.vector} is present and
     * {@code -Djacobian.cpu.vector=false} was not given.
     */
    public static boolean vectorAvailable() {
        return VectorSupport.available();
    }

    /** Whether this instance runs the vector kernels. */
    public boolean usesVector() {
        return vector;
    }

    /**
     * Worker threads this instance has, the caller included: those its kernels split their work over, but for any it
     * lends the JIT compilers while they warm the program up (see {@link #CpuBackend(int, boolean, boolean)}).
     */
    public int threads() {
        return parallel.size();
    }

    /**
     * Its {@link #threads()}: each of them computes on a core of its own while a parallel kernel runs (the kernels may
     * split over fewer while the JIT compilers warm the program up).
     */
    @Override
    public int hostThreads() {
        return parallel.size();
    }

    /** On the backend's workers and the caller, as its kernels' tasks run; one call at a time, like every call. */
    @Override
    public synchronized void runOnHostThreads(int tasks, IntConsumer body) {
        ensureOpen();
        if (tasks > 1 && parallel.threads() > 1) {
            parallel.run(tasks, body::accept);
        } else {
            super.runOnHostThreads(tasks, body); // in order on the caller; checks tasks >= 0
        }
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String deviceDescription() {
        String simd = vector ? VectorInfo.describe() : "scalar kernels";
        return "CPU, " + parallel.size() + " thread(s), " + simd + " (" + System.getProperty("os.arch") + ", "
                + System.getProperty("java.vm.name") + " " + Runtime.version() + ")";
    }

    /** The array behind {@code t}, or null for a null tensor. */
    private static float[] dOrNull(Tensor t) {
        return t == null ? null : data(t);
    }

    /** The offset of {@code t}'s first element, or 0 for a null tensor. */
    private static int oOrZero(Tensor t) {
        return t == null ? 0 : offset(t);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    protected void closeResources() {
        parallel.close();
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    protected void fillKernel(Tensor x, float value) {
        int o = offset(x);
        Arrays.fill(data(x), o, o + x.size(), value);
    }

    @Override
    protected void axpbyKernel(float alpha, Tensor x, float beta, Tensor y) {
        elementwise.axpby(alpha, data(x), offset(x), beta, data(y), offset(y), x.size());
    }

    @Override
    protected void unaryKernel(UnaryOp op, float p, float q, Tensor x, Tensor y) {
        elementwise.unary(op, p, q, data(x), offset(x), data(y), offset(y), x.size());
    }

    @Override
    protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor c, Broadcast bc) {
        if (bc == null) {
            elementwise.binary(op, data(a), offset(a), data(b), offset(b), data(c), offset(c), c.size());
        } else {
            broadcast.binary(op, data(a), offset(a), data(b), offset(b), data(c), offset(c), bc);
        }
    }

    @Override
    protected void binaryBackwardKernel(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad,
                                        boolean accumulate, Broadcast bc) {
        if (bc == null) {
            elementwise.binaryBackward(op, operand, data(a), offset(a), data(b), offset(b), data(dc), offset(dc),
                    data(grad), offset(grad), dc.size(), accumulate);
        } else {
            broadcast.binaryBackward(op, operand, data(a), offset(a), data(b), offset(b), data(dc), offset(dc),
                    data(grad), offset(grad), accumulate, bc);
        }
    }

    @Override
    protected void sumToKernel(Tensor x, Tensor y, boolean accumulate, Broadcast bc) {
        broadcast.sumTo(data(x), offset(x), data(y), offset(y), accumulate, bc);
    }

    @Override
    protected void activationKernel(Activation f, float param, Tensor x, Tensor y) {
        elementwise.activation(f, param, data(x), offset(x), data(y), offset(y), x.size());
    }

    @Override
    protected void activationBackwardKernel(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                            boolean accumulate) {
        elementwise.activationBackward(f, param, data(x), offset(x), data(y), offset(y), data(dy), offset(dy),
                data(dx), offset(dx), x.size(), accumulate);
    }

    @Override
    protected void biasActivationKernel(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        elementwise.biasActivation(data(x), offset(x), data(bias), offset(bias), f, param, data(y), offset(y),
                x.rows(), x.cols());
    }

    @Override
    protected void addRowVectorKernel(Tensor x, Tensor bias, Tensor y) {
        elementwise.addRowVector(data(x), offset(x), data(bias), offset(bias), data(y), offset(y), x.rows(),
                x.cols());
    }

    @Override
    protected void preluKernel(Tensor x, Tensor slope, Tensor y) {
        elementwise.prelu(data(x), offset(x), data(slope), offset(slope), data(y), offset(y), x.rows(), x.cols());
    }

    @Override
    protected void preluBackwardKernel(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                                       Tensor dslope, boolean accumulateDslope) {
        elementwise.preluBackward(data(x), offset(x), data(slope), offset(slope), data(dy), offset(dy),
                dOrNull(dx), oOrZero(dx), accumulateDx, dOrNull(dslope), oOrZero(dslope), accumulateDslope,
                x.rows(), x.cols());
    }

    @Override
    protected void maxoutKernel(int pieces, Tensor z, Tensor y) {
        CpuElementwise.maxout(pieces, data(z), offset(z), data(y), offset(y), y.rows(), y.cols());
    }

    @Override
    protected void maxoutBackwardKernel(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        CpuElementwise.maxoutBackward(pieces, data(z), offset(z), data(dy), offset(dy), data(dz), offset(dz),
                dy.rows(), dy.cols(), accumulate);
    }

    /** Below this many elements a random draw runs on the calling thread alone. */
    private static final int RANDOM_PARALLEL_MIN = 1 << 16;

    /**
     * Scalar {@link Philox#fill}, split across the workers for large tensors. Every chunk starts at a
     * multiple of 4 elements and draws from counter {@code counter + start / 4}, so the bits do not depend
     * on the split (Philox is counter-based).
     */
    @Override
    protected void randomUniformKernel(long key, long counter, Tensor out) {
        float[] a = data(out);
        int o = offset(out);
        int n = out.size();
        int tasks = n < RANDOM_PARALLEL_MIN ? 1 : parallel.threads();
        long chunk = (((long) n + tasks - 1) / tasks + 3) & ~3L;
        parallel.run(tasks, t -> {
            long start = t * chunk;
            long end = Math.min(n, start + chunk);
            if (start < end) {
                Philox.fill(key, counter + (start >>> 2), a, o + (int) start, (int) (end - start));
            }
        });
    }

    /**
     * A large upload (a training batch) is copied in contiguous parts, one per thread, each by its home thread
     * ({@link Parallel#runHomed}): on a machine whose two vCPUs sit on different dies, each core then writes lines that
     * it, not the other, holds after the products of the step before, and the products that read the batch next find
     * half of it in each core's caches instead of all of it in the caller's. Measured there (an AMD EPYC of family 26, 2
     * vCPUs a 450 ns round trip apart; OpenBLAS's one-thread SGEMM peak about 200 GFLOP/s), the training step of the
     * 784-256-128-10 MLP on 2 threads against one copy by the caller, in one process, three runs of 30-40 rounds:
     * 1.00x, 1.10x and 1.02x as fast at batch 128, 1.07x, 1.08x and 1.02x at batch 64; on 1 thread 1.00x and 0.995x.
     */
    @Override
    protected void uploadKernel(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        int tasks = parallel.threads();
        if (count < UPLOAD_PARALLEL_MIN || tasks == 1) {
            super.uploadKernel(src, srcOffset, dst, dstOffset, count);
            return;
        }
        float[] d = data(dst);
        int o = offset(dst) + dstOffset;
        int part = ((count + tasks - 1) / tasks + 15) & ~15;
        parallel.runHomed(tasks, t -> {
            int from = Math.min(count, t * part);
            int to = Math.min(count, from + part);
            System.arraycopy(src, srcOffset + from, d, o + from, to - from);
        });
        countUpload(count);
    }

    /**
     * Rows of bytes (a training batch of images, {@code Batch.byteRows()}) gathered from where they lie and converted
     * into the tensor in one pass; a large batch in contiguous row ranges, one per thread, each by its home thread as
     * {@link #uploadKernel} copies a batch of floats. Each range first reads one byte of every cache line of a group of
     * its rows (the rows of a shuffled batch lie far apart in the data set and are seldom in a cache: the memory system
     * then fetches the group's lines together, where the conversion would wait for them row by row), then converts the
     * group in vectors.
     */
    @Override
    protected void uploadByteRowsKernel(byte[] src, int[] offsets, int rows, int rowLength, float divisor, Tensor dst,
                                        int dstOffset) {
        float[] d = data(dst);
        int o = offset(dst) + dstOffset;
        int tasks = parallel.threads();
        if ((long) rows * rowLength < UPLOAD_PARALLEL_MIN || tasks == 1 || rows < tasks) {
            convertRows(src, offsets, 0, rows, rowLength, divisor, d, o);
        } else {
            parallel.runHomed(tasks, t -> convertRows(src, offsets, (int) ((long) rows * t / tasks),
                    (int) ((long) rows * (t + 1) / tasks), rowLength, divisor, d, o));
        }
        countUpload(rows * rowLength);
    }

    /** Rows {@code [r0, r1)} of {@link #uploadByteRowsKernel}, in groups: their lines touched, then converted. */
    private void convertRows(byte[] src, int[] offsets, int r0, int r1, int rowLength, float divisor, float[] d,
                             int o) {
        if (rowLength == 0) {
            return;
        }
        int group = Math.max(1, TOUCH_BYTES / rowLength);
        for (int g = r0; g < r1; g += group) {
            int end = Math.min(r1, g + group);
            int touched = 0;
            for (int r = g; r < end; r++) {
                int from = offsets[r];
                for (int k = 0; k < rowLength; k += 64) {
                    touched += src[from + k];
                }
                touched += src[from + rowLength - 1];
            }
            // stored where the conversion writes next, so that the compiler keeps the loads
            d[o + g * rowLength] = touched;
            for (int r = g; r < end; r++) {
                CpuByteConverter.convert(convertsInVectors, src, offsets[r], d, o + r * rowLength, rowLength, divisor);
            }
        }
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                              float beta, Tensor c) {
        matmul.gemm(transA, transB, m, n, k, alpha, data(a), offset(a), a.cols(), data(b), offset(b), b.cols(), beta,
                data(c), offset(c));
    }

    /**
     * As composed ({@link dev.jacobian.backend.AbstractBackend}), but a layer's input gradient {@code dy w^T} and
     * weight gradient {@code x^T dy}, where both are large enough to share and neither is split into halves
     * ({@link CpuMatmul#sharesAlone}), are computed side by side (the caller most of the input gradient, which the
     * layer below reads next, the worker the weight gradient and then the input gradient's last columns), rather than
     * each split across the threads in turn: a product of a 256-128 layer at batch 128 gained nothing from a second
     * thread in the training step, its operands being read from the other core's caches by whichever half ran there.
     * The input gradient's columns are cut into pieces of whole tiles ({@link #INPUT_GRADIENT_CALLER_SHARE}); whichever
     * thread is free takes the pieces still left, so the two products end together whichever runs faster.
     */
    @Override
    protected void denseBackwardKernel(Activation f, float param, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx,
                                       boolean accumulateDx, Tensor dw, boolean accumulateDw, Tensor db,
                                       boolean accumulateDb) {
        int n = x.rows();
        int in = x.cols();
        int out = y.cols();
        float betaDx = accumulateDx ? 1f : 0f;
        float betaDw = accumulateDw ? 1f : 0f;
        if (dx == null || dw == null || !matmul.sharesAlone(false, true, n, in, out, betaDx)
                || !matmul.sharesAlone(true, false, in, out, n, betaDw)) {
            super.denseBackwardKernel(f, param, x, w, y, dy, dx, accumulateDx, dw, accumulateDw, db, accumulateDb);
            return;
        }
        if (f != Activation.IDENTITY) {
            activationBackwardKernel(f, param, y, y, dy, dy, false);
        }
        // the input gradient's columns in pieces of whole tiles: the caller's first, then the worker's, which it takes
        // after the weight gradient and the caller takes when it gets there first
        int unit = matmul.columnUnit();
        int tiles = (in + unit - 1) / unit;
        int callerTiles = (int) Math.ceil(tiles * INPUT_GRADIENT_CALLER_SHARE);
        int[] edges = new int[CALLER_PIECES + WORKER_PIECES + 1];
        for (int p = 0; p < edges.length; p++) {
            int tile = p <= CALLER_PIECES ? callerTiles * p / CALLER_PIECES
                    : callerTiles + (tiles - callerTiles) * (p - CALLER_PIECES) / WORKER_PIECES;
            edges[p] = Math.min(in, tile * unit);
        }
        parallel.runHomed(DENSE_BACKWARD_TASKS.length, (t, self) -> {
            int piece = DENSE_BACKWARD_TASKS[t];
            if (piece < 0) {
                matmul.gemmAlone(self, true, false, in, out, n, 1f, data(x), offset(x), x.cols(), data(dy), offset(dy),
                        dy.cols(), betaDw, data(dw), offset(dw));
            } else if (edges[piece] < edges[piece + 1]) {
                matmul.gemmAloneColumns(self, false, true, n, in, out, 1f, data(dy), offset(dy), dy.cols(), data(w),
                        offset(w), w.cols(), betaDx, data(dx), offset(dx), edges[piece], edges[piece + 1]);
            }
        });
        if (db != null) {
            reduceKernel(Reduction.SUM, Axis.ROWS, dy, db, accumulateDb);
        }
    }

    // ---------------------------------------------------------------- layout, convolution, pooling

    @Override
    protected void permuteKernel(Tensor x, int[] axes, Tensor y) {
        conv.permute(data(x), offset(x), x.shape().dims(), axes, data(y), offset(y));
    }

    @Override
    protected void im2colKernel(Conv2dSpec spec, int group, Tensor x, Tensor col) {
        int[] d = x.shape().dims();
        conv.im2col(spec, group, data(x), offset(x), d[0], d[1], d[2], d[3], data(col), offset(col));
    }

    @Override
    protected void col2imKernel(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate) {
        int[] d = dx.shape().dims();
        conv.col2im(spec, group, data(col), offset(col), data(dx), offset(dx), d[0], d[1], d[2], d[3], accumulate);
    }

    /**
     * True for 3x3 convolutions of stride 1, dilation 1, one group, padding at most 2 and at least
     * {@value CpuWinograd#MIN_CHANNELS} input and output channels (at most 2^24 channel pairs): those run as Winograd
     * F(2x2, 3x3) (2.25 times fewer multiply-adds than im2col + GEMM, and no column matrix).
     */
    @Override
    public boolean directConv2d(Conv2dSpec spec, int inChannels, int outChannels) {
        return CpuWinograd.eligible(spec, inChannels, outChannels);
    }

    @Override
    protected void conv2dKernel(Conv2dSpec spec, Tensor x, Tensor w, Tensor y) {
        requireWinograd("conv2d", spec, x.shape(), w.shape());
        winograd.forward(spec, data(x), offset(x), x.shape().dims(), data(w), offset(w), w.shape().dim(0), data(y),
                offset(y));
    }

    @Override
    protected void conv2dBackwardDataKernel(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        requireWinograd("conv2dBackwardData", spec, dx.shape(), w.shape());
        winograd.backwardData(spec, data(dy), offset(dy), data(w), offset(w), data(dx), offset(dx), dx.shape().dims(),
                w.shape().dim(0), accumulate);
    }

    @Override
    protected void conv2dBackwardWeightsKernel(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, boolean accumulate) {
        requireWinograd("conv2dBackwardWeights", spec, x.shape(), dw.shape());
        winograd.backwardWeights(spec, data(x), offset(x), x.shape().dims(), data(dy), offset(dy), data(dw), offset(dw),
                dw.shape().dim(0), accumulate);
    }

    private void requireWinograd(String op, Conv2dSpec spec, dev.jacobian.tensor.Shape x, dev.jacobian.tensor.Shape w) {
        if (!directConv2d(spec, x.dim(1), w.dim(0))) {
            throw noDirectConv2d(op, spec, x, w);
        }
    }

    @Override
    protected void pool2dKernel(Pool2dSpec spec, Tensor x, Tensor y) {
        int[] d = x.shape().dims();
        conv.pool2d(spec, data(x), offset(x), d[0], d[1], d[2], d[3], data(y), offset(y));
    }

    @Override
    protected void pool2dBackwardKernel(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        int[] d = x.shape().dims();
        conv.pool2dBackward(spec, data(x), offset(x), data(dy), offset(dy), data(dx), offset(dx), d[0], d[1], d[2],
                d[3], accumulate);
    }

    // ---------------------------------------------------------------- reductions, softmax, losses

    @Override
    protected void reduceKernel(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        reduce.reduce(op, axis, data(x), offset(x), data(y), offset(y), x.rows(), x.cols(), accumulate);
    }

    @Override
    protected void reduceBackwardKernel(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                        boolean accumulate) {
        reduce.reduceBackward(op, axis, data(x), offset(x), data(dy), offset(dy), data(dx), offset(dx), x.rows(),
                x.cols(), accumulate);
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor y) {
        reduce.softmax(data(x), offset(x), data(y), offset(y), x.rows(), x.cols());
    }

    @Override
    protected void softmaxBackwardKernel(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        reduce.softmaxBackward(data(y), offset(y), data(dy), offset(dy), data(dx), offset(dx), y.rows(), y.cols(),
                accumulate);
    }

    @Override
    protected void rowLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        reduce.rowLoss(kind, data(pred), offset(pred), data(target), offset(target), data(out), offset(out),
                pred.rows(), pred.cols());
    }

    @Override
    protected void rowLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                         boolean accumulate) {
        reduce.rowLossBackward(kind, data(pred), offset(pred), data(target), offset(target), data(dout),
                offset(dout), data(dpred), offset(dpred), pred.rows(), pred.cols(), accumulate);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    protected void sgdUpdateKernel(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        float normSq = gradNormSq == null ? 0f : data(gradNormSq)[offset(gradNormSq)];
        if (!Float.isFinite(normSq)) {
            return; // the NaN guard: a non-finite step never reaches the weights
        }
        optimizer.sgd(data(param), offset(param), data(grad), offset(grad), dOrNull(velocity), oOrZero(velocity),
                param.size(), update.clipScale(normSq), update);
    }

    @Override
    protected void adaptiveUpdateKernel(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                        AdaptiveUpdate update) {
        float normSq = gradNormSq == null ? 0f : data(gradNormSq)[offset(gradNormSq)];
        if (!Float.isFinite(normSq)) {
            return; // the NaN guard: a non-finite step never reaches the weights or the moments
        }
        boolean first = update.usesFirstMoment();
        optimizer.adaptive(update, data(param), offset(param), data(grad), offset(grad), first ? data(m) : null,
                first ? offset(m) : 0, data(v), offset(v), param.size(), update.clipScale(normSq));
    }
}
