/*
 * elementwise.cl — elementwise primitives and their backward rules, side by side:
 *   fill, copy, axpby; unary math (UnaryOp NEG ... STEP, forward only: core composes the derivatives);
 *   binary (ADD, SUB, MUL, MAX) on equal sizes + backward (broadcasting ones are in broadcast.cl);
 *   activations (IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU) + backward; addRowVector; bias + activation
 *   fused; PReLU + backward (dx here, dslope per column); maxout + backward.
 *
 * Layout: float32, row-major, flat index i = row * cols + col. Matrices are [m, n]; row vectors [1, n].
 * Index order: one work-item per output element (NDRange dimension 0 is the flat index, guarded by the
 * element count, so the host may round the global size up), except prelu_backward_slope which uses
 * one work-item per column and loops down the rows.
 *
 * Operation codes are the ordinals of the Java enums dev.jacobian.backend.UnaryOp, BinaryOp and Activation.
 * accumulate != 0 means out += result; accumulate == 0 means out = result (the old value is not read).
 * Floating-point contraction is off so that results match the scalar reference operation by operation.
 *
 * Tuning constants: none (the host picks the work-group size).
 */
#pragma OPENCL FP_CONTRACT OFF

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_MAX 3

#define UN_NEG 0
#define UN_EXP 1
#define UN_LOG 2
#define UN_SQRT 3
#define UN_RECIPROCAL 4
#define UN_SQUARE 5
#define UN_ABS 6
#define UN_SIGN 7
#define UN_ADD_SCALAR 8
#define UN_MUL_SCALAR 9
#define UN_CLAMP 10
#define UN_TANH 11
#define UN_SIGMOID 12
#define UN_FINITE_OR_ZERO 13
#define UN_STEP 14

#include "activations.h"

#define STORE(out, i, v, acc) ((out)[i] = (acc) ? (out)[i] + (v) : (v))

__kernel void fill(const int count, const float value, __global float* x) {
    const int i = get_global_id(0);
    if (i < count) {
        x[i] = value;
    }
}

/*
 * dst[dst_offset + i] = table[bytes[i]] for i < count: a batch's rows of unsigned bytes (packed one after another by
 * the host) to the floats they stand for, through the 256 floats v / divisor the host computed (its bits exactly).
 */
__kernel void bytes_to_floats(const int count, const __global uchar* bytes, const __global float* table,
                              __global float* dst, const int dst_offset) {
    const int i = get_global_id(0);
    if (i < count) {
        dst[dst_offset + i] = table[bytes[i]];
    }
}

/* dst[dst_offset + i] = src[src_offset + i] for i < count. */
__kernel void copy(const int count, const __global float* src, const int src_offset, __global float* dst,
                   const int dst_offset) {
    const int i = get_global_id(0);
    if (i < count) {
        dst[dst_offset + i] = src[src_offset + i];
    }
}

/* y = alpha * x + beta * y; beta == 0 ignores the old y (even NaN). */
__kernel void axpby(const int count, const float alpha, const __global float* x, const float beta,
                    __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = beta == 0.0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
    }
}

/* op(x; p, q) as UnaryOp.apply defines it: SIGN gives -1, +-0 or 1 and keeps NaN (OpenCL's sign() maps NaN
 * to 0), CLAMP = min(max(x, p), q) keeps NaN; p <= q is checked by the host; STEP = x >= p ? q : 0. */
inline float unary_apply(const int op, const float x, const float p, const float q) {
    switch (op) {
        case UN_NEG: return -x;
        case UN_EXP: return exp(x);
        case UN_LOG: return log(x);
        case UN_SQRT: return sqrt(x);
        case UN_RECIPROCAL: return 1.0f / x;
        case UN_SQUARE: return x * x;
        case UN_ABS: return fabs(x);
        case UN_SIGN: return isnan(x) ? x : x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
        case UN_ADD_SCALAR: return x + p;
        case UN_MUL_SCALAR: return p * x;
        case UN_CLAMP: return isnan(x) ? x : x < p ? p : x > q ? q : x;
        case UN_TANH: return tanh(x);
        case UN_SIGMOID: return 1.0f / (1.0f + exp(-x));
        case UN_STEP: return x >= p ? q : 0.0f; /* NaN compares false: 0 */
        default: return isfinite(x) ? x : 0.0f; /* UN_FINITE_OR_ZERO */
    }
}

/* y = op(x; p, q); y may alias x. */
__kernel void unary_forward(const int count, const int op, const float p, const float q, const __global float* x,
                            __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = unary_apply(op, x[i], p, q);
    }
}

/* c = a op b; c may alias a or b (each work-item reads before it writes its own element). */
__kernel void binary_forward(const int count, const int op, const __global float* a, const __global float* b,
                             __global float* c) {
    const int i = get_global_id(0);
    if (i < count) {
        const float x = a[i];
        const float y = b[i];
        float r;
        switch (op) {
            case OP_ADD: r = x + y; break;
            case OP_SUB: r = x - y; break;
            case OP_MUL: r = x * y; break;
            default: r = (isnan(x) || isnan(y)) ? NAN : fmax(x, y); break; /* Java Math.max propagates NaN */
        }
        c[i] = r;
    }
}

/* grad (+)= dc * d(a op b)/d(operand); MAX routes to a where a >= b, to b elsewhere. */
__kernel void binary_backward(const int count, const int op, const int operand, const __global float* a,
                              const __global float* b, const __global float* dc, __global float* grad,
                              const int accumulate) {
    const int i = get_global_id(0);
    if (i < count) {
        const float x = a[i];
        const float y = b[i];
        const float g = dc[i];
        float r;
        switch (op) {
            case OP_ADD: r = g; break;
            case OP_SUB: r = operand == 0 ? g : -g; break;
            case OP_MUL: r = operand == 0 ? g * y : g * x; break;
            default: r = ((operand == 0) == (x >= y)) ? g : 0.0f; break;
        }
        STORE(grad, i, r, accumulate);
    }
}

/* y = f(x); y may alias x. */
__kernel void activation_forward(const int count, const int f, const float param, const __global float* x,
                                 __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = act_apply(f, x[i], param);
    }
}

/* dx (+)= dy * f'(x, y). */
__kernel void activation_backward(const int count, const int f, const float param, const __global float* x,
                                  const __global float* y, const __global float* dy, __global float* dx,
                                  const int accumulate) {
    const int i = get_global_id(0);
    if (i < count) {
        const float r = dy[i] * act_derivative(f, x[i], y[i], param);
        STORE(dx, i, r, accumulate);
    }
}

/* y[i, j] = x[i, j] + bias[j]; x, y: [m, n], bias: [1, n]; y may alias x. */
__kernel void add_row_vector(const int count, const int n, const __global float* x, const __global float* bias,
                             __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = x[i] + bias[i % n];
    }
}

/* The dense layer's epilogue, fused: y[i, j] = f(x[i, j] + bias[j]); y may alias x. */
__kernel void bias_activation(const int count, const int n, const int f, const float param, const __global float* x,
                              const __global float* bias, __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        y[i] = act_apply(f, x[i] + bias[i % n], param);
    }
}

/* y = x > 0 ? x : slope[j] * x; slope: [1, n]. */
__kernel void prelu_forward(const int count, const int n, const __global float* x, const __global float* slope,
                            __global float* y) {
    const int i = get_global_id(0);
    if (i < count) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : slope[i % n] * v;
    }
}

/* dx (+)= dy * (x > 0 ? 1 : slope[j]). */
__kernel void prelu_backward_input(const int count, const int n, const __global float* x,
                                   const __global float* slope, const __global float* dy, __global float* dx,
                                   const int accumulate) {
    const int i = get_global_id(0);
    if (i < count) {
        const float r = x[i] > 0.0f ? dy[i] : dy[i] * slope[i % n];
        STORE(dx, i, r, accumulate);
    }
}

/* dslope[j] (+)= sum_i dy[i, j] * (x[i, j] > 0 ? 0 : x[i, j]); one work-item per column j. */
__kernel void prelu_backward_slope(const int m, const int n, const __global float* x, const __global float* dy,
                                   __global float* dslope, const int accumulate) {
    const int j = get_global_id(0);
    if (j < n) {
        float sum = 0.0f;
        for (int i = 0; i < m; i++) {
            const float v = x[i * n + j];
            sum += v > 0.0f ? 0.0f : dy[i * n + j] * v;
        }
        STORE(dslope, j, sum, accumulate);
    }
}

/* y[i, j] = max_p z[i, j * pieces + p]; z: [m, n * pieces], y: [m, n]; one work-item per y element. */
__kernel void maxout_forward(const int count, const int pieces, const __global float* z, __global float* y) {
    const int o = get_global_id(0);
    if (o < count) {
        const int base = o * pieces; /* row i, group j: i * n * pieces + j * pieces == o * pieces */
        float best = z[base];
        for (int p = 1; p < pieces; p++) {
            const float v = z[base + p];
            best = (isnan(best) || isnan(v)) ? NAN : fmax(best, v);
        }
        y[o] = best;
    }
}

/* dz (+)= dy at the first maximal piece of each group, 0 at the other pieces. */
__kernel void maxout_backward(const int count, const int pieces, const __global float* z,
                              const __global float* dy, __global float* dz, const int accumulate) {
    const int o = get_global_id(0);
    if (o < count) {
        const int base = o * pieces;
        int arg = 0;
        for (int p = 1; p < pieces; p++) {
            if (z[base + p] > z[base + arg]) {
                arg = p;
            }
        }
        const float g = dy[o];
        for (int p = 0; p < pieces; p++) {
            STORE(dz, base + p, p == arg ? g : 0.0f, accumulate);
        }
    }
}
