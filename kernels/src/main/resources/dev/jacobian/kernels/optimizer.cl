/*
 * optimizer.cl — one fused SGD step on one parameter tensor (dev.jacobian.backend.SgdUpdate), and below it the
 * fused adaptive step (Adam, AdamW, RMSprop):
 *
 *   s2 = norm_sq[0] (the squared global gradient norm over all parameters, already on the device)
 *   if !finite(s2): leave w and v untouched                  (a NaN/Inf step never reaches the weights)
 *   c = clip_norm > 0 and sqrt(s2) >= clip_norm ? clip_norm / sqrt(s2) : 1
 *                                                            (Pascanu, Mikolov, Bengio 2013, alg. 1)
 *   g = c * grad;  if clip_value > 0: g = clamp(g, -clip_value, clip_value)
 *   g = g + weight_decay * w        (only for i < decayed_prefix: the regularized prefix of a parameter arena)
 *   if momentum != 0: v = flush(momentum * v + g);  g = nesterov ? g + momentum * v : v   (Sutskever et al. 2013)
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

/*
 * The clipped gradient of one element: c * grad clamped to [-clip_value, clip_value] (clip_value > 0), with
 * c = clip_norm / ||g|| when the global norm reaches clip_norm. Returns 0 when the squared norm is not finite:
 * the caller then leaves everything untouched (the NaN guard).
 */
static inline int clipped_gradient(const float grad, const __global float* norm_sq, const int has_norm,
                                   const float clip_norm, const float clip_value, float* out) {
    float c = 1.0f;
    if (has_norm) {
        const float s2 = norm_sq[0];
        if (!isfinite(s2)) {
            return 0;
        }
        if (clip_norm > 0.0f) {
            const float s = sqrt(s2);
            if (s >= clip_norm && s > 0.0f) {
                c = clip_norm / s;
            }
        }
    }
    float g = grad * c;
    if (clip_value > 0.0f) {
        g = fmax(-clip_value, fmin(clip_value, g));
    }
    *out = g;
    return 1;
}

/* x, or 0 when |x| < FLT_MIN: the subnormal flush of decaying state (velocities and moments). */
static inline float flush_subnormal(const float x) {
    return fabs(x) < FLT_MIN ? 0.0f : x;
}

__kernel void sgd_update(const int count, __global float* w, const __global float* grad, __global float* v,
                         const __global float* norm_sq, const int has_norm, const int has_velocity,
                         const float lr, const float momentum, const int nesterov, const float weight_decay,
                         const float clip_norm, const float clip_value, const int decayed_prefix) {
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    float g;
    if (!clipped_gradient(grad[i], norm_sq, has_norm, clip_norm, clip_value, &g)) {
        return;
    }
    const float wi = w[i];
    g = g + (i < decayed_prefix ? weight_decay : 0.0f) * wi;
    if (has_velocity && momentum != 0.0f) {
        const float vi = flush_subnormal(momentum * v[i] + g);
        v[i] = vi;
        g = nesterov ? g + momentum * vi : vi;
    }
    w[i] = wi - lr * g;
}

/*
 * adaptive_update — one fused Adam, AdamW or RMSprop step (dev.jacobian.backend.AdaptiveUpdate), torch.optim
 * 1.13's operations in its order; the host rounds the scalars once, as PyTorch rounds its Python floats:
 *
 *   g = clipped gradient (above); in the decayed prefix: g = g + coupled * w;  w = w * factor
 *   v = b2 v + omb2 g^2                                   (flushed to 0 below FLT_MIN)
 *   Adam/AdamW (rms == 0):  m = b1 m + omb1 g;            w = w - step * (m / (sqrt(v) / bc2 + eps))
 *   RMSprop (rms == 1):     a = sqrt(v) + eps;  has_m: m = b1 m + g / a;  w = w - step * m
 *                                               else:                     w = w - step * (g / a)
 *
 * coupled is Adam's and RMSprop's L2 weight decay (0 for AdamW), factor AdamW's 1 - lr * weight_decay (1 for
 * the others), step Adam's lr / (1 - beta1^t) (RMSprop: lr), bc2 Adam's sqrt(1 - beta2^t). State values below
 * FLT_MIN in magnitude are flushed to 0, so decaying moments never turn subnormal. has_m == 0 (RMSprop without
 * momentum) means m is any valid buffer and is not touched.
 *
 * Layout: w, grad, m, v flat float32 arrays of `count` elements, matched by index; one work-item per element.
 */
__kernel void adaptive_update(const int count, __global float* w, const __global float* grad, __global float* m,
                              __global float* v, const __global float* norm_sq, const int has_norm, const int rms,
                              const int has_m, const float b1, const float omb1, const float b2, const float omb2,
                              const float eps, const float step, const float bc2, const float coupled,
                              const float factor, const float clip_norm, const float clip_value,
                              const int decayed_prefix) {
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    float g;
    if (!clipped_gradient(grad[i], norm_sq, has_norm, clip_norm, clip_value, &g)) {
        return;
    }
    float wi = w[i];
    if (i < decayed_prefix) {
        g = g + coupled * wi;
        wi = wi * factor;
    }
    const float vi = flush_subnormal(b2 * v[i] + omb2 * (g * g));
    v[i] = vi;
    if (rms) {
        const float q = g / (sqrt(vi) + eps);
        if (has_m) {
            const float mi = flush_subnormal(b1 * m[i] + q);
            m[i] = mi;
            wi = wi - step * mi;
        } else {
            wi = wi - step * q;
        }
    } else {
        const float mi = flush_subnormal(b1 * m[i] + omb1 * g);
        m[i] = mi;
        wi = wi - step * (mi / (sqrt(vi) / bc2 + eps));
    }
    w[i] = wi;
}
