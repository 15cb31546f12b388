/*
 * reduce.cl — reductions SUM, MEAN, MAX, SUM_SQUARES, ARGMAX of a matrix x: [m, n] along an axis, and the
 * backward rule of each (except ARGMAX, which has none).
 *
 * Layout: float32 row-major, x[i * n + j]. Axis codes are the ordinals of dev.jacobian.backend.Axis:
 *   ROWS (0): down each column, y: [1, n]      COLS (1): along each row, y: [m, 1]      ALL (2): y: [1, 1]
 * Reduction codes are the ordinals of dev.jacobian.backend.Reduction (SUM 0, MEAN 1, MAX 2, SUM_SQUARES 3,
 * ARGMAX 4). Within a group, element t runs down the column (ROWS), along the row (COLS) or over the flat
 * index (ALL).
 *
 * MAX and ARGMAX pick the first maximal element (lowest t). As in the scalar reference, a NaN is taken
 * only when it is element t == 0 of its group (then it wins); NaNs elsewhere are skipped. ARGMAX writes
 * the index as a float. Code 5 (ARGMAX_INDEX, the host's own, no Reduction) is ARGMAX writing the bits of the
 * index plus ARG_BIAS (as_float), which stay exact past 2^24: the scratch MAX backward reads with as_int. The bias
 * (the bits of the smallest normal float) keeps those floats normal, so that no device flushes them as denormals.
 *
 * Index order:
 *   reduce_rows        one work-item per column j, looping down the rows (reads coalesce across j)
 *   reduce_segments    one work-group per (row, segment): a work-group tree reduction in local memory.
 *                      COLS uses one segment per row; ALL is a two-stage reduction that runs entirely on the
 *                      device: stage 1 (this kernel, as one row split into segments) writes one (value,
 *                      index) partial per work-group, stage 2 (reduce_partials, one work-group) combines them.
 *   reduce_backward    one work-item per element of dx
 * accumulate != 0 means y += result (never for ARGMAX); 0 means y = result.
 *
 * Tuning constants: RED_WG, the work-group size of the tree reductions (a power of two).
 */
#ifndef RED_WG
#define RED_WG 256
#endif

#define AXIS_ROWS 0
#define AXIS_COLS 1
#define AXIS_ALL 2

#define R_SUM 0
#define R_MEAN 1
#define R_MAX 2
#define R_SUM_SQUARES 3
#define R_ARGMAX 4
#define R_ARGMAX_INDEX 5
#define ARG_BIAS 0x00800000

#define IS_MAX(op) ((op) == R_MAX || (op) == R_ARGMAX || (op) == R_ARGMAX_INDEX)

/* Whether candidate (vb, ib) replaces the current best (va, ia); an index < 0 means "empty". */
inline int max_better(const float vb, const int ib, const float va, const int ia) {
    if (ib < 0) {
        return 0;
    }
    if (ia < 0) {
        return 1;
    }
    if (ia == 0 && isnan(va)) {
        return 0;
    }
    if (ib == 0 && isnan(vb)) {
        return 1;
    }
    return vb > va || (vb == va && ib < ia);
}

/* Folds element (v, t) into the running (acc, arg). */
inline void fold(const int op, const float v, const int t, float* acc, int* arg) {
    if (IS_MAX(op)) {
        if (t != 0 && isnan(v)) {
            return;
        }
        if (max_better(v, t, *acc, *arg)) {
            *acc = v;
            *arg = t;
        }
    } else {
        *acc += op == R_SUM_SQUARES ? v * v : v;
    }
}

inline float finish(const int op, const float acc, const int arg, const int len) {
    switch (op) {
        case R_MEAN: return acc / (float) len;
        case R_ARGMAX: return (float) arg;
        case R_ARGMAX_INDEX: return as_float(arg + ARG_BIAS);
        default: return acc;
    }
}

inline void store(__global float* y, const int g, const float v, const int accumulate) {
    y[g] = accumulate ? y[g] + v : v;
}

/* One work-item per column: y[0, j] (+)= reduce_i x[i, j]. */
__kernel void reduce_rows(const int m, const int n, const int op, const __global float* x, __global float* y,
                          const int accumulate) {
    const int j = get_global_id(0);
    if (j >= n) {
        return;
    }
    float acc = 0.0f;
    int arg = -1;
    for (int i = 0; i < m; i++) {
        fold(op, x[i * n + j], i, &acc, &arg);
    }
    store(y, j, finish(op, acc, arg, m), accumulate);
}

/* Tree-combines the work-group's (lv, li) into slot 0. */
inline void tree(const int op, __local float* lv, __local int* li) {
    const int lid = get_local_id(0);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            if (IS_MAX(op)) {
                if (max_better(lv[lid + s], li[lid + s], lv[lid], li[lid])) {
                    lv[lid] = lv[lid + s];
                    li[lid] = li[lid + s];
                }
            } else {
                lv[lid] += lv[lid + s];
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/*
 * Work-group (segment s, row r) reduces x[r * len + s * seg_len .. + seg_len) (clipped to len).
 * final_out != 0: writes the finished value into y[r] (one segment per row: COLS, or a small ALL).
 * final_out == 0: writes the partial (value, index) to pv[s], pi[s] for reduce_partials.
 */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void reduce_segments(const int len, const int seg_len, const int op, const __global float* x,
                     __global float* y, const int accumulate, const int final_out,
                     __global float* pv, __global int* pi) {
    __local float lv[RED_WG];
    __local int li[RED_WG];
    const int lid = get_local_id(0);
    const int s = get_group_id(0);
    const int r = get_group_id(1);
    const int start = s * seg_len;
    const int end = min(start + seg_len, len);
    const __global float* row = x + (long) r * len;

    float acc = 0.0f;
    int arg = -1;
    for (int t = start + lid; t < end; t += RED_WG) {
        fold(op, row[t], t, &acc, &arg);
    }
    lv[lid] = acc;
    li[lid] = arg;
    tree(op, lv, li);
    if (lid == 0) {
        if (final_out) {
            store(y, r, finish(op, lv[0], li[0], len), accumulate);
        } else {
            pv[s] = lv[0];
            pi[s] = li[0];
        }
    }
}

/* Stage 2 of ALL: one work-group combines `parts` partials and writes y[0] (+)= result. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void reduce_partials(const int parts, const int len, const int op, const __global float* pv,
                     const __global int* pi, __global float* y, const int accumulate) {
    __local float lv[RED_WG];
    __local int li[RED_WG];
    const int lid = get_local_id(0);
    float acc = 0.0f;
    int arg = -1;
    for (int p = lid; p < parts; p += RED_WG) {
        if (IS_MAX(op)) {
            if (max_better(pv[p], pi[p], acc, arg)) {
                acc = pv[p];
                arg = pi[p];
            }
        } else {
            acc += pv[p];
        }
    }
    lv[lid] = acc;
    li[lid] = arg;
    tree(op, lv, li);
    if (lid == 0) {
        store(y, 0, finish(op, lv[0], li[0], len), accumulate);
    }
}

/*
 * dx (+)= local gradient * dy[group]: SUM dy, MEAN dy / len, SUM_SQUARES 2 x dy, MAX dy at the element
 * whose index is as_int(argmax[group]) - ARG_BIAS (computed beforehand with op ARGMAX_INDEX; unused otherwise).
 */
__kernel void reduce_backward(const int m, const int n, const int axis, const int op, const __global float* x,
                              const __global float* dy, const __global float* argmax, __global float* dx,
                              const int accumulate) {
    const int idx = get_global_id(0);
    if (idx >= m * n) {
        return;
    }
    const int i = idx / n;
    const int j = idx - i * n;
    const int g = axis == AXIS_ROWS ? j : axis == AXIS_COLS ? i : 0;
    const int t = axis == AXIS_ROWS ? i : axis == AXIS_COLS ? j : idx;
    const int len = axis == AXIS_ROWS ? m : axis == AXIS_COLS ? n : m * n;
    const float gy = dy[g];
    float v;
    switch (op) {
        case R_MEAN: v = gy / (float) len; break;
        case R_SUM_SQUARES: v = 2.0f * x[idx] * gy; break;
        case R_MAX: v = t == as_int(argmax[g]) - ARG_BIAS ? gy : 0.0f; break;
        default: v = gy; break;
    }
    dx[idx] = accumulate ? dx[idx] + v : v;
}
