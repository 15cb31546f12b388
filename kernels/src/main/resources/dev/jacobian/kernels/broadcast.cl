/*
 * broadcast.cl — elementwise primitives whose operands broadcast by NumPy's rules: binary (ADD, SUB, MUL,
 * MAX) forward and backward, and sum_to (the backward of broadcasting: a sum over the broadcast
 * dimensions). The equal-size cases are the flat kernels of elementwise.cl.
 *
 * Layout: float32, row-major, contiguous. Shapes are right-aligned and padded on the left with 1s to rank
 * RANK = 6, as dev.jacobian.backend.Broadcast does: `dims` is the output shape (the large one), an
 * operand's `strides` are its row-major strides in elements over those dimensions, 0 along every
 * dimension it is broadcast. The host passes each as an int8 argument (components 6 and 7 unused), so a
 * launch needs no buffer for them.
 *
 * Index order: NDRange dimension 0 is a flat index, guarded by `count` (the host may round the global
 * size up). binary_broadcast: one work-item per output element; an operand's index comes from a fast
 * mode (the same element i, i % period, i / run) or from the coordinates and its strides.
 * binary_broadcast_backward and sum_to: one work-item per element j of the small tensor (the gradient's
 * operand, or y), which loops over the output positions that map to j in increasing order, so every
 * sum has one fixed order (deterministic from run to run).
 *
 * Operation codes are the ordinals of the Java enum dev.jacobian.backend.BinaryOp.
 * accumulate != 0 means out += result; accumulate == 0 means out = result (the old value is not read).
 * Floating-point contraction is off so that results match the scalar reference operation by operation.
 *
 * Tuning constants: none (the host picks the work-group size).
 */
#pragma OPENCL FP_CONTRACT OFF

#define RANK 6

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_MAX 3

/* How binary_broadcast finds operand element of output element i (the host picks from Broadcast). */
#define IDX_FLAT 0    /* i: the operand has the output's size */
#define IDX_PERIOD 1  /* i % param: the operand is the output's trailing dimensions (a bias row) */
#define IDX_REPEAT 2  /* i / param: each operand element covers a run of param outputs (a per-row scale) */
#define IDX_STRIDES 3 /* from the coordinates of i and the operand's strides */

#define STORE(out, i, v, acc) ((out)[i] = (acc) ? (out)[i] + (v) : (v))

/* A private copy of the first RANK components of an int8 argument (indexable in a loop). */
#define UNPACK(arr, v) const int arr[RANK] = {(v).s0, (v).s1, (v).s2, (v).s3, (v).s4, (v).s5}

inline float binary_apply(const int op, const float x, const float y) {
    switch (op) {
        case OP_ADD: return x + y;
        case OP_SUB: return x - y;
        case OP_MUL: return x * y;
        default: return (isnan(x) || isnan(y)) ? NAN : fmax(x, y); /* Java Math.max propagates NaN */
    }
}

/* dc * d(x op y)/d(operand); MAX routes to x where x >= y, to y elsewhere (BinaryOp.gradient). */
inline float binary_grad(const int op, const int operand, const float x, const float y, const float g) {
    switch (op) {
        case OP_ADD: return g;
        case OP_SUB: return operand == 0 ? g : -g;
        case OP_MUL: return operand == 0 ? g * y : g * x;
        default: return ((operand == 0) == (x >= y)) ? g : 0.0f;
    }
}

inline int operand_index(const int i, const int mode, const int param, const int* dims, const int* strides) {
    switch (mode) {
        case IDX_FLAT: return i;
        case IDX_PERIOD: return i % param;
        case IDX_REPEAT: return i / param;
        default: {
            int idx = 0;
            int rem = i;
            for (int d = RANK - 1; d >= 0 && rem > 0; d--) {
                idx += (rem % dims[d]) * strides[d];
                rem /= dims[d];
            }
            return idx;
        }
    }
}

/* Row-major strides of the output dimensions. */
inline void output_strides(const int* dims, int* os) {
    int acc = 1;
    for (int d = RANK - 1; d >= 0; d--) {
        os[d] = acc;
        acc *= dims[d];
    }
}

/*
 * c = a op b broadcast; mode = (mode of a, param of a, mode of b, param of b). c may be an operand of the
 * output's size (each work-item reads element i before it writes it), never a broadcast one.
 */
__kernel void binary_broadcast(const int count, const int op, const int8 dims8, const int8 stride_a8,
                               const int8 stride_b8, const int4 mode, const __global float* a,
                               const __global float* b, __global float* c) {
    const int i = get_global_id(0);
    if (i < count) {
        UNPACK(dims, dims8);
        UNPACK(sa, stride_a8);
        UNPACK(sb, stride_b8);
        const float x = a[operand_index(i, mode.s0, mode.s1, dims, sa)];
        const float y = b[operand_index(i, mode.s2, mode.s3, dims, sb)];
        c[i] = binary_apply(op, x, y);
    }
}

/*
 * grad[j] (+)= sum over the output positions i that read element j of the operand of
 * dc[i] * d(a op b)/d(operand) at (a, b) of position i. count = the operand's size; stride_t8 are the
 * operand's strides, stride_o8 the other operand's. grad overlaps none of a, b, dc.
 */
__kernel void binary_broadcast_backward(const int count, const int op, const int operand, const int8 dims8,
                                        const int8 stride_t8, const int8 stride_o8, const __global float* a,
                                        const __global float* b, const __global float* dc, __global float* grad,
                                        const int accumulate) {
    const int j = get_global_id(0);
    if (j < count) {
        UNPACK(dims, dims8);
        UNPACK(st, stride_t8);
        UNPACK(so, stride_o8);
        int os[RANK];
        output_strides(dims, os);
        /* j's coordinates along the operand's own dimensions: the first output position reading j */
        int out = 0;
        int other = 0;
        int rem = j;
        int run = 1;
        for (int d = RANK - 1; d >= 0; d--) {
            if (st[d] != 0) {
                const int coord = rem % dims[d];
                rem /= dims[d];
                out += coord * os[d];
                other += coord * so[d];
            } else {
                run *= dims[d];
            }
        }
        const float t = operand == 0 ? a[j] : b[j];
        int coords[RANK] = {0, 0, 0, 0, 0, 0};
        float sum = 0.0f;
        for (int r = 0; r < run; r++) {
            const float x = operand == 0 ? t : a[other];
            const float y = operand == 0 ? b[other] : t;
            sum += binary_grad(op, operand, x, y, dc[out]);
            /* next position: an odometer over the broadcast dimensions, innermost first */
            for (int d = RANK - 1; d >= 0; d--) {
                if (st[d] == 0 && dims[d] > 1) {
                    out += os[d];
                    other += so[d];
                    if (++coords[d] < dims[d]) {
                        break;
                    }
                    out -= dims[d] * os[d];
                    other -= dims[d] * so[d];
                    coords[d] = 0;
                }
            }
        }
        STORE(grad, j, sum, accumulate);
    }
}

/*
 * y[j] (+)= sum of x over the positions that broadcast from y[j]: x has the padded shape dims8, y the
 * strides stride_y8 over it (0 where y is broadcast). count = y's size. y does not overlap x.
 */
__kernel void sum_to(const int count, const int8 dims8, const int8 stride_y8, const __global float* x,
                     __global float* y, const int accumulate) {
    const int j = get_global_id(0);
    if (j < count) {
        UNPACK(dims, dims8);
        UNPACK(st, stride_y8);
        int os[RANK];
        output_strides(dims, os);
        int out = 0;
        int rem = j;
        int run = 1;
        for (int d = RANK - 1; d >= 0; d--) {
            if (st[d] != 0) {
                out += (rem % dims[d]) * os[d];
                rem /= dims[d];
            } else {
                run *= dims[d];
            }
        }
        int coords[RANK] = {0, 0, 0, 0, 0, 0};
        float sum = 0.0f;
        for (int r = 0; r < run; r++) {
            sum += x[out];
            for (int d = RANK - 1; d >= 0; d--) {
                if (st[d] == 0 && dims[d] > 1) {
                    out += os[d];
                    if (++coords[d] < dims[d]) {
                        break;
                    }
                    out -= dims[d] * os[d];
                    coords[d] = 0;
                }
            }
        }
        STORE(y, j, sum, accumulate);
    }
}
