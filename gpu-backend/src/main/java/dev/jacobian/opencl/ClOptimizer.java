package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import org.jocl.cl_kernel;

/**
 * Host side of {@code optimizer.cl}: the fused SGD update of {@link SgdUpdate}, one kernel per parameter.
 * The squared global norm is read by the kernel from its device scalar (no host round trip); a
 * non-finite norm leaves the parameter and velocity untouched.
 */
final class ClOptimizer {
    private static final String OPTIONS = "-cl-std=CL1.2";

    private final ClContext cl;
    private final ClProgramCache cache;
    private final int wg;

    ClOptimizer(ClContext cl, ClProgramCache cache) {
        this.cl = cl;
        this.cache = cache;
        this.wg = (int) Math.min(64, cl.device().maxWorkGroupSize());
    }

    /** {@code velocity} may be null when momentum is 0; {@code gradNormSq} may be null (no clip, no guard). */
    void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        cl_kernel k = cache.kernel(KernelSources.OPTIMIZER, OPTIONS, "sgd_update");
        boolean hasVelocity = velocity != null && u.momentum() != 0f;
        ClContext.setArgs(k, param.size(), buf(param), buf(grad), hasVelocity ? buf(velocity) : buf(param),
                gradNormSq == null ? buf(param) : buf(gradNormSq), gradNormSq == null ? 0 : 1, hasVelocity ? 1 : 0,
                u.learningRate(), u.momentum(), u.nesterov() ? 1 : 0, u.weightDecay(), u.clipNorm(), u.clipValue(),
                u.decayedPrefix());
        cl.launch1d(k, param.size(), wg);
    }
}
