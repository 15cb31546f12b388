package dev.jacobian.opencl;

import static org.jocl.CL.CL_BUFFER_CREATE_TYPE_REGION;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateSubBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clReleaseMemObject;

import dev.jacobian.backend.AbstractBackend;
import dev.jacobian.backend.Activation;
import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendStats;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Broadcast;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.DeviceBuffer;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.PendingRead;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_buffer_region;
import org.jocl.cl_mem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenCL backend: tensors are {@code cl_mem} buffers on one device, primitives are kernels from
 * {@code dev/jacobian/kernels/*.cl} enqueued on one in-order queue.
 *
 * <p>Nothing inside a primitive waits for the device: kernels are enqueued and return. {@link #download}
 * is a blocking read, which the in-order queue runs after all earlier work; {@link #upload} copies the array into
 * pinned staging memory and enqueues a non-blocking write (the host array may change as soon as it returns);
 * {@link #readLater} enqueues non-blocking reads into pinned memory; {@link #synchronize()} is {@code clFinish}.
 * A training step ({@code Trainer.submit}) therefore makes no blocking call, and {@code Trainer.step} one.
 * Each call site's kernel is bound once to its buffers ({@link ClProgramCache#bind}), so a step sets only the
 * kernel arguments that changed.
 * Reductions to a scalar (a loss, the gradient norm) stay on the device. Buffers come from a
 * {@link ClBufferPool}; {@link #close()} releases every buffer, kernel, program, the queue and the context.
 * Arguments are checked once by {@link AbstractBackend}; the hooks here only enqueue kernels.
 *
 * <p>A tensor view at a nonzero offset ({@link Tensor#slice}) is an OpenCL sub-buffer
 * ({@code clCreateSubBuffer}), so every kernel runs on views unchanged. OpenCL requires a sub-buffer to start
 * at a multiple of the device's {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN}; {@link #viewAlignmentFloats()} says
 * what that is in floats, and a view at another offset throws {@link UnsupportedOperationException}.
 *
 * <p>Used by one thread at a time, as {@link Backend} requires.
 */
public final class ClBackend extends AbstractBackend {
    private static final Logger LOG = LoggerFactory.getLogger(ClBackend.class);
    private final BackendStats stats = new BackendStats();
    private final ClContext cl;
    private final ClProgramCache cache;
    private final ClBufferPool pool;
    private final ClElementwise elementwise;
    private ClMatmul matmul;
    private ClGemmTuner.Result tuning;
    private final ClReduce reduce;
    private final ClSoftmaxLoss softmaxLoss;
    private final ClOptimizer optimizer;
    private final ClBroadcast broadcast;
    private final ClRandom random;
    private final ClConv conv;
    private final ClStaging staging;
    /** The bytes of {@link #uploadByteRowsKernel}'s last rows on the device (room for them as floats); grown as needed. */
    private Tensor byteRows;
    /** The float each byte value stands for, {@code v / byteTableDivisor}, on the device. */
    private Tensor byteTable;
    /** The divisor {@link #byteTable} was made for (meaningless while there is no table: a NaN divisor is allowed). */
    private float byteTableDivisor = Float.NaN;
    private final int alignBytes;
    private final Set<ClBuffer> subBuffers = Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * The backend on {@code cl} with shape-aware GEMM tiles for its device ({@link ClMatmul#plan}), tuned as the system
     * property {@value ClGemmTuner#PROPERTY} says, with the configured {@link ClDiskCache}.
     */
    ClBackend(ClContext cl) {
        this(cl, ClDiskCache.configured(cl.device()), ClGemmTuner.Mode.of(System.getProperty(ClGemmTuner.PROPERTY)));
    }

    /**
     * The backend on {@code cl} with program binaries and tuned tiles kept in {@code disk}, the tile ladder tuned under
     * {@code tuning} ({@link ClGemmTuner}). A tuning that fails is logged and leaves the built-in tiles.
     */
    ClBackend(ClContext cl, ClDiskCache disk, ClGemmTuner.Mode tuning) {
        this(cl, disk, tuning, ClMatmul.ladderFor(cl.device()));
    }

    private ClBackend(ClContext cl, ClDiskCache disk, ClGemmTuner.Mode tuning, List<ClMatmul.Params> builtIn) {
        this(cl, disk, (cache, pool) -> new ClMatmul(cl, cache, pool, builtIn, cl.device().computeUnits()));
        ClGemmTuner.Result r;
        try {
            r = ClGemmTuner.ladder(this, cl, cache, pool, disk, builtIn, cl.device().computeUnits(), tuning);
        } catch (RuntimeException e) {
            LOG.warn("GEMM tuning failed on {} ({}); using the built-in tiles", cl.device().name(), e.toString());
            r = new ClGemmTuner.Result(builtIn, "built-in", 0, List.of());
        }
        this.tuning = r;
        if (!r.ladder().equals(builtIn)) {
            matmul.close();
            matmul = new ClMatmul(cl, cache, pool, r.ladder(), cl.device().computeUnits());
        }
    }

    /**
     * Shape-aware GEMM tiles planned as for a device of {@code computeUnits} compute units (tests pretend to have a
     * large GPU on PoCL, so that small tiles and split K run here).
     */
    ClBackend(ClContext cl, int computeUnits) {
        this(cl, (cache, pool) -> new ClMatmul(cl, cache, pool, ClMatmul.ladderFor(cl.device()), computeUnits));
    }

    /** A backend with explicit GEMM tiles, never split (tests run every candidate on whatever device is present). */
    ClBackend(ClContext cl, ClMatmul.Params gemm, ClMatmul.Params gemmLarge) {
        this(cl, (cache, pool) -> new ClMatmul(cl, cache, pool, gemm, gemmLarge));
    }

    private ClBackend(ClContext cl, BiFunction<ClProgramCache, ClBufferPool, ClMatmul> gemm) {
        this(cl, ClDiskCache.configured(cl.device()), gemm);
    }

    private ClBackend(ClContext cl, ClDiskCache disk, BiFunction<ClProgramCache, ClBufferPool, ClMatmul> gemm) {
        this.cl = cl;
        this.cache = new ClProgramCache(cl, disk);
        this.pool = new ClBufferPool(cl, stats);
        cl.countIn(stats);
        this.elementwise = new ClElementwise(cl, cache);
        this.matmul = gemm.apply(cache, pool);
        this.reduce = new ClReduce(cl, cache, pool);
        this.softmaxLoss = new ClSoftmaxLoss(cl, cache);
        this.optimizer = new ClOptimizer(cl, cache);
        this.broadcast = new ClBroadcast(cl, cache);
        this.random = new ClRandom(cl, cache);
        this.conv = new ClConv(cl, cache);
        this.staging = new ClStaging(cl);
        this.alignBytes = Math.max(1, cl.device().baseAddrAlignBits() / 8);
        this.tuning = new ClGemmTuner.Result(List.of(), "fixed by the caller", 0, List.of());
    }

    /**
     * Opens the device chosen by the system property {@value ClContext#DEVICE_PROPERTY} (index or name
     * substring), else the first GPU, accelerator or CPU device.
     *
     * @throws IllegalStateException    when OpenCL or a device is missing (the message says how to install it)
     * @throws IllegalArgumentException when the selector matches no device
     */
    public static ClBackend open() {
        return open(System.getProperty(ClContext.DEVICE_PROPERTY));
    }

    /**
     * Opens the device {@code selector} names ({@link ClContext#choose}), tuned as {@value ClGemmTuner#PROPERTY} says.
     *
     * @throws IllegalArgumentException when the selector matches no device or the tuning property is not a mode
     */
    static ClBackend open(String selector) {
        ClGemmTuner.Mode tuning = ClGemmTuner.Mode.of(System.getProperty(ClGemmTuner.PROPERTY));
        ClContext cl = ClContext.open(selector);
        try {
            return new ClBackend(cl, ClDiskCache.configured(cl.device()), tuning);
        } catch (RuntimeException | Error e) {
            cl.close();
            throw e;
        }
    }

    /** The device this backend runs on. */
    public ClInfo.Device device() {
        return cl.device();
    }

    /** Number of {@code cl_mem} objects created so far; a buffer reused from the pool does not count. */
    public long bufferCreations() {
        return pool.creations();
    }

    /** Where this backend's GEMM tiles came from (built in, the cache, tuned now) and what tuning timed. */
    ClGemmTuner.Result gemmTuning() {
        return tuning;
    }

    /** The programs and kernel bindings of this backend: for tests. */
    ClProgramCache programCache() {
        return cache;
    }

    /** How a product {@code m x n x k} would run here (tiles, K splits): for tests. */
    ClMatmul.Plan gemmPlan(int m, int n, int k) {
        return matmul.plan(m, n, k, false);
    }

    /**
     * The GEMM tiles of a large square product on this device, as build options (smaller or thinner products may get
     * smaller tiles or split K: {@code ClMatmul.plan}).
     */
    public String gemmOptions() {
        return matmul.plan(4096, 4096, 4096, false).params().options(false, false);
    }

    @Override
    public int viewAlignment() {
        return viewAlignmentFloats();
    }

    /** Real kernel enqueues are counted by {@link ClContext}; a primitive may launch several. */
    @Override
    protected void countLaunch() {
    }

    /**
     * The alignment, in floats, of the offsets at which this device can view a buffer
     * ({@code CL_DEVICE_MEM_BASE_ADDR_ALIGN} / 32 bits, at least 1): a {@link Tensor#slice} starting a
     * multiple of this many floats into its tensor works, one at any other offset throws
     * {@link UnsupportedOperationException}. 32 on PoCL (128 bytes).
     */
    public int viewAlignmentFloats() {
        return Math.max(1, alignBytes / Float.BYTES);
    }

    /** Number of sub-buffers (views at a nonzero offset) currently open. */
    public int openViews() {
        return subBuffers.size();
    }

    static ClBuffer buf(Tensor t) {
        return (ClBuffer) t.buffer();
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String deviceDescription() {
        ClInfo.Device d = cl.device();
        return d.name() + " (" + d.version() + ", " + d.type() + ", " + d.platform() + ")";
    }

    @Override
    public BackendStats stats() {
        return stats;
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Class<? extends DeviceBuffer> bufferClass() {
        return ClBuffer.class;
    }

    @Override
    protected DeviceBuffer allocateStorage(long floats) {
        return pool.acquire(floats);
    }

    /** A pooled buffer goes back to the pool; a sub-buffer (a view) is released ({@code clReleaseMemObject}). */
    @Override
    protected void releaseStorage(DeviceBuffer buffer) {
        if (buffer instanceof ClBuffer b) {
            if (b.isSubBuffer()) {
                if (subBuffers.remove(b)) {
                    cache.forget(b);
                    clReleaseMemObject(b.mem());
                }
            } else {
                pool.release(b);
            }
        }
    }

    /**
     * A sub-buffer ({@code CL_BUFFER_CREATE_TYPE_REGION}) of {@code floats} floats at {@code offset} into
     * {@code storage}; a view of a view is made on the pooled buffer underneath.
     *
     * @throws UnsupportedOperationException when {@code offset} floats is not a multiple of the device's
     *                                       {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN} (the message names both)
     */
    @Override
    protected DeviceBuffer viewStorage(DeviceBuffer storage, long offset, long floats) {
        ClBuffer s = (ClBuffer) storage;
        ClBuffer parent = s.isSubBuffer() ? s.parent() : s;
        long origin = s.origin() + offset;
        long originBytes = origin * Float.BYTES;
        if (originBytes % alignBytes != 0) {
            throw new UnsupportedOperationException("OpenCL cannot view a buffer at offset " + origin + " floats ("
                    + originBytes + " bytes): a sub-buffer must start at a multiple of CL_DEVICE_MEM_BASE_ADDR_ALIGN = "
                    + alignBytes + " bytes (" + viewAlignmentFloats() + " floats) on " + cl.device().name()
                    + "; slice at a multiple of " + viewAlignmentFloats() + " floats");
        }
        if (floats == 0) {
            throw new UnsupportedOperationException("OpenCL cannot view 0 floats at offset " + origin
                    + " (a sub-buffer cannot be empty: CL_INVALID_BUFFER_SIZE)");
        }
        cl_buffer_region region = new cl_buffer_region(originBytes, floats * Float.BYTES);
        cl_mem mem = clCreateSubBuffer(parent.mem(), CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, region, null);
        ClBuffer view = new ClBuffer(mem, floats, parent, origin);
        subBuffers.add(view);
        return view;
    }

    /**
     * Through pinned staging memory without waiting ({@link ClStaging}): the array is copied on the host and the
     * write enqueued, so a training step's batch upload makes no blocking call. Uploads above
     * {@link ClStaging#MAX_STAGED_BYTES} are blocking writes straight from the array.
     */
    @Override
    protected void uploadKernel(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        if (count > 0 && 4L * count <= ClStaging.MAX_STAGED_BYTES) {
            staging.upload(src, srcOffset, buf(dst).mem(), (long) dstOffset * Sizeof.cl_float, count);
        } else if (count > 0) {
            cl.countBlockingCall();
            clEnqueueWriteBuffer(cl.queue(), buf(dst).mem(), CL_TRUE, (long) dstOffset * Sizeof.cl_float,
                    (long) count * Sizeof.cl_float, Pointer.to(src).withByteOffset((long) srcOffset * Sizeof.cl_float),
                    0, null, null);
        }
        stats.onUpload(4L * count);
    }

    /**
     * Rows of bytes sent as bytes, a quarter of the transfer of their floats, and converted on the device: the host
     * packs the rows into pinned memory, the device reads them into a buffer kept for the next batch, and
     * {@code bytes_to_floats} looks each byte up in a table of the 256 floats {@code v / divisor} (computed on the
     * host, the floats of a host conversion bit for bit; uploaded again only when the divisor changes). Both are
     * enqueued without waiting. A batch beyond the staging limit goes the host's way ({@code super}).
     */
    @Override
    protected void uploadByteRowsKernel(byte[] src, int[] offsets, int rows, int rowLength, float divisor, Tensor dst,
                                        int dstOffset) {
        int count = rows * rowLength;
        if (count == 0) {
            return;
        }
        if (count > ClStaging.MAX_STAGED_BYTES) {
            super.uploadByteRowsKernel(src, offsets, rows, rowLength, divisor, dst, dstOffset);
            return;
        }
        int words = (count + 3) / 4;
        if (byteRows == null || byteRows.size() < words) {
            if (byteRows != null) {
                byteRows.close();
            }
            byteRows = allocate(Shape.of(words));
        }
        if (byteTable == null || Float.floatToRawIntBits(divisor) != Float.floatToRawIntBits(byteTableDivisor)) {
            float[] table = new float[256];
            for (int v = 0; v < 256; v++) {
                table[v] = v / divisor;
            }
            if (byteTable == null) {
                byteTable = allocate(Shape.of(256));
            }
            uploadKernel(table, 0, byteTable, 0, 256);
            byteTableDivisor = divisor;
        }
        staging.uploadBytes(src, offsets, rows, rowLength, buf(byteRows).mem());
        stats.onUpload(count);
        countLaunch();
        elementwise.bytesToFloats(count, byteRows, byteTable, dst, dstOffset);
    }

    @Override
    protected void downloadKernel(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        if (count > 0) {
            cl.countBlockingCall();
            clEnqueueReadBuffer(cl.queue(), buf(src).mem(), CL_TRUE, (long) srcOffset * Sizeof.cl_float,
                    (long) count * Sizeof.cl_float, Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.cl_float),
                    0, null, null);
        }
        stats.onDownload(4L * count);
    }

    /** Non-blocking reads into pinned memory, counted as one download; {@link PendingRead#await} waits only if needed. */
    @Override
    protected PendingRead readLaterKernel(Tensor... tensors) {
        List<ClStaging.Part> parts = new ArrayList<>(tensors.length);
        long bytes = 0;
        for (Tensor t : tensors) {
            parts.add(new ClStaging.Part(buf(t).mem(), t.size()));
            bytes += 4L * t.size();
        }
        stats.onDownload(bytes);
        return staging.read(parts);
    }

    @Override
    protected void synchronizeKernel() {
        cl.finish();
    }

    /** Waits for the queue, then releases the views, the scratch and pooled buffers, kernels, programs and the context. */
    @Override
    protected void closeBackend() {
        try {
            cl.finish();
        } finally {
            for (ClBuffer b : List.copyOf(subBuffers)) {
                clReleaseMemObject(b.mem());
            }
            subBuffers.clear();
            staging.close();
            matmul.close();
            reduce.close();
            pool.close();
            cache.close();
            cl.close();
        }
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    protected void fillKernel(Tensor x, float value) {
        elementwise.fill(x, value);
    }

    @Override
    protected void copyKernel(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        elementwise.copy(src, srcOffset, dst, dstOffset, count);
    }

    @Override
    protected void axpbyKernel(float alpha, Tensor x, float beta, Tensor y) {
        elementwise.axpby(alpha, x, beta, y);
    }

    @Override
    protected void unaryKernel(UnaryOp op, float p, float q, Tensor x, Tensor y) {
        elementwise.unary(op, p, q, x, y);
    }

    @Override
    protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor c, Broadcast bc) {
        if (bc == null) {
            elementwise.binary(op, a, b, c);
        } else {
            broadcast.binary(op, a, b, c, bc);
        }
    }

    @Override
    protected void binaryBackwardKernel(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad,
                                        boolean accumulate, Broadcast bc) {
        if (bc == null) {
            elementwise.binaryBackward(op, operand, a, b, dc, grad, accumulate);
        } else {
            broadcast.binaryBackward(op, operand, a, b, dc, grad, accumulate, bc);
        }
    }

    @Override
    protected void sumToKernel(Tensor x, Tensor y, boolean accumulate, Broadcast bc) {
        broadcast.sumTo(x, y, accumulate, bc);
    }

    @Override
    protected void activationKernel(Activation f, float param, Tensor x, Tensor y) {
        elementwise.activation(f, param, x, y);
    }

    @Override
    protected void activationBackwardKernel(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                            boolean accumulate) {
        elementwise.activationBackward(f, param, x, y, dy, dx, accumulate);
    }

    /** One fused kernel instead of the default bias add then activation. */
    @Override
    protected void biasActivationKernel(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        elementwise.biasActivation(x, bias, f, param, y);
    }

    @Override
    protected void addRowVectorKernel(Tensor x, Tensor bias, Tensor y) {
        elementwise.addRowVector(x, bias, y);
    }

    @Override
    protected void preluKernel(Tensor x, Tensor slope, Tensor y) {
        elementwise.prelu(x, slope, y);
    }

    @Override
    protected void preluBackwardKernel(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                                       Tensor dslope, boolean accumulateDslope) {
        if (dx != null) {
            elementwise.preluBackwardInput(x, slope, dy, dx, accumulateDx);
        }
        if (dslope != null) {
            elementwise.preluBackwardSlope(x, dy, dslope, accumulateDslope);
        }
    }

    @Override
    protected void maxoutKernel(int pieces, Tensor z, Tensor y) {
        elementwise.maxout(pieces, z, y);
    }

    @Override
    protected void maxoutBackwardKernel(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        elementwise.maxoutBackward(pieces, z, dy, dz, accumulate);
    }

    @Override
    protected void randomUniformKernel(long key, long counter, Tensor out) {
        random.uniform(key, counter, out);
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                              float beta, Tensor c) {
        matmul.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /** One launch: the bias and the activation in the product's epilogue. */
    @Override
    protected void gemmBiasActivationKernel(Tensor x, Tensor w, Tensor bias, Activation f, float param, Tensor y) {
        matmul.gemm(false, false, x.rows(), w.cols(), x.cols(), 1f, x, w, 0f, y,
                ClMatmul.Fusion.biasActivation(bias, f, param));
    }

    /**
     * Two launches: {@code dx = (dy f'(y)) W^T} with the mask applied as {@code dy} is loaded, and
     * {@code dW = x^T (dy f'(y))} summing the bias gradient from the same staged tiles; {@code dy} is left as it was.
     * A bias gradient without a weight gradient takes the composed path.
     */
    @Override
    protected void denseBackwardKernel(Activation f, float param, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx,
                                       boolean accumulateDx, Tensor dw, boolean accumulateDw, Tensor db,
                                       boolean accumulateDb) {
        if (db != null && dw == null) {
            super.denseBackwardKernel(f, param, x, w, y, dy, dx, accumulateDx, dw, accumulateDw, db, accumulateDb);
            return;
        }
        int n = x.rows();
        if (dx != null) {
            matmul.gemm(false, true, n, x.cols(), y.cols(), 1f, dy, w, accumulateDx ? 1f : 0f, dx,
                    ClMatmul.Fusion.masked(1, f, param, y, null, false));
        }
        if (dw != null) {
            matmul.gemm(true, false, x.cols(), y.cols(), n, 1f, x, dy, accumulateDw ? 1f : 0f, dw,
                    ClMatmul.Fusion.masked(2, f, param, y, db, accumulateDb));
        }
    }

    // ---------------------------------------------------------------- layout, convolution, pooling

    @Override
    protected void permuteKernel(Tensor x, int[] axes, Tensor y) {
        conv.permute(x, axes, y);
    }

    @Override
    protected void im2colKernel(Conv2dSpec spec, int group, Tensor x, Tensor col) {
        conv.im2col(spec, group, x, col);
    }

    /** A gather (one work-item per element of the group's channels of {@code dx}), so no atomics. */
    @Override
    protected void col2imKernel(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate) {
        conv.col2im(spec, group, col, dx, accumulate);
    }

    @Override
    protected void pool2dKernel(Pool2dSpec spec, Tensor x, Tensor y) {
        conv.pool2d(spec, x, y);
    }

    /** A gather (one work-item per element of {@code dx}, over the windows containing it), so no atomics. */
    @Override
    protected void pool2dBackwardKernel(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        conv.pool2dBackward(spec, x, dy, dx, accumulate);
    }

    // ---------------------------------------------------------------- reductions, softmax, losses

    @Override
    protected void reduceKernel(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        reduce.reduce(op, axis, x, y, accumulate);
    }

    @Override
    protected void reduceBackwardKernel(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                        boolean accumulate) {
        reduce.reduceBackward(op, axis, x, dy, dx, accumulate);
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor y) {
        softmaxLoss.softmax(x, y);
    }

    @Override
    protected void softmaxBackwardKernel(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        softmaxLoss.softmaxBackward(y, dy, dx, accumulate);
    }

    @Override
    protected void rowLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        softmaxLoss.rowLoss(kind, pred, target, out);
    }

    @Override
    protected void rowLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                         boolean accumulate) {
        softmaxLoss.rowLossBackward(kind, pred, target, dout, dpred, accumulate);
    }

    /** One launch: a work-group whose lanes take whole rows and sum their losses. */
    @Override
    protected void meanLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        softmaxLoss.meanLoss(kind, pred, target, out);
    }

    /** One launch: the per-sample backward kernel with {@code dout[0] / n} for every row. */
    @Override
    protected void meanLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                          boolean accumulate) {
        softmaxLoss.meanLossBackward(kind, pred, target, dout, dpred, accumulate);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    protected void sgdUpdateKernel(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        optimizer.sgdUpdate(param, grad, velocity, gradNormSq, update);
    }

    @Override
    protected void adaptiveUpdateKernel(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                        AdaptiveUpdate update) {
        optimizer.adaptiveUpdate(param, grad, m, v, gradNormSq, update);
    }
}
