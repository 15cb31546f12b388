package dev.jacobian.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import dev.jacobian.backend.BackendStats;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.jocl.CLException;
import org.jocl.cl_mem;

/**
 * Device buffers pooled by size class: a released buffer goes back to its class and the next request of
 * that class reuses it, so a training loop stops creating {@code cl_mem}s after its first step. Size
 * classes are {@code 2^k * {4, 5, 6, 7} / 4} floats (at most 25% slack). {@link #close()} releases every
 * {@code cl_mem} deterministically, in use or pooled.
 *
 * <p>Accounting in {@link BackendStats}: a fresh {@code cl_mem} is an allocation; a buffer handed out is
 * live until it is given back. {@link #creations()} counts {@code cl_mem} creations alone; see
 * {@link #acquire} for how a reuse is reported.
 */
final class ClBufferPool implements AutoCloseable {
    private final ClContext cl;
    private final BackendStats stats;
    private final Map<Long, ArrayDeque<ClBuffer>> free = new HashMap<>();
    private final Set<ClBuffer> inUse = Collections.newSetFromMap(new IdentityHashMap<>());
    private long deviceBytes;
    private long creations;
    private long reuses;

    ClBufferPool(ClContext cl, BackendStats stats) {
        this.cl = cl;
        this.stats = stats;
    }

    /** The size class (in floats) a request of {@code floats} is served from. */
    static long sizeClass(long floats) {
        long n = Math.max(16, floats);
        int shift = 63 - Long.numberOfLeadingZeros(n) - 2; // n in [4 * 2^shift, 8 * 2^shift)
        long quarter = 1L << shift;
        return (n + quarter - 1) / quarter * quarter;
    }

    /**
     * A buffer of at least {@code floats} floats (contents undefined).
     *
     * <p>A fresh {@code cl_mem} is reported with {@link BackendStats#onAllocate}, a buffer handed out again
     * from the pool with {@link BackendStats#onReuse}: both count as live, only the first as an allocation.
     *
     * @throws IllegalArgumentException when the request exceeds the device's largest buffer or its global
     *                                  memory (the message says how much was asked and what the device has)
     */
    ClBuffer acquire(long floats) {
        if (floats < 0) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats");
        }
        long cls = sizeClass(floats);
        ArrayDeque<ClBuffer> q = free.get(cls);
        ClBuffer b = q == null ? null : q.poll();
        if (b != null) {
            reuses++;
            stats.onReuse(b.bytes());
        } else {
            b = create(floats, cls);
            stats.onAllocate(b.bytes());
        }
        inUse.add(b);
        return b;
    }

    private ClBuffer create(long floats, long cls) {
        ClInfo.Device d = cl.device();
        long bytes = cls * Float.BYTES;
        long asked = Math.max(1, floats) * Float.BYTES;
        if (asked > d.maxAllocBytes()) {
            throw tooLarge(floats, "the device's largest single buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE) is " + mib(d.maxAllocBytes()));
        }
        if (bytes > d.maxAllocBytes()) {
            bytes = asked;
            cls = Math.max(1, floats);
        }
        if (deviceBytes + bytes > d.globalMemBytes()) {
            trim();
            if (deviceBytes + bytes > d.globalMemBytes()) {
                throw tooLarge(floats, "the device has " + mib(d.globalMemBytes()) + " of global memory and "
                        + mib(deviceBytes) + " are already allocated by this backend");
            }
        }
        cl_mem mem;
        try {
            mem = clCreateBuffer(cl.context(), CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException first) {
            trim();
            try {
                mem = clCreateBuffer(cl.context(), CL_MEM_READ_WRITE, bytes, null, null);
            } catch (CLException e) {
                e.addSuppressed(first);
                throw new IllegalStateException("cannot allocate " + mib(bytes) + " on " + d.name() + ": "
                        + e.getMessage(), e);
            }
        }
        creations++;
        deviceBytes += bytes;
        return new ClBuffer(mem, cls);
    }

    private IllegalArgumentException tooLarge(long floats, String why) {
        return new IllegalArgumentException("cannot allocate " + floats + " floats (" + mib(floats * Float.BYTES)
                + ") on " + cl.device().name() + ": " + why);
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /** Gives {@code b} back to its size class; a buffer this pool does not have in use is ignored. */
    void release(ClBuffer b) {
        if (inUse.remove(b)) {
            stats.onRelease(b.bytes());
            free.computeIfAbsent(b.floats(), k -> new ArrayDeque<>()).push(b);
        }
    }

    /** Whether {@code b} is a buffer of this pool currently handed out. */
    boolean owns(ClBuffer b) {
        return inUse.contains(b);
    }

    /** Releases every pooled (not in use) {@code cl_mem}. */
    void trim() {
        for (ArrayDeque<ClBuffer> q : free.values()) {
            for (ClBuffer b : q) {
                clReleaseMemObject(b.mem());
                deviceBytes -= b.bytes();
            }
        }
        free.clear();
    }

    /** Number of {@code cl_mem} objects created so far (pool reuses excluded). */
    long creations() {
        return creations;
    }

    /** Number of requests served from the pool. */
    long reuses() {
        return reuses;
    }

    /** Bytes of device memory held (in use and pooled). */
    long deviceBytes() {
        return deviceBytes;
    }

    @Override
    public void close() {
        for (ClBuffer b : inUse) {
            stats.onRelease(b.bytes());
            clReleaseMemObject(b.mem());
            deviceBytes -= b.bytes();
        }
        inUse.clear();
        trim();
    }
}
