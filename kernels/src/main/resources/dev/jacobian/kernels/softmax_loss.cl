/*
 * softmax_loss.cl — row-wise softmax and its backward, and the four per-sample losses with their
 * backward rules (dev.jacobian.backend.LossKind ordinals: SOFTMAX_CROSS_ENTROPY 0, SVM_HINGE 1, MSE 2,
 * SIGMOID_BINARY_CROSS_ENTROPY 3). Softmax–cross-entropy is fused: the loss and its gradient are computed
 * straight from the logits with the row max subtracted, never through a stored softmax.
 *
 * Layout: float32 row-major. Logits / predictions p: [rows, c]; class-index targets t: [rows, 1] (index
 * stored as a float) for kinds 0 and 1, dense targets t: [rows, c] for kinds 2 and 3; per-sample losses
 * out: [rows, 1]; dout: [rows, 1].
 *   softmax      y_ij = e^{x_ij - max_i} / sum_j e^{x_ij - max_i}
 *   softmax bwd  dx_ij (+)= y_ij (dy_ij - sum_k dy_ik y_ik)
 *   SCE          L_i = log sum_j e^{p_ij - max} + max - p_{i,y};     dp = dL (softmax_j - [j == y])
 *   SVM_HINGE    L_i = sum_{j != y} max(0, p_ij - p_iy + 1);         dp_j = dL [active j], dp_y = -dL #active
 *   MSE          L_i = sum_j (p_ij - t_ij)^2;                        dp = 2 (p - t) dL
 *   SIGMOID_BCE  L_i = sum_j max(p,0) - p t + log(1 + e^{-|p|});     dp = (sigmoid(p) - t) dL
 *
 * Index order: one work-group of SM_WG work-items per row (NDRange dimension 0 = row * SM_WG + lane);
 * lanes stride over the row's columns and combine through a local-memory tree. The batch-mean loss (loss_mean)
 * is one work-group whose lanes take whole rows (row = lane, lane + SM_WG, ...), sum their losses and combine
 * them through the same tree: one launch for the loss a training step reports. The backward kernels read the
 * gradient of a row as dout[row * dstride] / ddiv: (1, 1) per sample, (0, n) for the batch mean. accumulate != 0 means
 * out += result, 0 means out = result. Each loss kind has its own pair of kernels (loss_<kind> and
 * loss_<kind>_backward) so that every barrier sits in control flow that is uniform at compile time.
 *
 * Tuning constants: SM_WG, the work-group size (a power of two; the host picks about the row length,
 * capped by the device's maximum work-group size).
 */
#ifndef SM_WG
#define SM_WG 64
#endif

/* Work-group sum of v; every lane gets the result. Must be reached by all lanes. */
inline float wg_sum(float v, __local float* scratch) {
    const int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    scratch[lid] = v;
    for (int s = SM_WG / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return scratch[0];
}

/* Work-group max of v (NaN-propagating); every lane gets the result. */
inline float wg_max(float v, __local float* scratch) {
    const int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    scratch[lid] = v;
    for (int s = SM_WG / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            const float a = scratch[lid];
            const float b = scratch[lid + s];
            scratch[lid] = (isnan(a) || isnan(b)) ? NAN : fmax(a, b);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return scratch[0];
}

inline float row_max(const __global float* p, const int c, __local float* scratch) {
    float mx = -INFINITY;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float v = p[j];
        mx = (isnan(mx) || isnan(v)) ? NAN : fmax(mx, v);
    }
    return wg_max(mx, scratch);
}

__kernel __attribute__((reqd_work_group_size(SM_WG, 1, 1)))
void softmax_forward(const int c, const __global float* x, __global float* y) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* xr = x + row * c;
    __global float* yr = y + row * c;
    const float mx = row_max(xr, c, scratch);
    float sum = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        sum += exp(xr[j] - mx);
    }
    sum = wg_sum(sum, scratch);
    const float inv = 1.0f / sum;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        yr[j] = exp(xr[j] - mx) * inv; /* y may alias x: each lane rewrites only the columns it read */
    }
}

__kernel __attribute__((reqd_work_group_size(SM_WG, 1, 1)))
void softmax_backward(const int c, const __global float* y, const __global float* dy, __global float* dx,
                      const int accumulate) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const long base = row * c;
    float dot = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        dot += dy[base + j] * y[base + j];
    }
    dot = wg_sum(dot, scratch);
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float v = y[base + j] * (dy[base + j] - dot);
        dx[base + j] = accumulate ? dx[base + j] + v : v;
    }
}

#define ROW_KERNEL(name) __kernel __attribute__((reqd_work_group_size(SM_WG, 1, 1))) void name

/*
 * The class index a target value names, or -1: NaN, negative, fractional or >= c name no class
 * (dev.jacobian.backend.LossKind.classIndex). Such a row gets a NaN loss and NaN gradients, so the optimizer's
 * NaN guard skips the step, and no work-item reads outside the row.
 */
static inline int class_index(const float t, const int c) {
    return (t >= 0.0f && t < (float) c && t == (float) (int) t) ? (int) t : -1;
}
#define STORE(o, j, v, acc) ((o)[j] = (acc) ? (o)[j] + (v) : (v))
/* The loss gradient of a row: dout[row] for per-sample losses (dstride 1, ddiv 1), dout[0] / n for the batch mean
 * (dstride 0, ddiv n), so one kernel serves Backend#rowLossBackward and Backend#meanLossBackward. */
#define DOUT(row) (dout[(row) * dstride] / ddiv)

/* Softmax-cross-entropy, fused from the logits: L = log sum_j e^{p_j - max} + max - p_y. */
ROW_KERNEL(loss_sce)(const int c, const __global float* pred, const __global float* target, __global float* out) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const int y = class_index(target[row], c);
    const float mx = row_max(p, c, scratch);
    float sum = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        sum += exp(p[j] - mx);
    }
    sum = wg_sum(sum, scratch);
    if (get_local_id(0) == 0) {
        out[row] = y < 0 ? NAN : log(sum) + mx - p[y];
    }
}

/* dp_j (+)= dL (softmax_j - [j == y]). */
ROW_KERNEL(loss_sce_backward)(const int c, const __global float* pred, const __global float* target,
                              const __global float* dout, const int dstride, const float ddiv,
                              __global float* dpred, const int accumulate) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    __global float* o = dpred + row * c;
    const int y = class_index(target[row], c);
    const float g = y < 0 ? NAN : DOUT(row);
    const float mx = row_max(p, c, scratch);
    float sum = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        sum += exp(p[j] - mx);
    }
    sum = wg_sum(sum, scratch);
    const float inv = 1.0f / sum;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float v = g * (exp(p[j] - mx) * inv - (j == y ? 1.0f : 0.0f));
        STORE(o, j, v, accumulate);
    }
}

/* Multiclass hinge: L = sum_{j != y} max(0, p_j - p_y + 1). */
ROW_KERNEL(loss_svm)(const int c, const __global float* pred, const __global float* target, __global float* out) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const int y = class_index(target[row], c);
    const float py = y < 0 ? NAN : p[y];
    float part = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        if (j != y) {
            part += fmax(0.0f, p[j] - py + 1.0f);
        }
    }
    part = wg_sum(part, scratch);
    if (get_local_id(0) == 0) {
        out[row] = y < 0 ? NAN : part;
    }
}

/* dp_j (+)= dL [p_j - p_y + 1 > 0] for j != y; dp_y (+)= -dL * (number of active j). */
ROW_KERNEL(loss_svm_backward)(const int c, const __global float* pred, const __global float* target,
                              const __global float* dout, const int dstride, const float ddiv,
                              __global float* dpred, const int accumulate) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    __global float* o = dpred + row * c;
    const int y = class_index(target[row], c);
    if (y < 0) {
        for (int j = get_local_id(0); j < c; j += SM_WG) {
            o[j] = NAN;
        }
        return; /* uniform across the work-group: every work-item of the row returns here */
    }
    const float g = DOUT(row);
    const float py = p[y];
    float active = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        if (j != y) {
            const int on = p[j] - py + 1.0f > 0.0f;
            active += on ? 1.0f : 0.0f;
            STORE(o, j, on ? g : 0.0f, accumulate);
        }
    }
    active = wg_sum(active, scratch);
    if (get_local_id(0) == 0) {
        STORE(o, y, -g * active, accumulate);
    }
}

/* Squared L2 distance: L = sum_j (p_j - t_j)^2. */
ROW_KERNEL(loss_mse)(const int c, const __global float* pred, const __global float* target, __global float* out) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const __global float* t = target + row * c;
    float part = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float d = p[j] - t[j];
        part += d * d;
    }
    part = wg_sum(part, scratch);
    if (get_local_id(0) == 0) {
        out[row] = part;
    }
}

/* dp (+)= 2 (p - t) dL. */
ROW_KERNEL(loss_mse_backward)(const int c, const __global float* pred, const __global float* target,
                              const __global float* dout, const int dstride, const float ddiv,
                              __global float* dpred, const int accumulate) {
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const __global float* t = target + row * c;
    __global float* o = dpred + row * c;
    const float g = DOUT(row);
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        STORE(o, j, 2.0f * (p[j] - t[j]) * g, accumulate);
    }
}

/* Sigmoid + binary cross-entropy on logits: L = sum_j max(p, 0) - p t + log(1 + e^{-|p|}). */
ROW_KERNEL(loss_bce)(const int c, const __global float* pred, const __global float* target, __global float* out) {
    __local float scratch[SM_WG];
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const __global float* t = target + row * c;
    float part = 0.0f;
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float x = p[j];
        part += fmax(x, 0.0f) - x * t[j] + log1p(exp(-fabs(x)));
    }
    part = wg_sum(part, scratch);
    if (get_local_id(0) == 0) {
        out[row] = part;
    }
}

/* dp (+)= (sigmoid(p) - t) dL. */
ROW_KERNEL(loss_bce_backward)(const int c, const __global float* pred, const __global float* target,
                              const __global float* dout, const int dstride, const float ddiv,
                              __global float* dpred, const int accumulate) {
    const long row = get_group_id(0);
    const __global float* p = pred + row * c;
    const __global float* t = target + row * c;
    __global float* o = dpred + row * c;
    const float g = DOUT(row);
    for (int j = get_local_id(0); j < c; j += SM_WG) {
        const float s = 1.0f / (1.0f + exp(-p[j]));
        STORE(o, j, (s - t[j]) * g, accumulate);
    }
}

/* One row's loss computed by one work-item alone (the batch-mean kernel gives each lane whole rows). */
inline float row_loss_serial(const int kind, const __global float* pred, const __global float* target, const long row,
                             const int c) {
    const __global float* p = pred + row * c;
    if (kind == 0 || kind == 1) {
        const int y = class_index(target[row], c);
        if (y < 0) {
            return NAN;
        }
        if (kind == 0) {
            float mx = -INFINITY;
            for (int j = 0; j < c; j++) {
                mx = (isnan(mx) || isnan(p[j])) ? NAN : fmax(mx, p[j]);
            }
            float sum = 0.0f;
            for (int j = 0; j < c; j++) {
                sum += exp(p[j] - mx);
            }
            return log(sum) + mx - p[y];
        }
        const float py = p[y];
        float part = 0.0f;
        for (int j = 0; j < c; j++) {
            if (j != y) {
                part += fmax(0.0f, p[j] - py + 1.0f);
            }
        }
        return part;
    }
    const __global float* t = target + row * c;
    float part = 0.0f;
    for (int j = 0; j < c; j++) {
        const float x = p[j];
        if (kind == 2) {
            const float d = x - t[j];
            part += d * d;
        } else {
            part += fmax(x, 0.0f) - x * t[j] + log1p(exp(-fabs(x)));
        }
    }
    return part;
}

/* out[0] = (1 / rows) sum_i L_i for loss kind `kind` (LossKind ordinal); one work-group. */
__kernel __attribute__((reqd_work_group_size(SM_WG, 1, 1)))
void loss_mean(const int rows, const int c, const int kind, const __global float* pred, const __global float* target,
               __global float* out) {
    __local float scratch[SM_WG];
    float part = 0.0f;
    for (int i = get_local_id(0); i < rows; i += SM_WG) {
        part += row_loss_serial(kind, pred, target, i, c);
    }
    part = wg_sum(part, scratch);
    if (get_local_id(0) == 0) {
        out[0] = part / (float) rows;
    }
}
