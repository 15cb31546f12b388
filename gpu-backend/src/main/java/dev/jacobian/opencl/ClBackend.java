package dev.jacobian.opencl;

import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendStats;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.DeviceBuffer;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.tensor.Tensor;
import org.jocl.Pointer;
import org.jocl.Sizeof;

/**
 * The OpenCL backend: tensors are {@code cl_mem} buffers on one device, primitives are kernels from
 * {@code dev/jacobian/kernels/*.cl} enqueued on one in-order queue.
 *
 * <p>Nothing inside a primitive waits for the device: kernels are enqueued and return. {@link #download}
 * is a blocking read, which the in-order queue runs after all earlier work; {@link #upload} is a blocking
 * write (the host array may change as soon as it returns); {@link #synchronize()} is {@code clFinish}.
 * Reductions to a scalar (a loss, the gradient norm) stay on the device. Buffers come from a
 * {@link ClBufferPool}; {@link #close()} releases every buffer, kernel, program, the queue and the context.
 *
 * <p>Used by one thread at a time, as {@link Backend} requires.
 */
public final class ClBackend implements Backend {
    private final BackendStats stats = new BackendStats();
    private final ClContext cl;
    private final ClProgramCache cache;
    private final ClBufferPool pool;
    private final ClElementwise elementwise;
    private final ClMatmul matmul;
    private final ClReduce reduce;
    private final ClSoftmaxLoss softmaxLoss;
    private final ClOptimizer optimizer;
    private boolean closed;

    ClBackend(ClContext cl) {
        this(cl, ClMatmul.Params.forDevice(cl.device()), ClMatmul.Params.forLargeProducts(cl.device()));
    }

    /** A backend with explicit GEMM tiles (tests run every candidate on whatever device is present). */
    ClBackend(ClContext cl, ClMatmul.Params gemm, ClMatmul.Params gemmLarge) {
        this.cl = cl;
        this.cache = new ClProgramCache(cl);
        this.pool = new ClBufferPool(cl, stats);
        this.elementwise = new ClElementwise(cl, cache);
        this.matmul = new ClMatmul(cl, cache, gemm, gemmLarge);
        this.reduce = new ClReduce(cl, cache, pool);
        this.softmaxLoss = new ClSoftmaxLoss(cl, cache);
        this.optimizer = new ClOptimizer(cl, cache);
    }

    /**
     * Opens the device chosen by the system property {@value ClContext#DEVICE_PROPERTY} (index or name
     * substring), else the first GPU, accelerator or CPU device.
     *
     * @throws IllegalStateException    when OpenCL or a device is missing (the message says how to install it)
     * @throws IllegalArgumentException when the selector matches no device
     */
    public static ClBackend open() {
        return new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)));
    }

    /** The device this backend runs on. */
    public ClInfo.Device device() {
        return cl.device();
    }

    /** Number of {@code cl_mem} objects created so far; a buffer reused from the pool does not count. */
    public long bufferCreations() {
        return pool.creations();
    }

    /** The GEMM tile parameters chosen for this device, as a string of build options. */
    public String gemmOptions() {
        return matmul.params().options(false, false);
    }

    static ClBuffer buf(Tensor t) {
        if (!(t.buffer() instanceof ClBuffer b)) {
            throw new IllegalArgumentException("tensor " + t.shape() + " belongs to backend " + t.backend().name());
        }
        return b;
    }

    private void checkOpen(Tensor... ts) {
        if (closed) {
            throw new IllegalStateException("OpenCL backend is closed");
        }
        for (Tensor t : ts) {
            if (t != null && t.backend() != this) {
                throw new IllegalArgumentException("tensor " + t.shape() + " belongs to backend " + t.backend().name()
                        + ", not to this OpenCL backend");
            }
        }
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
    public DeviceBuffer allocateBuffer(long floats) {
        checkOpen();
        return pool.acquire(floats);
    }

    @Override
    public void release(DeviceBuffer buffer) {
        if (!closed && buffer instanceof ClBuffer b) {
            pool.release(b);
        }
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        checkOpen(dst);
        if (count < 0 || dstOffset < 0 || dstOffset + count > dst.size() || srcOffset < 0 || srcOffset + count > src.length) {
            throw new IndexOutOfBoundsException("upload of " + count + " floats at " + dstOffset + " into " + dst.shape());
        }
        if (count > 0) {
            clEnqueueWriteBuffer(cl.queue(), buf(dst).mem(), CL_TRUE, (long) dstOffset * Sizeof.cl_float,
                    (long) count * Sizeof.cl_float, Pointer.to(src).withByteOffset((long) srcOffset * Sizeof.cl_float),
                    0, null, null);
        }
        stats.onUpload(4L * count);
    }

    @Override
    public void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        checkOpen(src);
        if (count < 0 || srcOffset < 0 || srcOffset + count > src.size() || dstOffset < 0 || dstOffset + count > dst.length) {
            throw new IndexOutOfBoundsException("download of " + count + " floats at " + srcOffset + " from " + src.shape());
        }
        if (count > 0) {
            clEnqueueReadBuffer(cl.queue(), buf(src).mem(), CL_TRUE, (long) srcOffset * Sizeof.cl_float,
                    (long) count * Sizeof.cl_float, Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.cl_float),
                    0, null, null);
        }
        stats.onDownload(4L * count);
    }

    @Override
    public void synchronize() {
        checkOpen();
        cl.finish();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            cl.finish();
        } finally {
            closed = true;
            reduce.close();
            pool.close();
            cache.close();
            cl.close();
        }
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void fill(Tensor x, float value) {
        checkOpen(x);
        elementwise.fill(x, value);
    }

    @Override
    public void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        Checks.transfer("copy from", src, srcOffset, count);
        Checks.transfer("copy into", dst, dstOffset, count);
        checkOpen(src, dst);
        elementwise.copy(src, srcOffset, dst, dstOffset, count);
    }

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        Checks.sameSize("axpby", x, y);
        checkOpen(x, y);
        elementwise.axpby(alpha, x, beta, y);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor c) {
        Checks.binary(op, a, b, c);
        checkOpen(a, b, c);
        elementwise.binary(op, a, b, c);
    }

    @Override
    public void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate) {
        Checks.binaryBackward(op, operand, a, b, dc, grad);
        checkOpen(a, b, dc, grad);
        elementwise.binaryBackward(op, operand, a, b, dc, grad, accumulate);
    }

    @Override
    public void activation(Activation f, float param, Tensor x, Tensor y) {
        Checks.sameSize("activation " + f, x, y);
        checkOpen(x, y);
        elementwise.activation(f, param, x, y);
    }

    @Override
    public void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.activationBackward(f, x, y, dy, dx);
        checkOpen(x, y, dy, dx);
        elementwise.activationBackward(f, param, x, y, dy, dx, accumulate);
    }

    @Override
    public void biasActivation(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        Checks.rowVectorOp("biasActivation", x, bias, y);
        checkOpen(x, bias, y);
        elementwise.biasActivation(x, bias, f, param, y);
    }

    @Override
    public void addRowVector(Tensor x, Tensor bias, Tensor y) {
        Checks.rowVectorOp("addRowVector", x, bias, y);
        checkOpen(x, bias, y);
        elementwise.addRowVector(x, bias, y);
    }

    @Override
    public void prelu(Tensor x, Tensor slope, Tensor y) {
        Checks.rowVectorOp("prelu", x, slope, y);
        checkOpen(x, slope, y);
        elementwise.prelu(x, slope, y);
    }

    @Override
    public void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                              Tensor dslope, boolean accumulateDslope) {
        Checks.preluBackward(x, slope, dy, dx, dslope);
        checkOpen(x, slope, dy, dx, dslope);
        if (dx != null) {
            elementwise.preluBackwardInput(x, slope, dy, dx, accumulateDx);
        }
        if (dslope != null) {
            elementwise.preluBackwardSlope(x, dy, dslope, accumulateDslope);
        }
    }

    @Override
    public void maxout(int pieces, Tensor z, Tensor y) {
        Checks.maxout("maxout", pieces, z, y);
        checkOpen(z, y);
        elementwise.maxout(pieces, z, y);
    }

    @Override
    public void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        Checks.maxoutBackward(pieces, z, dy, dz);
        checkOpen(z, dy, dz);
        elementwise.maxoutBackward(pieces, z, dy, dz, accumulate);
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int[] mnk = Checks.gemm(transA, transB, a, b, c);
        checkOpen(a, b, c);
        matmul.gemm(transA, transB, alpha, a, b, beta, c, mnk);
    }

    // ---------------------------------------------------------------- reductions, softmax, losses

    @Override
    public void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        Checks.reduce(op, axis, x, y, accumulate);
        checkOpen(x, y);
        reduce.reduce(op, axis, x, y, accumulate);
    }

    @Override
    public void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.reduceBackward(op, axis, x, y, dy, dx);
        checkOpen(x, y, dy, dx);
        reduce.reduceBackward(op, axis, x, dy, dx, accumulate);
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Checks.sameMatrix("softmax", x, y);
        checkOpen(x, y);
        softmaxLoss.softmax(x, y);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.softmaxBackward(y, dy, dx);
        checkOpen(y, dy, dx);
        softmaxLoss.softmaxBackward(y, dy, dx, accumulate);
    }

    @Override
    public void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        Checks.rowLoss("rowLoss", kind, pred, target, out);
        checkOpen(pred, target, out);
        softmaxLoss.rowLoss(kind, pred, target, out);
    }

    @Override
    public void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        Checks.rowLossBackward(kind, pred, target, dout, dpred);
        checkOpen(pred, target, dout, dpred);
        softmaxLoss.rowLossBackward(kind, pred, target, dout, dpred, accumulate);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        Checks.sgdUpdate(param, grad, velocity, gradNormSq, update);
        checkOpen(param, grad, velocity, gradNormSq);
        optimizer.sgdUpdate(param, grad, velocity, gradNormSq, update);
    }
}
