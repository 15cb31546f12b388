package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;

/**
 * Host side of {@code random.cl}: Philox4x32-10 uniform floats, bit-identical to
 * {@link dev.jacobian.backend.Philox}. One work-item per 4-element block; the 64-bit key and counter travel
 * as their low and high 32-bit words (four {@code uint} arguments). Enqueued without waiting.
 */
final class ClRandom {
    private final ClKernels1d kernels;

    ClRandom(ClContext cl, ClProgramCache cache) {
        this.kernels = ClKernels1d.of(cl, cache, KernelSources.RANDOM);
    }

    /** Fills {@code out} with elements {@code 0 .. size - 1} of the draw {@code (key, counter)}. */
    void uniform(long key, long counter, Tensor out) {
        int count = out.size();
        if (count == 0) {
            return;
        }
        kernels.run("random_uniform", ((long) count + 3) / 4, count, (int) key, (int) (key >>> 32), (int) counter,
                (int) (counter >>> 32), buf(out));
    }
}
