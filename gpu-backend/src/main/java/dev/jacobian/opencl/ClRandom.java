package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import org.jocl.cl_kernel;

/**
 * Host side of {@code random.cl}: Philox4x32-10 uniform floats, bit-identical to
 * {@link dev.jacobian.backend.Philox}. One work-item per 4-element block; the 64-bit key and counter travel
 * as their low and high 32-bit words (four {@code uint} arguments). Enqueued without waiting.
 */
final class ClRandom {
    private static final String OPTIONS = "-cl-std=CL1.2";

    private final ClContext cl;
    private final ClProgramCache cache;
    private final int wg;

    ClRandom(ClContext cl, ClProgramCache cache) {
        this.cl = cl;
        this.cache = cache;
        this.wg = (int) Math.min(64, cl.device().maxWorkGroupSize());
    }

    /** Fills {@code out} with elements {@code 0 .. size - 1} of the draw {@code (key, counter)}. */
    void uniform(long key, long counter, Tensor out) {
        int count = out.size();
        if (count == 0) {
            return;
        }
        cl_kernel k = cache.kernel(KernelSources.RANDOM, OPTIONS, "random_uniform");
        ClContext.setArgs(k, count, (int) key, (int) (key >>> 32), (int) counter, (int) (counter >>> 32), buf(out));
        cl.launch1d(k, ((long) count + 3) / 4, wg);
    }
}
