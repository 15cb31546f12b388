/*
 * optimizer.cl — one fused SGD step on one parameter tensor (dev.jacobian.backend.SgdUpdate):
 *
 *   s2 = norm_sq[0] (the squared global gradient norm over all parameters, already on the device)
 *   if !finite(s2): leave w and v untouched                  (a NaN/Inf step never reaches the weights)
 *   c = clip_norm > 0 and sqrt(s2) >= clip_norm ? clip_norm / sqrt(s2) : 1
 *                                                            (Pascanu, Mikolov, Bengio 2013, alg. 1)
 *   g = c * grad;  if clip_value > 0: g = clamp(g, -clip_value, clip_value)
 *   g = g + weight_decay * w        (only for i < decayed_prefix: the regularized prefix of a parameter arena)
 *   if momentum != 0: v = momentum * v + g;  g = nesterov ? g + momentum * v : v   (Sutskever et al. 2013)
 *   w = w - lr * g
 *
 * The norm is read on the device, so the host never waits for it: no round trip between computing the
 * norm and applying the step. has_norm == 0 means there is no norm tensor (no norm clipping, no NaN
 * guard); norm_sq is then any valid buffer and is not read. has_velocity == 0 means momentum is 0 and v
 * is not touched.
 *
 * Layout: w, grad, v are flat float32 arrays of `count` elements, matched by index.
 * Index order: one work-item per element (NDRange dimension 0, guarded by count).
 * Floating-point contraction is off so that each step matches the scalar reference operation by operation.
 *
 * Tuning constants: none.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd_update(const int count, __global float* w, const __global float* grad, __global float* v,
                         const __global float* norm_sq, const int has_norm, const int has_velocity,
                         const float lr, const float momentum, const int nesterov, const float weight_decay,
                         const float clip_norm, const float clip_value, const int decayed_prefix) {
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    float c = 1.0f;
    if (has_norm) {
        const float s2 = norm_sq[0];
        if (!isfinite(s2)) {
            return;
        }
        if (clip_norm > 0.0f) {
            const float s = sqrt(s2);
            if (s >= clip_norm && s > 0.0f) {
                c = clip_norm / s;
            }
        }
    }
    float g = grad[i] * c;
    if (clip_value > 0.0f) {
        g = fmax(-clip_value, fmin(clip_value, g));
    }
    const float wi = w[i];
    g = g + (i < decayed_prefix ? weight_decay : 0.0f) * wi;
    if (has_velocity && momentum != 0.0f) {
        const float vi = momentum * v[i] + g;
        v[i] = vi;
        g = nesterov ? g + momentum * vi : vi;
    }
    w[i] = wi - lr * g;
}
