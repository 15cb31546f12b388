package dev.jacobian.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters one backend keeps about itself: buffers allocated and alive, bytes alive, host transfers, kernel
 * launches, kernel arguments set and host calls that waited for the device. Tests use them to prove that a
 * training step allocates nothing after the first one, copies nothing but its input batch and what it reports,
 * and on OpenCL that it stays within its budget of launches, argument sets and blocking calls.
 */
public final class BackendStats {
    private final AtomicLong allocations = new AtomicLong();
    private final AtomicLong liveBuffers = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong uploads = new AtomicLong();
    private final AtomicLong uploadedBytes = new AtomicLong();
    private final AtomicLong downloads = new AtomicLong();
    private final AtomicLong downloadedBytes = new AtomicLong();
    private final AtomicLong launches = new AtomicLong();
    private final AtomicLong argumentSets = new AtomicLong();
    private final AtomicLong blockingCalls = new AtomicLong();

    /** Every counter at zero; a backend makes one for itself and counts into it from its kernels. */
    public BackendStats() {
    }

    /**
     * One kernel launch: a kernel enqueued on a device (OpenCL counts each {@code clEnqueueNDRangeKernel});
     * the heap backends count each primitive call as one launch.
     */
    public void onLaunch() {
        launches.incrementAndGet();
    }

    /** Kernel launches so far (see {@link #onLaunch()}): what fusing saves on a GPU. */
    public long launches() {
        return launches.get();
    }

    /**
     * One kernel argument set on the device's driver (OpenCL counts each {@code clSetKernelArg}); backends that
     * call their kernels as methods count none. What binding kernels once saves: a GPU step whose host time is
     * spent setting arguments is host-bound.
     */
    public void onArgumentSet() {
        argumentSets.incrementAndGet();
    }

    /** Kernel arguments set so far (see {@link #onArgumentSet()}). */
    public long argumentSets() {
        return argumentSets.get();
    }

    /**
     * One host call that waited for the device: a blocking transfer, a {@code clFinish}, or a wait for an
     * event that had not completed yet. Backends that run every primitive on the calling thread count none.
     */
    public void onBlockingCall() {
        blockingCalls.incrementAndGet();
    }

    /** Host calls that waited for the device so far (see {@link #onBlockingCall()}). */
    public long blockingCalls() {
        return blockingCalls.get();
    }

    /** A fresh buffer of {@code bytes} bytes allocated: counts as an allocation and as live. */
    public void onAllocate(long bytes) {
        allocations.incrementAndGet();
        liveBuffers.incrementAndGet();
        liveBytes.addAndGet(bytes);
    }

    /** A buffer handed out again from a backend's pool: live again, but no new device allocation. */
    public void onReuse(long bytes) {
        liveBuffers.incrementAndGet();
        liveBytes.addAndGet(bytes);
    }

    /** A buffer of {@code bytes} bytes released (freed or returned to a pool): no longer live. */
    public void onRelease(long bytes) {
        liveBuffers.decrementAndGet();
        liveBytes.addAndGet(-bytes);
    }

    /** One host-to-device transfer of {@code bytes} bytes. */
    public void onUpload(long bytes) {
        uploads.incrementAndGet();
        uploadedBytes.addAndGet(bytes);
    }

    /** One device-to-host transfer of {@code bytes} bytes (a {@link Backend#readLater} of several tensors is one). */
    public void onDownload(long bytes) {
        downloads.incrementAndGet();
        downloadedBytes.addAndGet(bytes);
    }

    /** Buffers allocated since the backend was created (a fresh allocation from a pool counts; a reuse does not). */
    public long allocations() {
        return allocations.get();
    }

    /** Buffers handed out and not yet released. */
    public long liveBuffers() {
        return liveBuffers.get();
    }

    /** Bytes in the buffers handed out and not yet released. */
    public long liveBytes() {
        return liveBytes.get();
    }

    /** Host-to-device transfers so far. */
    public long uploads() {
        return uploads.get();
    }

    /** Bytes copied from the host to the device so far. */
    public long uploadedBytes() {
        return uploadedBytes.get();
    }

    /** Device-to-host transfers so far. */
    public long downloads() {
        return downloads.get();
    }

    /** Bytes copied from the device to the host so far. */
    public long downloadedBytes() {
        return downloadedBytes.get();
    }

    @Override
    public String toString() {
        return "allocations=" + allocations() + " live=" + liveBuffers() + " (" + liveBytes() + " B) uploads="
                + uploads() + " (" + uploadedBytes() + " B) downloads=" + downloads() + " (" + downloadedBytes() + " B) launches="
                + launches() + " argumentSets=" + argumentSets() + " blockingCalls=" + blockingCalls();
    }
}
