package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;

/**
 * The one checked entry path of every backend: each public primitive validates its arguments here, once
 * and identically for all backends — the backend is open, every tensor belongs to it and is open, shapes
 * and ranks fit (an {@link IllegalArgumentException} naming the primitive and the shapes), the aliasing
 * rules of {@link Backend} hold — and then calls the backend's kernel hook ({@code ...Kernel}), which may
 * assume valid arguments. A new backend extends this class (or {@link HeapBackend}) and writes kernels only.
 *
 * <p>Every public entry point is {@code synchronized} on the backend: a call and its kernels (and the composed
 * defaults' scratch tensors) belong to one thread at a time, so a backend shared by two threads serializes their
 * calls instead of mixing them (on the CPU backend that mixing corrupted shared packing buffers; on OpenCL two
 * threads setting arguments of one {@code cl_kernel} aborted the JVM). Uncontended, the lock costs a few tens
 * of nanoseconds a call.
 *
 * <p>Hooks that take a {@link Broadcast} get {@code null} when every operand has the output's number of
 * elements (a flat elementwise loop), else the descriptor of how the operands broadcast.
 */
public abstract class AbstractBackend implements Backend {
    private boolean closed;
    private final java.util.Map<ScratchKey, Tensor> scratch = new java.util.HashMap<>();
    /** The host floats {@link #uploadByteRowsKernel} converts into, grown as needed. */
    private float[] byteRowsScratch = new float[0];

    /** A scratch tensor's key: its slot and shape, or (for a constant row) its slot and length. */
    private record ScratchKey(String slot, Shape shape, int constant) {
    }

    /** For subclasses: an open backend without scratch tensors. */
    protected AbstractBackend() {
    }

    /**
     * A scratch tensor for the composed defaults ({@link ComposedKernels}), one per {@code (slot, shape)},
     * allocated on first use and kept until the backend closes: after the first step they allocate nothing.
     * Contents are undefined between uses.
     */
    final Tensor scratch(String slot, Shape shape) {
        return scratch.computeIfAbsent(new ScratchKey(slot, shape, -1), k -> allocate(shape));
    }

    /** The row {@code [0, 1, ..., n-1]} of shape {@code [1, n]}, uploaded once per {@code n}. */
    final Tensor constantRow(String slot, int n) {
        return scratch.computeIfAbsent(new ScratchKey(slot, null, n), k -> {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = i;
            }
            return fromHost(Shape.matrix(1, n), v);
        });
    }

    /** Throws {@link IllegalStateException} when {@link #close()} was called. */
    protected final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " backend is closed");
        }
    }

    /** Throws {@link IllegalStateException} naming {@code op} when {@link #close()} was called. */
    private void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the " + name() + " backend is closed");
        }
    }

    /** Whether {@link #close()} was called. */
    protected final boolean isClosed() {
        return closed;
    }

    /**
     * Called once per compute primitive after its checks passed. The default counts one launch in
     * {@link #stats()}; a device backend that counts its real kernel enqueues overrides it to do nothing.
     */
    protected void countLaunch() {
        stats().onLaunch();
    }

    /**
     * The backend is open and {@code t} (called {@code what} in messages) is not null, belongs to this backend and is
     * open.
     */
    private void own(String op, String what, Tensor t) {
        ensureOpen(op);
        Checks.given(op, "tensor " + what, t);
        mine(op, t);
    }

    /** {@code t} belongs to this backend and is open; the backend is known to be open. */
    private void mine(String op, Tensor t) {
        if (t.backend() != this) {
            throw new IllegalArgumentException(op + ": tensor " + t.shape() + (t.backend().name().equals(name())
                    ? " belongs to another " + name() + " backend instance, not to this one"
                    : " belongs to backend " + t.backend().name() + ", not to this " + name() + " backend"));
        }
        t.buffer(); // IllegalStateException when closed
    }

    /**
     * The backend is open and every tensor of {@code ts} is not null, belongs to this backend and is open;
     * {@code names} lists their names, comma-separated, for the message about a null one.
     */
    private void own(String op, String names, Tensor... ts) {
        ensureOpen(op);
        for (int i = 0; i < ts.length; i++) {
            if (ts[i] == null) {
                throw new IllegalArgumentException(op + ": tensor " + names.split(", ")[i] + " is null");
            }
            mine(op, ts[i]);
        }
    }

    /** An optional tensor: null, or one that belongs to this backend and is open (the backend is known open). */
    private void ownOptional(String op, Tensor t) {
        if (t != null) {
            mine(op, t);
        }
    }

    /** An output may be its input exactly, but not a different, overlapping range of the same storage. */
    private static void inPlaceOnly(String op, Tensor in, Tensor out) {
        if (in != null && out != null && in.overlaps(out) && (in.offset() != out.offset() || in.size() != out.size())) {
            throw new IllegalArgumentException(op + ": output " + out.shape() + " partially overlaps input " + in.shape());
        }
    }

    private static void disjoint(String op, Tensor in, Tensor out) {
        if (in != null && out != null && in.overlaps(out)) {
            throw new IllegalArgumentException(op + ": output " + out.shape() + " must not overlap input " + in.shape());
        }
    }

    /** {@code out} (written, called {@code outName}) and {@code other} (called {@code otherName}) share no element. */
    private static void apart(String op, String outName, Tensor out, String otherName, Tensor other) {
        if (out != null && other != null && out.overlaps(other)) {
            throw new IllegalArgumentException(op + ": " + outName + " " + out.shape() + " must not overlap " + otherName
                    + " " + other.shape() + " (they share storage)");
        }
    }

    // ---------------------------------------------------------------- memory

    @Override
    public final synchronized DeviceBuffer allocateBuffer(long floats) {
        ensureOpen("allocate");
        if (floats < 0) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats");
        }
        return allocateStorage(floats);
    }

    /** Allocates storage for {@code floats} floats ({@code >= 0}, backend open). */
    protected abstract DeviceBuffer allocateStorage(long floats);

    /** The class of the buffers this backend allocates and views ({@link #accepts} tests it). */
    protected abstract Class<? extends DeviceBuffer> bufferClass();

    @Override
    public final boolean accepts(DeviceBuffer buffer) {
        return bufferClass().isInstance(buffer);
    }

    /** {@code buffer} is of this backend's kind, else an {@link IllegalArgumentException} naming {@code call}. */
    private void checkKind(String call, DeviceBuffer buffer) {
        if (!accepts(buffer)) {
            throw new IllegalArgumentException(call + ": a " + buffer.getClass().getName() + " is not a buffer of the "
                    + name() + " backend (it holds " + bufferClass().getSimpleName() + "s)");
        }
    }

    @Override
    public final synchronized void release(DeviceBuffer buffer) {
        if (!closed && buffer != null) {
            checkKind("release", buffer);
            releaseStorage(buffer);
        }
    }

    /** Frees storage made by {@link #allocateStorage} or {@link #viewStorage}; only called while open. */
    protected abstract void releaseStorage(DeviceBuffer buffer);

    @Override
    public final synchronized DeviceBuffer viewBuffer(DeviceBuffer storage, long offset, long floats) {
        ensureOpen("viewBuffer");
        Checks.given("viewBuffer", "storage", storage);
        checkKind("viewBuffer", storage);
        if (offset < 0 || floats < 0 || floats > storage.floats() - offset) { // offset + floats could overflow
            throw new IndexOutOfBoundsException("view of " + floats + " floats at " + offset + " in a buffer of "
                    + storage.floats());
        }
        return viewStorage(storage, offset, floats);
    }

    /**
     * A buffer for {@code floats} floats at {@code offset} into {@code storage} (bounds checked), sharing it;
     * released through {@link #releaseStorage} without freeing {@code storage}. A backend that cannot make
     * this view throws {@link UnsupportedOperationException} saying why.
     */
    protected abstract DeviceBuffer viewStorage(DeviceBuffer storage, long offset, long floats);

    @Override
    public final synchronized void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        own("upload", "dst", dst);
        Checks.transfer("upload", dst, dstOffset, count);
        Checks.hostRange("upload", src, srcOffset, count);
        uploadKernel(src, srcOffset, dst, dstOffset, count);
    }

    /** Host to device copy; bounds checked. */
    protected abstract void uploadKernel(float[] src, int srcOffset, Tensor dst, int dstOffset, int count);

    @Override
    public final synchronized void uploadByteRows(byte[] src, int[] offsets, int rows, int rowLength, float divisor,
                                                  Tensor dst, int dstOffset) {
        own("uploadByteRows", "dst", dst);
        Checks.byteRows("uploadByteRows", src, offsets, rows, rowLength, dst, dstOffset);
        uploadByteRowsKernel(src, offsets, rows, rowLength, divisor, dst, dstOffset);
    }

    /**
     * {@link #uploadByteRows}, arguments checked. This one converts the rows into a host array of the backend's, kept
     * for the next call, and uploads it ({@link #uploadKernel}); a backend that can write its tensors from the host
     * converts them in place instead.
     */
    protected void uploadByteRowsKernel(byte[] src, int[] offsets, int rows, int rowLength, float divisor, Tensor dst,
                                        int dstOffset) {
        int count = rows * rowLength;
        if (byteRowsScratch.length < count) {
            byteRowsScratch = new float[count];
        }
        float[] x = byteRowsScratch;
        for (int r = 0; r < rows; r++) {
            bytesToFloats(src, offsets[r], x, r * rowLength, rowLength, divisor);
        }
        uploadKernel(x, 0, dst, dstOffset, count);
    }

    /** {@code dst[dstOffset + i] = (src[srcOffset + i] & 0xff) / divisor} for {@code i < count}. */
    protected static void bytesToFloats(byte[] src, int srcOffset, float[] dst, int dstOffset, int count,
                                        float divisor) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = (src[srcOffset + i] & 0xff) / divisor;
        }
    }

    @Override
    public final synchronized void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        own("download", "src", src);
        Checks.transfer("download", src, srcOffset, count);
        Checks.hostRange("download", dst, dstOffset, count);
        downloadKernel(src, srcOffset, dst, dstOffset, count);
    }

    /** Device to host copy after all enqueued work; bounds checked. */
    protected abstract void downloadKernel(Tensor src, int srcOffset, float[] dst, int dstOffset, int count);

    @Override
    public final synchronized PendingRead readLater(Tensor... tensors) {
        ensureOpen("readLater");
        Checks.given("readLater", "tensor array", tensors);
        long total = 0;
        for (int i = 0; i < tensors.length; i++) {
            if (tensors[i] == null) { // the message only when it is needed: this runs every training step
                Checks.given("readLater", "tensor " + (i + 1) + " of " + tensors.length, null);
            }
            mine("readLater", tensors[i]);
            total += tensors[i].size();
        }
        if (total > Checks.MAX_ARRAY_LENGTH) { // PendingRead.size and the host array are ints
            throw new IllegalArgumentException("readLater: " + total + " floats in " + tensors.length
                    + " tensors do not fit in one host array");
        }
        return readLaterKernel(tensors);
    }

    /** The reads of {@link #readLater}; the default downloads each tensor now and returns a completed read. */
    protected PendingRead readLaterKernel(Tensor... tensors) {
        float[] values = new float[PendingRead.size(tensors)];
        int at = 0;
        for (Tensor t : tensors) {
            downloadKernel(t, 0, values, at, t.size());
            at += t.size();
        }
        return PendingRead.completed(values);
    }

    @Override
    public final synchronized void synchronize() {
        ensureOpen("synchronize");
        synchronizeKernel();
    }

    /** Waits for all enqueued work. */
    protected abstract void synchronizeKernel();

    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeBackend();
    }

    /** Frees every buffer and device resource; called once. */
    protected abstract void closeBackend();

    // ---------------------------------------------------------------- elementwise

    @Override
    public final synchronized void fill(Tensor x, float value) {
        own("fill", "x", x);
        countLaunch();
        fillKernel(x, value);
    }

    /** {@code x[:] = value}. */
    protected abstract void fillKernel(Tensor x, float value);

    @Override
    public final synchronized void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        own("copy", "src, dst", src, dst);
        Checks.transfer("copy from", src, srcOffset, count);
        Checks.transfer("copy into", dst, dstOffset, count);
        if (src.root() == dst.root() && count > 0) {
            long a = src.offset() + srcOffset;
            long b = dst.offset() + dstOffset;
            if (a < b + count && b < a + count) {
                throw new IllegalArgumentException("copy: the source and destination ranges overlap");
            }
        }
        countLaunch();
        copyKernel(src, srcOffset, dst, dstOffset, count);
    }

    /** Ranged device copy; bounds checked, ranges disjoint. */
    protected abstract void copyKernel(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count);

    @Override
    public final synchronized void axpby(float alpha, Tensor x, float beta, Tensor y) {
        own("axpby", "x, y", x, y);
        Checks.sameSize("axpby", x, y);
        inPlaceOnly("axpby", x, y);
        countLaunch();
        axpbyKernel(alpha, x, beta, y);
    }

    /** {@code y = alpha x + beta y}; same size. */
    protected abstract void axpbyKernel(float alpha, Tensor x, float beta, Tensor y);

    @Override
    public final synchronized void unary(UnaryOp op, float p, float q, Tensor x, Tensor y) {
        Checks.given("unary", "operation", op);
        own("unary " + op, "x, y", x, y);
        Checks.sameSize("unary " + op, x, y);
        inPlaceOnly("unary " + op, x, y);
        if (op == UnaryOp.CLAMP && !(p <= q)) {
            throw new IllegalArgumentException("unary CLAMP: lower bound " + p + " is above upper bound " + q);
        }
        countLaunch();
        unaryKernel(op, p, q, x, y);
    }

    /** {@code y = op(x; p, q)}; same size, {@code y} may be {@code x}. */
    protected abstract void unaryKernel(UnaryOp op, float p, float q, Tensor x, Tensor y);

    @Override
    public final synchronized void binary(BinaryOp op, Tensor a, Tensor b, Tensor c) {
        Checks.given("binary", "operation", op);
        String name = "binary " + op;
        own(name, "a, b, c", a, b, c);
        Broadcast bc = broadcast(name, a, b, c);
        if (bc == null) {
            inPlaceOnly(name, a, c);
            inPlaceOnly(name, b, c);
        } else {
            for (int k = 0; k < 2; k++) {
                Tensor operand = k == 0 ? a : b;
                if (bc.contiguous(k)) {
                    inPlaceOnly(name, operand, c);
                } else {
                    disjoint(name, operand, c);
                }
            }
        }
        countLaunch();
        binaryKernel(op, a, b, c, bc);
    }

    /** Null when all three have one size (flat), else the broadcast descriptor (or an exception). */
    private static Broadcast broadcast(String op, Tensor a, Tensor b, Tensor c) {
        Shape sa = a.shape();
        Shape sb = b.shape();
        Shape sc = c.shape();
        if (sa.size() == sc.size() && sb.size() == sc.size()) {
            return null;
        }
        return Broadcast.of(op, sa, sb, sc);
    }

    /** {@code c = a op b}, flat when {@code bc == null}, else broadcast by {@code bc} (operands 0 = a, 1 = b). */
    protected abstract void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor c, Broadcast bc);

    @Override
    public final synchronized void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate) {
        Checks.given("binaryBackward", "operation", op);
        String name = "binaryBackward " + op;
        own(name, "a, b, dc, grad", a, b, dc, grad);
        Checks.operand(name, operand);
        Broadcast bc = broadcast(name, a, b, dc);
        Tensor target = operand == 0 ? a : b;
        if (grad.size() != target.size()) {
            throw new IllegalArgumentException(name + ": gradient " + grad.shape() + " does not match operand "
                    + operand + " " + target.shape());
        }
        if (bc == null) {
            inPlaceOnly(name, dc, grad);
            inPlaceOnly(name, a, grad);
            inPlaceOnly(name, b, grad);
        } else {
            disjoint(name, a, grad);
            disjoint(name, b, grad);
            disjoint(name, dc, grad);
        }
        countLaunch();
        binaryBackwardKernel(op, operand, a, b, dc, grad, accumulate, bc);
    }

    /**
     * {@code grad (+)= sum over the broadcast positions of dc * d(a op b)/d(operand)}; flat when
     * {@code bc == null} (then {@code grad} may be {@code dc}), else {@code grad} has operand's shape and
     * overlaps nothing.
     */
    protected abstract void binaryBackwardKernel(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad,
                                                 boolean accumulate, Broadcast bc);

    @Override
    public final synchronized void sumTo(Tensor x, Tensor y, boolean accumulate) {
        own("sumTo", "x, y", x, y);
        Broadcast bc = Broadcast.reduction("sumTo", x.shape(), y.shape());
        disjoint("sumTo", x, y);
        countLaunch();
        sumToKernel(x, y, accumulate, bc);
    }

    /** {@code y (+)= x summed over the dimensions y is broadcast along}; operand 0 of {@code bc} is {@code y}. */
    protected abstract void sumToKernel(Tensor x, Tensor y, boolean accumulate, Broadcast bc);

    @Override
    public final synchronized void activation(Activation f, float param, Tensor x, Tensor y) {
        Checks.given("activation", "function", f);
        own("activation " + f, "x, y", x, y);
        Checks.sameSize("activation " + f, x, y);
        inPlaceOnly("activation " + f, x, y);
        countLaunch();
        activationKernel(f, param, x, y);
    }

    /** {@code y = f(x)}; same size, {@code y} may be {@code x}. */
    protected abstract void activationKernel(Activation f, float param, Tensor x, Tensor y);

    @Override
    public final synchronized void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                         boolean accumulate) {
        Checks.given("activationBackward", "function", f);
        String name = "activationBackward " + f;
        own(name, "x, y, dy, dx", x, y, dy, dx);
        Checks.sameSize(name, x, y);
        Checks.sameSize(name, x, dy);
        Checks.sameSize(name, x, dx);
        inPlaceOnly(name, dy, dx);
        inPlaceOnly(name, x, dx);
        inPlaceOnly(name, y, dx);
        countLaunch();
        activationBackwardKernel(f, param, x, y, dy, dx, accumulate);
    }

    /** {@code dx (+)= dy f'(x, y)}; same sizes, {@code dx} may be {@code dy}. */
    protected abstract void activationBackwardKernel(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                                     boolean accumulate);

    @Override
    public final synchronized void addRowVector(Tensor x, Tensor bias, Tensor y) {
        rowVectorCall("addRowVector", x, bias, y);
        addRowVectorKernel(x, bias, y);
    }

    /** The checks of a row-vector op {@code y = f(x, v)}: {@code y} may be {@code x}, never {@code v}. */
    private void rowVectorCall(String op, Tensor x, Tensor v, Tensor y) {
        own(op, "x, v, y", x, v, y);
        Checks.rowVectorOp(op, x, v, y);
        inPlaceOnly(op, x, y);
        disjoint(op, v, y);
        countLaunch();
    }

    /** {@code y[i,j] = x[i,j] + bias[j]} on the matrix views. */
    protected abstract void addRowVectorKernel(Tensor x, Tensor bias, Tensor y);

    @Override
    public final synchronized void biasActivation(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        Checks.given("biasActivation", "activation", f);
        rowVectorCall("biasActivation", x, bias, y);
        biasActivationKernel(x, bias, f, param, y);
    }

    /**
     * {@code y[i,j] = f(x[i,j] + bias[j])}. The default composes {@link #addRowVectorKernel} and
     * {@link #activationKernel}; device backends override it with one kernel.
     */
    protected void biasActivationKernel(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        addRowVectorKernel(x, bias, y);
        activationKernel(f, param, y, y);
    }

    @Override
    public final synchronized void prelu(Tensor x, Tensor slope, Tensor y) {
        rowVectorCall("prelu", x, slope, y);
        preluKernel(x, slope, y);
    }

    /** PReLU with per-column slopes. */
    protected abstract void preluKernel(Tensor x, Tensor slope, Tensor y);

    @Override
    public final synchronized void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                                    Tensor dslope, boolean accumulateDslope) {
        own("preluBackward", "x, slope, dy", x, slope, dy);
        ownOptional("preluBackward", dx);
        ownOptional("preluBackward", dslope);
        Checks.preluBackward(x, slope, dy, dx, dslope);
        inPlaceOnly("preluBackward", dy, dx);
        apart("preluBackward", "dx", dx, "x", x);
        apart("preluBackward", "dx", dx, "slope", slope);
        apart("preluBackward", "dslope", dslope, "x", x);
        apart("preluBackward", "dslope", dslope, "slope", slope);
        apart("preluBackward", "dslope", dslope, "dy", dy);
        apart("preluBackward", "dslope", dslope, "dx", dx);
        if (dx == null && dslope == null) {
            return;
        }
        countLaunch();
        preluBackwardKernel(x, slope, dy, dx, accumulateDx, dslope, accumulateDslope);
    }

    /** PReLU backward; either gradient may be null (not both). */
    protected abstract void preluBackwardKernel(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                                                Tensor dslope, boolean accumulateDslope);

    @Override
    public final synchronized void maxout(int pieces, Tensor z, Tensor y) {
        own("maxout", "z, y", z, y);
        Checks.maxout("maxout", pieces, z, y);
        disjoint("maxout", z, y);
        countLaunch();
        maxoutKernel(pieces, z, y);
    }

    /** Maxout over groups of {@code pieces} adjacent columns. */
    protected abstract void maxoutKernel(int pieces, Tensor z, Tensor y);

    @Override
    public final synchronized void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        own("maxoutBackward", "z, dy, dz", z, dy, dz);
        Checks.maxoutBackward(pieces, z, dy, dz);
        disjoint("maxoutBackward", dy, dz);
        inPlaceOnly("maxoutBackward", z, dz);
        countLaunch();
        maxoutBackwardKernel(pieces, z, dy, dz, accumulate);
    }

    /** Maxout backward. */
    protected abstract void maxoutBackwardKernel(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate);

    @Override
    public final synchronized void randomUniform(long key, long counter, Tensor out) {
        own("randomUniform", "out", out);
        countLaunch();
        randomUniformKernel(key, counter, out);
    }

    /** Philox4x32-10 uniform floats, as {@link Backend#randomUniform} specifies; bit-identical on every backend. */
    protected abstract void randomUniformKernel(long key, long counter, Tensor out);

    // ---------------------------------------------------------------- matrix products

    @Override
    public final synchronized void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        own("gemm", "a, b, c", a, b, c);
        int[] mnk = Checks.gemm(transA, transB, a, b, c);
        disjoint("gemm", a, c);
        disjoint("gemm", b, c);
        countLaunch();
        gemmKernel(transA, transB, mnk[0], mnk[1], mnk[2], alpha, a, b, beta, c);
    }

    /**
     * {@code C = alpha op(A) op(B) + beta C} on the matrix views, {@code op(A): [m, k]}, {@code op(B): [k, n]};
     * C overlaps neither A nor B.
     */
    protected abstract void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
                                       Tensor b, float beta, Tensor c);

    @Override
    public final synchronized void gemmBiasActivation(Tensor x, Tensor w, Tensor bias, Activation f, float param, Tensor y) {
        own("gemmBiasActivation", "x, w, bias, y", x, w, bias, y);
        Checks.given("gemmBiasActivation", "activation", f);
        Checks.dense(x, w, bias, y);
        disjoint("gemmBiasActivation", x, y);
        disjoint("gemmBiasActivation", w, y);
        disjoint("gemmBiasActivation", bias, y);
        countLaunch();
        gemmBiasActivationKernel(x, w, bias, f, param, y);
    }

    /**
     * {@code y = f(x W + bias)} on the matrix views. The default composes {@link #gemmKernel} and
     * {@link #biasActivationKernel}; device backends fuse the bias and activation into the product's epilogue.
     */
    protected void gemmBiasActivationKernel(Tensor x, Tensor w, Tensor bias, Activation f, float param, Tensor y) {
        gemmKernel(false, false, x.rows(), w.cols(), x.cols(), 1f, x, w, 0f, y);
        biasActivationKernel(y, bias, f, param, y);
    }

    @Override
    public final synchronized void denseBackward(Activation f, float param, Tensor x, Tensor w, Tensor y, Tensor dy,
                                                 Tensor dx, boolean accumulateDx, Tensor dw, boolean accumulateDw,
                                                 Tensor db, boolean accumulateDb) {
        String op = "denseBackward";
        own(op, "x, w, y, dy", x, w, y, dy);
        Checks.given(op, "activation", f);
        ownOptional(op, dx);
        ownOptional(op, dw);
        ownOptional(op, db);
        Checks.denseBackward(x, w, y, dy, dx, dw, db);
        if (!f.derivativeFromOutput(param)) {
            throw new IllegalArgumentException(op + ": " + f + " with parameter " + param
                    + " needs its pre-activation for backward");
        }
        for (Tensor in : new Tensor[] {x, w, y, dy}) {
            disjoint(op, in, dx);
            disjoint(op, in, dw);
            disjoint(op, in, db);
        }
        apart(op, "dW", dw, "dx", dx); // each gradient is written whole: none may overwrite another
        apart(op, "db", db, "dx", dx);
        apart(op, "db", db, "dW", dw);
        apart(op, "dy", dy, "x", x); // dy may be overwritten with dz before x and W are read
        apart(op, "dy", dy, "W", w);
        countLaunch();
        denseBackwardKernel(f, param, x, w, y, dy, dx, accumulateDx, dw, accumulateDw, db, accumulateDb);
    }

    /**
     * The gradients of a dense layer (see {@link Backend#denseBackward}). The default applies {@code f'(y)} in place
     * on {@code dy}, then two {@link #gemmKernel}s and a row sum; device backends fold the derivative into the
     * products' operand loads and the bias gradient into the weight product.
     */
    protected void denseBackwardKernel(Activation f, float param, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx,
                                       boolean accumulateDx, Tensor dw, boolean accumulateDw, Tensor db,
                                       boolean accumulateDb) {
        if (f != Activation.IDENTITY) {
            activationBackwardKernel(f, param, y, y, dy, dy, false);
        }
        int n = x.rows();
        if (dx != null) {
            gemmKernel(false, true, n, x.cols(), y.cols(), 1f, dy, w, accumulateDx ? 1f : 0f, dx);
        }
        if (dw != null) {
            gemmKernel(true, false, x.cols(), y.cols(), n, 1f, x, dy, accumulateDw ? 1f : 0f, dw);
        }
        if (db != null) {
            reduceKernel(Reduction.SUM, Axis.ROWS, dy, db, accumulateDb);
        }
    }

    // ---------------------------------------------------------------- layout, convolution, pooling

    @Override
    public final synchronized void permute(Tensor x, int[] axes, Tensor y) {
        own("permute", "x, y", x, y);
        Checks.permute(x, axes, y);
        disjoint("permute", x, y);
        countLaunch();
        permuteKernel(x, axes.clone(), y);
    }

    /**
     * {@code y = x} with axes reordered ({@code y.dim(i) = x.dim(axes[i])}); {@code axes} is a valid permutation
     * (a private copy) and {@code y} does not overlap {@code x}.
     */
    protected abstract void permuteKernel(Tensor x, int[] axes, Tensor y);

    @Override
    public final synchronized void im2col(Conv2dSpec spec, int group, Tensor x, Tensor col) {
        own("im2col", "x, col", x, col);
        Checks.given("im2col", "spec", spec);
        Checks.im2col("im2col", spec, group, x, col);
        disjoint("im2col", x, col);
        countLaunch();
        im2colKernel(spec, group, x, col);
    }

    /** The column matrix of group {@code group} of {@code x [N, C, H, W]}; shapes checked, no overlap. */
    protected abstract void im2colKernel(Conv2dSpec spec, int group, Tensor x, Tensor col);

    @Override
    public final synchronized void col2im(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate) {
        own("col2im", "col, dx", col, dx);
        Checks.given("col2im", "spec", spec);
        Checks.im2col("col2im", spec, group, dx, col);
        disjoint("col2im", col, dx);
        countLaunch();
        col2imKernel(spec, group, col, dx, accumulate);
    }

    /** The adjoint of {@link #im2colKernel}, into the channels of group {@code group} of {@code dx}. */
    protected abstract void col2imKernel(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate);

    /** False: a backend has no direct convolution unless it overrides this and the three kernels below. */
    @Override
    public boolean directConv2d(Conv2dSpec spec, int inChannels, int outChannels) {
        return false;
    }

    @Override
    public final synchronized void conv2d(Conv2dSpec spec, Tensor x, Tensor w, Tensor y) {
        own("conv2d", "x, w, y", x, w, y);
        Checks.given("conv2d", "spec", spec);
        Checks.conv2d("conv2d", spec, x, w, y, "y");
        disjoint("conv2d", x, y);
        disjoint("conv2d", w, y);
        countLaunch();
        conv2dKernel(spec, x, w, y);
    }

    @Override
    public final synchronized void conv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        own("conv2dBackwardData", "dy, w, dx", dy, w, dx);
        Checks.given("conv2dBackwardData", "spec", spec);
        Checks.conv2d("conv2dBackwardData", spec, dx, w, dy, "dy");
        disjoint("conv2dBackwardData", dy, dx);
        disjoint("conv2dBackwardData", w, dx);
        countLaunch();
        conv2dBackwardDataKernel(spec, dy, w, dx, accumulate);
    }

    @Override
    public final synchronized void conv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw,
                                                         boolean accumulate) {
        own("conv2dBackwardWeights", "x, dy, dw", x, dy, dw);
        Checks.given("conv2dBackwardWeights", "spec", spec);
        Checks.conv2d("conv2dBackwardWeights", spec, x, dw, dy, "dy");
        disjoint("conv2dBackwardWeights", x, dw);
        disjoint("conv2dBackwardWeights", dy, dw);
        countLaunch();
        conv2dBackwardWeightsKernel(spec, x, dy, dw, accumulate);
    }

    /**
     * {@link #conv2d} on checked shapes; this default has no direct convolution and throws
     * {@link UnsupportedOperationException} (override it together with {@link #directConv2d}).
     */
    protected void conv2dKernel(Conv2dSpec spec, Tensor x, Tensor w, Tensor y) {
        throw noDirectConv2d("conv2d", spec, x.shape(), w.shape());
    }

    /** {@link #conv2dBackwardData} on checked shapes; throws like {@link #conv2dKernel} unless overridden. */
    protected void conv2dBackwardDataKernel(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        throw noDirectConv2d("conv2dBackwardData", spec, dx.shape(), w.shape());
    }

    /** {@link #conv2dBackwardWeights} on checked shapes; throws like {@link #conv2dKernel} unless overridden. */
    protected void conv2dBackwardWeightsKernel(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, boolean accumulate) {
        throw noDirectConv2d("conv2dBackwardWeights", spec, x.shape(), dw.shape());
    }

    /** The error of a direct convolution this backend does not have, naming the op, the geometry and the shapes. */
    protected final UnsupportedOperationException noDirectConv2d(String op, Conv2dSpec spec, Shape x, Shape w) {
        return new UnsupportedOperationException(op + ": the " + name() + " backend has no direct convolution of " + x
                + " by " + w + " (" + spec + "); directConv2d is false here, use im2col and gemm");
    }

    @Override
    public final synchronized void pool2d(Pool2dSpec spec, Tensor x, Tensor y) {
        Checks.given("pool2d", "spec", spec);
        own(spec.name(), "x, y", x, y);
        Checks.pool2d(spec.name(), spec, x, y);
        disjoint(spec.name(), x, y);
        countLaunch();
        pool2dKernel(spec, x, y);
    }

    /** 2-D pooling of {@code x [N, C, H, W]} into {@code y [N, C, OH, OW]}; shapes checked, no overlap. */
    protected abstract void pool2dKernel(Pool2dSpec spec, Tensor x, Tensor y);

    @Override
    public final synchronized void pool2dBackward(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.given("pool2dBackward", "spec", spec);
        String op = spec.name() + "Backward";
        own(op, "x, dy, dx", x, dy, dx);
        Checks.pool2d(op, spec, x, dy);
        if (!dx.shape().equals(x.shape())) {
            throw new IllegalArgumentException(op + ": dx " + dx.shape() + " must have the input's shape " + x.shape());
        }
        disjoint(op, x, dx);
        disjoint(op, dy, dx);
        countLaunch();
        pool2dBackwardKernel(spec, x, dy, dx, accumulate);
    }

    /** The gradient of 2-D pooling; {@code dx} has {@code x}'s shape and overlaps neither {@code x} nor {@code dy}. */
    protected abstract void pool2dBackwardKernel(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate);

    // ---------------------------------------------------------------- reductions, softmax, losses

    @Override
    public final synchronized void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        Checks.given("reduce", "reduction", op);
        Checks.given("reduce " + op, "axis", axis);
        own("reduce " + op, "x, y", x, y);
        Checks.reduce(op, axis, x, y, accumulate);
        disjoint("reduce " + op, x, y);
        countLaunch();
        reduceKernel(op, axis, x, y, accumulate);
    }

    /** A reduction along an axis of the matrix view. */
    protected abstract void reduceKernel(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate);

    @Override
    public final synchronized void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.given("reduceBackward", "reduction", op);
        Checks.given("reduceBackward " + op, "axis", axis);
        own("reduceBackward " + op, "x, y, dy, dx", x, y, dy, dx);
        Checks.reduceBackward(op, axis, x, y, dy, dx);
        disjoint("reduceBackward " + op, dy, dx);
        inPlaceOnly("reduceBackward " + op, x, dx);
        inPlaceOnly("reduceBackward " + op, y, dx);
        countLaunch();
        reduceBackwardKernel(op, axis, x, y, dy, dx, accumulate);
    }

    /** Backward of {@link #reduceKernel}. */
    protected abstract void reduceBackwardKernel(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx,
                                                 boolean accumulate);

    @Override
    public final synchronized void softmax(Tensor x, Tensor y) {
        own("softmax", "x, y", x, y);
        Checks.sameMatrix("softmax", x, y);
        inPlaceOnly("softmax", x, y);
        countLaunch();
        softmaxKernel(x, y);
    }

    /** Row-wise softmax on the matrix view; {@code y} may be {@code x}. */
    protected abstract void softmaxKernel(Tensor x, Tensor y);

    @Override
    public final synchronized void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        own("softmaxBackward", "y, dy, dx", y, dy, dx);
        Checks.softmaxBackward(y, dy, dx);
        inPlaceOnly("softmaxBackward", y, dx);
        inPlaceOnly("softmaxBackward", dy, dx);
        countLaunch();
        softmaxBackwardKernel(y, dy, dx, accumulate);
    }

    /** Softmax backward per row. */
    protected abstract void softmaxBackwardKernel(Tensor y, Tensor dy, Tensor dx, boolean accumulate);

    @Override
    public final synchronized void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        own("rowLoss", "pred, target, out", pred, target, out);
        Checks.given("rowLoss", "loss kind", kind);
        Checks.rowLoss("rowLoss", kind, pred, target, out);
        disjoint("rowLoss", pred, out);
        apart("rowLoss", "out", out, "target", target);
        countLaunch();
        rowLossKernel(kind, pred, target, out);
    }

    /**
     * Per-sample losses. The default composes the other primitives ({@link ComposedKernels}); device backends
     * override it with fused kernels (softmax and log never materialized).
     */
    protected void rowLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        ComposedKernels.rowLoss(this, kind, pred, target, out);
    }

    @Override
    public final synchronized void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                      boolean accumulate) {
        own("rowLossBackward", "pred, target, dout, dpred", pred, target, dout, dpred);
        Checks.given("rowLossBackward", "loss kind", kind);
        Checks.rowLossBackward(kind, pred, target, dout, dpred);
        disjoint("rowLossBackward", pred, dpred);
        apart("rowLossBackward", "dpred", dpred, "target", target);
        apart("rowLossBackward", "dpred", dpred, "dout", dout);
        countLaunch();
        rowLossBackwardKernel(kind, pred, target, dout, dpred, accumulate);
    }

    /** Per-sample loss backward; the default composes the other primitives ({@link ComposedKernels}). */
    protected void rowLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                         boolean accumulate) {
        ComposedKernels.rowLossBackward(this, kind, pred, target, dout, dpred, accumulate);
    }

    @Override
    public final synchronized void meanLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        own("meanLoss", "pred, target, out", pred, target, out);
        Checks.given("meanLoss", "loss kind", kind);
        Checks.meanLoss("meanLoss", kind, pred, target, out);
        disjoint("meanLoss", pred, out);
        disjoint("meanLoss", target, out);
        countLaunch();
        meanLossKernel(kind, pred, target, out);
    }

    /**
     * The batch-mean loss into the scalar {@code out}. The default composes {@link #rowLossKernel} into a scratch
     * column and a mean {@link #reduceKernel} (so a backend with a fused per-row loss keeps its numbers); device
     * backends compute it in one launch.
     */
    protected void meanLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        Tensor rows = scratch("meanLoss.rows", Shape.matrix(pred.rows(), 1));
        rowLossKernel(kind, pred, target, rows);
        reduceKernel(Reduction.MEAN, Axis.ALL, rows, out, false);
    }

    @Override
    public final synchronized void meanLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout,
                                                    Tensor dpred, boolean accumulate) {
        own("meanLossBackward", "pred, target, dout, dpred", pred, target, dout, dpred);
        Checks.given("meanLossBackward", "loss kind", kind);
        Checks.meanLoss("meanLossBackward", kind, pred, target, dout);
        Checks.sameMatrix("meanLossBackward", pred, dpred);
        disjoint("meanLossBackward", pred, dpred);
        disjoint("meanLossBackward", target, dpred);
        disjoint("meanLossBackward", dout, dpred);
        countLaunch();
        meanLossBackwardKernel(kind, pred, target, dout, dpred, accumulate);
    }

    /**
     * The gradient of the batch-mean loss. The default spreads {@code dout / n} over a scratch column (the mean's
     * {@link #reduceBackwardKernel}) and composes {@link #rowLossBackwardKernel}; device backends use one launch.
     */
    protected void meanLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                          boolean accumulate) {
        Shape n1 = Shape.matrix(pred.rows(), 1);
        Tensor rows = scratch("meanLoss.rows", n1);
        Tensor drows = scratch("meanLoss.drows", n1);
        reduceBackwardKernel(Reduction.MEAN, Axis.ALL, rows, dout, dout, drows, false);
        rowLossBackwardKernel(kind, pred, target, drows, dpred, accumulate);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public final synchronized void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        own("sgdUpdate", "param, grad", param, grad);
        ownOptional("sgdUpdate", velocity);
        ownOptional("sgdUpdate", gradNormSq);
        Checks.given("sgdUpdate", "update", update);
        Checks.sgdUpdate(param, grad, velocity, gradNormSq, update);
        apart("sgdUpdate", "param", param, "grad", grad);
        apart("sgdUpdate", "param", param, "gradNormSq", gradNormSq);
        apart("sgdUpdate", "velocity", velocity, "param", param);
        apart("sgdUpdate", "velocity", velocity, "grad", grad);
        apart("sgdUpdate", "velocity", velocity, "gradNormSq", gradNormSq);
        countLaunch();
        sgdUpdateKernel(param, grad, velocity, gradNormSq, update);
    }

    /**
     * The SGD update of {@link SgdUpdate}. The default composes the other primitives ({@link ComposedKernels},
     * about 15 launches); device backends override it with one fused kernel.
     */
    protected void sgdUpdateKernel(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        ComposedKernels.sgdUpdate(this, param, grad, velocity, gradNormSq, update);
    }

    @Override
    public final synchronized void adaptiveUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                     AdaptiveUpdate update) {
        own("adaptiveUpdate", "param, grad", param, grad);
        ownOptional("adaptiveUpdate", m);
        ownOptional("adaptiveUpdate", v);
        ownOptional("adaptiveUpdate", gradNormSq);
        Checks.adaptiveUpdate(param, grad, m, v, gradNormSq, update);
        Tensor[] written = {param, m, v};
        for (int i = 0; i < written.length; i++) {
            disjoint("adaptiveUpdate", grad, written[i]);
            disjoint("adaptiveUpdate", gradNormSq, written[i]);
            for (int j = i + 1; j < written.length; j++) {
                disjoint("adaptiveUpdate", written[i], written[j]);
            }
        }
        countLaunch();
        adaptiveUpdateKernel(param, grad, m, v, gradNormSq, update);
    }

    /**
     * The update of {@link AdaptiveUpdate}. The default composes the other primitives ({@link ComposedKernels},
     * about 35 launches, subnormal flush included); device backends override it with one fused kernel.
     */
    protected void adaptiveUpdateKernel(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                        AdaptiveUpdate update) {
        ComposedKernels.adaptiveUpdate(this, param, grad, m, v, gradNormSq, update);
    }
}
