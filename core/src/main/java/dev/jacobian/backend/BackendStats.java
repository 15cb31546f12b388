package dev.jacobian.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters one backend keeps about itself: buffers allocated and alive, bytes alive, and host
 * transfers. Tests use them to prove that a training step allocates nothing after the first one and
 * copies nothing but its input batch and what it reports.
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

    public void onRelease(long bytes) {
        liveBuffers.decrementAndGet();
        liveBytes.addAndGet(-bytes);
    }

    public void onUpload(long bytes) {
        uploads.incrementAndGet();
        uploadedBytes.addAndGet(bytes);
    }

    public void onDownload(long bytes) {
        downloads.incrementAndGet();
        downloadedBytes.addAndGet(bytes);
    }

    /** Buffers allocated since the backend was created (a fresh allocation from a pool counts; a reuse does not). */
    public long allocations() {
        return allocations.get();
    }

    public long liveBuffers() {
        return liveBuffers.get();
    }

    public long liveBytes() {
        return liveBytes.get();
    }

    public long uploads() {
        return uploads.get();
    }

    public long uploadedBytes() {
        return uploadedBytes.get();
    }

    public long downloads() {
        return downloads.get();
    }

    public long downloadedBytes() {
        return downloadedBytes.get();
    }

    @Override
    public String toString() {
        return "allocations=" + allocations() + " live=" + liveBuffers() + " (" + liveBytes() + " B) uploads="
                + uploads() + " (" + uploadedBytes() + " B) downloads=" + downloads() + " (" + downloadedBytes() + " B) launches="
                + launches();
    }
}
