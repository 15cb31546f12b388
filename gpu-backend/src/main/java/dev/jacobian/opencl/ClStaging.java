package dev.jacobian.opencl;

import static org.jocl.CL.CL_COMPLETE;
import static org.jocl.CL.CL_EVENT_COMMAND_EXECUTION_STATUS;
import static org.jocl.CL.CL_FALSE;
import static org.jocl.CL.CL_MAP_READ;
import static org.jocl.CL.CL_MAP_WRITE;
import static org.jocl.CL.CL_MEM_ALLOC_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueMapBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueUnmapMemObject;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFlush;
import static org.jocl.CL.clGetEventInfo;
import static org.jocl.CL.clReleaseEvent;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clWaitForEvents;

import dev.jacobian.backend.PendingRead;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;
import org.jocl.cl_mem;

/**
 * Pinned host memory for transfers that do not wait: {@code CL_MEM_ALLOC_HOST_PTR} buffers mapped once, which a
 * driver can copy from and to by DMA while the host goes on. An upload copies the caller's array into a staging
 * buffer and enqueues a non-blocking write from it (the array may change as soon as the call returns, as
 * {@link dev.jacobian.backend.Backend#upload} promises); the staging buffer is reused once its write has completed.
 * A {@link PendingRead} enqueues non-blocking reads into one staging buffer and waits, when asked for the values,
 * only if the device has not finished them. Staging buffers are pooled by power-of-two size, so a training loop
 * stops creating them after its first steps. Used by one thread at a time, as the backend.
 */
final class ClStaging implements AutoCloseable {
    /** Uploads larger than this go straight from the array, blocking (staging them would double their memory). */
    static final long MAX_STAGED_BYTES = 16L << 20;
    /** Uploads in flight before the oldest is waited for. */
    static final int MAX_IN_FLIGHT = 8;

    private record Pinned(cl_mem mem, ByteBuffer host, long bytes) {
    }

    private record InFlight(Pinned staging, cl_event event) {
    }

    private final ClContext cl;
    private final Map<Long, ArrayDeque<Pinned>> free = new HashMap<>();
    private final List<Pinned> all = new ArrayList<>();
    private final ArrayDeque<InFlight> uploads = new ArrayDeque<>();
    /** Reads not awaited yet: {@link #close} collects their values before it unmaps their staging memory. */
    private final Set<Read> pending = Collections.newSetFromMap(new IdentityHashMap<>());

    ClStaging(ClContext cl) {
        this.cl = cl;
    }

    /** Enqueues {@code count} floats of {@code src} from {@code srcOffset} into {@code dst} at byte {@code dstBytes}; returns at once. */
    void upload(float[] src, int srcOffset, cl_mem dst, long dstBytes, int count) {
        long bytes = 4L * count;
        Pinned p = acquire(bytes);
        p.host().clear();
        p.host().asFloatBuffer().put(src, srcOffset, count);
        write(p, bytes, dst, dstBytes);
    }

    /** Enqueues the non-blocking write of {@code p}'s first {@code bytes}, keeping at most {@link #MAX_IN_FLIGHT}. */
    private void write(Pinned p, long bytes, cl_mem dst, long dstBytes) {
        cl_event event = new cl_event();
        clEnqueueWriteBuffer(cl.queue(), dst, CL_FALSE, dstBytes, bytes, Pointer.to(p.host()), 0, null, event);
        uploads.add(new InFlight(p, event));
        if (uploads.size() > MAX_IN_FLIGHT) {
            InFlight oldest = uploads.poll();
            await(oldest.event());
            recycle(oldest);
        }
    }

    /**
     * Enqueues rows of bytes ({@code Backend.uploadByteRows}) packed one after another into {@code dst} from its
     * start: row {@code r} is the {@code rowLength} bytes of {@code src} from {@code offsets[r]}. Returns at once.
     */
    void uploadBytes(byte[] src, int[] offsets, int rows, int rowLength, cl_mem dst) {
        long bytes = (long) rows * rowLength;
        Pinned p = acquire(bytes);
        p.host().clear();
        for (int r = 0; r < rows; r++) {
            p.host().put(src, offsets[r], rowLength);
        }
        write(p, bytes, dst, 0);
    }

    /** One part of a {@link #read}: the first {@code count} floats of {@code mem}. */
    record Part(cl_mem mem, int count) {
    }

    /**
     * Enqueues non-blocking reads of {@code parts}, one after the other, into one staging buffer, and flushes the
     * queue. The queue is in order, so the last read's event stands for all of them.
     */
    PendingRead read(List<Part> parts) {
        int total = 0;
        for (Part part : parts) {
            total += part.count();
        }
        if (total == 0) { // nothing to enqueue, so no event to wait for
            return PendingRead.completed(new float[0]);
        }
        Pinned p = acquire(4L * Math.max(1, total));
        cl_event last = new cl_event();
        long at = 0;
        for (int i = 0; i < parts.size(); i++) {
            Part part = parts.get(i);
            clEnqueueReadBuffer(cl.queue(), part.mem(), CL_FALSE, 0, 4L * part.count(),
                    Pointer.to(p.host()).withByteOffset(at), 0, null, i == parts.size() - 1 ? last : null);
            at += 4L * part.count();
        }
        clFlush(cl.queue());
        Read r = new Read(p, last, total);
        pending.add(r);
        return r;
    }

    private final class Read implements PendingRead {
        private final Pinned staging;
        private final cl_event event;
        private final int count;
        private float[] values;
        /** Why the read could not complete before {@link #close} unmapped its memory; null when it did. */
        private RuntimeException failure;

        Read(Pinned staging, cl_event event, int count) {
            this.staging = staging;
            this.event = event;
            this.count = count;
        }

        @Override
        public boolean done() {
            return values != null || failure != null || complete(event);
        }

        @Override
        public float[] await() {
            if (failure != null) {
                throw new IllegalStateException("this read did not complete before its OpenCL backend was closed: "
                        + failure.getMessage(), failure);
            }
            if (values == null) {
                ClStaging.this.await(event);
                collect();
                release(staging);
            }
            return values;
        }

        /** Copies the values out of the staging memory (the read has completed) and releases the event. */
        private void collect() {
            values = new float[count];
            staging.host().clear();
            staging.host().asFloatBuffer().get(values);
            clReleaseEvent(event);
            pending.remove(this);
        }
    }

    /** Waits for {@code event} if it has not completed (a counted blocking call); never when it has. */
    private void await(cl_event event) {
        if (!complete(event)) {
            cl.countBlockingCall();
            clWaitForEvents(1, new cl_event[] {event});
        }
    }

    private static boolean complete(cl_event e) {
        int[] status = new int[1];
        clGetEventInfo(e, CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int, Pointer.to(status), null);
        return status[0] == CL_COMPLETE;
    }

    private Pinned acquire(long bytes) {
        while (!uploads.isEmpty() && complete(uploads.peek().event())) {
            recycle(uploads.poll());
        }
        long size = Long.highestOneBit(Math.max(64, bytes - 1)) << 1;
        ArrayDeque<Pinned> q = free.get(size);
        Pinned p = q == null ? null : q.poll();
        if (p == null) {
            cl_mem mem = clCreateBuffer(cl.context(), CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, size, null, null);
            ByteBuffer host = clEnqueueMapBuffer(cl.queue(), mem, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, size, 0, null,
                    null, null).order(ByteOrder.nativeOrder());
            p = new Pinned(mem, host, size);
            all.add(p);
        }
        return p;
    }

    private void recycle(InFlight f) {
        clReleaseEvent(f.event());
        release(f.staging());
    }

    private void release(Pinned p) {
        free.computeIfAbsent(p.bytes(), k -> new ArrayDeque<>()).push(p);
    }

    /**
     * Waits for the uploads in flight, copies out the values of every read not awaited yet (so that a later
     * {@link PendingRead#await} returns them), then unmaps and releases every staging buffer (the queue must be idle
     * after).
     */
    @Override
    public void close() {
        while (!uploads.isEmpty()) {
            InFlight f = uploads.poll();
            clWaitForEvents(1, new cl_event[] {f.event()});
            clReleaseEvent(f.event());
        }
        for (Read r : List.copyOf(pending)) { // a read awaited after close gets its values, not unmapped memory
            try {
                clWaitForEvents(1, new cl_event[] {r.event});
                r.collect();
            } catch (RuntimeException e) {
                r.failure = e;
                pending.remove(r);
            }
        }
        for (Pinned p : all) {
            clEnqueueUnmapMemObject(cl.queue(), p.mem(), p.host(), 0, null, null);
        }
        cl.finish();
        for (Pinned p : all) {
            clReleaseMemObject(p.mem());
        }
        all.clear();
        free.clear();
    }
}
