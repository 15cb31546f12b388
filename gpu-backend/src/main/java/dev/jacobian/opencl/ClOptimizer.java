package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;

/**
 * Host side of {@code optimizer.cl}: the fused SGD update of {@link SgdUpdate} and the fused Adam, AdamW and
 * RMSprop update of {@link AdaptiveUpdate}, one kernel each over a parameter (or a whole parameter arena).
 * The squared global norm is read by the kernel from its device scalar (no host round trip); a
 * non-finite norm leaves the parameter and velocity untouched.
 */
final class ClOptimizer {
    private final ClKernels1d kernels;

    ClOptimizer(ClContext cl, ClProgramCache cache) {
        this.kernels = ClKernels1d.of(cl, cache, KernelSources.OPTIMIZER);
    }

    /** {@code velocity} may be null when momentum is 0; {@code gradNormSq} may be null (no clip, no guard). */
    void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        boolean hasVelocity = velocity != null && u.momentum() != 0f;
        kernels.run("sgd_update", param.size(), param.size(), buf(param), buf(grad),
                hasVelocity ? buf(velocity) : buf(param), gradNormSq == null ? buf(param) : buf(gradNormSq),
                gradNormSq == null ? 0 : 1, hasVelocity ? 1 : 0, u.learningRate(), u.momentum(), u.nesterov() ? 1 : 0,
                u.weightDecay(), u.clipNorm(), u.clipValue(), u.decayedPrefix());
    }

    /** {@code m} is null when the rule keeps no first moment; {@code gradNormSq} may be null (no clip, no guard). */
    void adaptiveUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq, AdaptiveUpdate u) {
        boolean hasM = u.usesFirstMoment();
        kernels.run("adaptive_update", param.size(), param.size(), buf(param), buf(grad), hasM ? buf(m) : buf(v),
                buf(v), gradNormSq == null ? buf(param) : buf(gradNormSq), gradNormSq == null ? 0 : 1,
                u.rule() == AdaptiveUpdate.Rule.RMSPROP ? 1 : 0, hasM ? 1 : 0, u.beta1f(), u.oneMinusBeta1(),
                u.beta2f(), u.oneMinusBeta2(), u.epsf(), u.stepSize(), u.biasCorrection2Sqrt(), u.coupledDecay(),
                u.decoupledFactor(), u.clipNorm(), u.clipValue(), u.decayedPrefix());
    }
}
