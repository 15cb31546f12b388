/*
 * matmul.cl — single-precision GEMM: C = alpha * op(A) * op(B) + beta * C.
 *
 * Layout: every matrix is row-major and dense. op(A) is [M, K], op(B) is [K, N], C is [M, N].
 *   TRANS_A == 0: A is stored [M, K], lda = K, element (i, p) at A[i * lda + p]
 *   TRANS_A == 1: A is stored [K, M], lda = M, element (i, p) at A[p * lda + i]
 *   TRANS_B == 0: B is stored [K, N], ldb = N, element (p, j) at B[p * ldb + j]
 *   TRANS_B == 1: B is stored [N, K], ldb = K, element (p, j) at B[j * ldb + p]
 * A transposed operand is read in place; it is never materialized.
 *
 * Index order: NDRange dimension 0 runs over columns of C, dimension 1 over rows. One work-group computes
 * a TILE_M x TILE_N tile of C, looping over K in steps of TILE_K. Each step stages a TILE_M x TILE_K slab of
 * op(A) and a TILE_K x TILE_N slab of op(B) in local memory (k-major, so the inner loop reads both along
 * the tile's M or N direction), then each work-item accumulates a WPT_M x WPT_N micro-tile in registers.
 * Work-item (tx, ty) owns rows ty + r * (TILE_M / WPT_M) and columns tx + c * (TILE_N / WPT_N) (strided,
 * so neighbouring work-items read neighbouring local words). Global loads are coalesced along whichever
 * dimension is contiguous in memory; tiles entirely inside the matrices use vloadVW, edge tiles load
 * element by element and pad with zeros. Stores are guarded, so any M, N, K >= 1 works.
 *
 * beta == 0 ignores the old C entirely (even NaN), exactly as Backend#gemm specifies.
 *
 * Fusions (compile-time variants, for a dense layer's step; every variant takes the same arguments, unused
 * buffers bound to anything):
 *   EPI_BIAS 1    C = act(alpha op(A) op(B) + beta C + bias[j]), bias a [1, N] row (Backend#gemmBiasActivation)
 *   EPI_ACT f     the activation act applied in that epilogue (ACT_* codes of activations.h; 0 = identity)
 *   MASK 1 / 2    op(A) / op(B) multiplied elementwise, as it is loaded, by act'(y) for the y in `mask`, which
 *                 is stored exactly as the masked operand (same layout, same leading dimension); MASK_ACT names
 *                 the activation whose derivative (from its output) is taken: dz = dy f'(y) never materialized
 *   COLSUM 1      colsum[j] = sum_p op(B)[p, j] (after the mask) + colsum_beta colsum[j]: the bias gradient,
 *                 summed by the work-groups of the first tile row from the B tiles they stage anyway
 * The extra scalar act_param is the activation's parameter (leaky-ReLU slope, ELU alpha).
 *
 * Split K (SPLIT 1; for products with too few tiles to fill the device): NDRange dimension 2 indexes the split;
 * split s multiplies over k in [s * k_split, min(k, (s + 1) * k_split)) and stores its raw sums in slab s of the
 * workspace passed as c ([splits, M, N]); gemm_split_reduce then adds the slabs in split order (deterministic)
 * and applies alpha, beta and the epilogue. COLSUM is never split.
 * Floating-point contraction is off, so the epilogue and the masks compute what the separate kernels would, bit
 * for bit; the column sums add in k order (reduce.cl's row sums use another order).
 *
 * Tuning constants (the host passes -D options from its per-device parameter record):
 *   TILE_M, TILE_N, TILE_K   tile sizes; TILE_M % WPT_M == 0, TILE_N % WPT_N == 0
 *   WPT_M, WPT_N             micro-tile per work-item; local size is (TILE_N/WPT_N, TILE_M/WPT_M)
 *   VW                       vector width of interior global loads: 1, 2, 4 or 8; must divide TILE_K,
 *                            TILE_M and TILE_N
 *   PAD                      local-memory row padding (bank conflicts)
 *   TRANS_A, TRANS_B         0 or 1: the operand layouts above
 */
#pragma OPENCL FP_CONTRACT OFF

#include "activations.h"

#ifndef EPI_BIAS
#define EPI_BIAS 0
#endif
#ifndef EPI_ACT
#define EPI_ACT ACT_IDENTITY
#endif
#ifndef MASK
#define MASK 0
#endif
#ifndef MASK_ACT
#define MASK_ACT ACT_IDENTITY
#endif
#ifndef COLSUM
#define COLSUM 0
#endif
#ifndef SPLIT
#define SPLIT 0
#endif

#ifndef TILE_M
#define TILE_M 64
#endif
#ifndef TILE_N
#define TILE_N 64
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif
#ifndef VW
#define VW 4
#endif
#ifndef PAD
#define PAD 1
#endif
#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif

#define RTS_M (TILE_M / WPT_M)
#define RTS_N (TILE_N / WPT_N)
#define THREADS (RTS_M * RTS_N)
/* Row lengths of the local tiles as[k][m] and bs[k][n], stored flat (as[kk * AS_ROW + mm]) so that every access
 * indexes the array it belongs to (indexing row 0's pointer past its end is undefined behaviour). */
#define AS_ROW (TILE_M + PAD)
#define BS_ROW (TILE_N + PAD)

#if VW == 1
#define VTYPE float
#define VLOAD(off, p) (*((p) + (off)))
#elif VW == 2
#define VTYPE float2
#define VLOAD(off, p) vload2(0, (p) + (off))
#elif VW == 4
#define VTYPE float4
#define VLOAD(off, p) vload4(0, (p) + (off))
#elif VW == 8
#define VTYPE float8
#define VLOAD(off, p) vload8(0, (p) + (off))
#else
#error "VW must be 1, 2, 4 or 8"
#endif

/* Stores VW consecutive values of v into dst[base], dst[base + stride], ... */
inline void store_vec(__local float* dst, int base, int stride, VTYPE v) {
#if VW == 1
    dst[base] = v;
#else
    float tmp[VW];
#if VW == 2
    vstore2(v, 0, tmp);
#elif VW == 4
    vstore4(v, 0, tmp);
#else
    vstore8(v, 0, tmp);
#endif
    for (int q = 0; q < VW; q++) {
        dst[base + q * stride] = tmp[q];
    }
#endif
}

/* The derivative mask of MASK_ACT at output y. */
inline float dmask(const float y, const float p) {
    return act_derivative(MASK_ACT, y, y, p);
}

/* store_vec of v * act'(y), component by component. */
inline void store_vec_masked(__local float* dst, int base, int stride, VTYPE v, VTYPE y, const float p) {
#if VW == 1
    dst[base] = v * dmask(y, p);
#else
    float tv[VW];
    float ty[VW];
#if VW == 2
    vstore2(v, 0, tv);
    vstore2(y, 0, ty);
#elif VW == 4
    vstore4(v, 0, tv);
    vstore4(y, 0, ty);
#else
    vstore8(v, 0, tv);
    vstore8(y, 0, ty);
#endif
    for (int q = 0; q < VW; q++) {
        dst[base + q * stride] = tv[q] * dmask(ty[q], p);
    }
#endif
}

/* An interior vector load stored into local memory, masked when `masked` (a compile-time constant). */
#define STAGE_VEC(masked, dst, base, stride, off, src, mk, p) \
    do { \
        if (masked) { \
            store_vec_masked(dst, base, stride, VLOAD(off, src), VLOAD(off, mk), p); \
        } else { \
            store_vec(dst, base, stride, VLOAD(off, src)); \
        } \
    } while (0)
/* An edge element: src[idx] (times act'(mk[idx]) when masked), or 0 outside the matrix. */
#define EDGE(masked, inside, src, mk, idx, p) \
    ((inside) ? ((masked) ? (src)[idx] * dmask((mk)[idx], p) : (src)[idx]) : 0.0f)

/* Stages op(A)[row0 .. row0+TILE_M, k0 .. k0+TILE_K] into as[k][m]. */
inline void load_a(const __global float* a, const __global float* mk, const float p, int lda, int m, int k,
                   int row0, int k0, int tid, int interior, __local float* as) {
#if TRANS_A == 0
    /* contiguous along k */
    if (interior) {
        for (int e = tid; e < TILE_M * TILE_K / VW; e += THREADS) {
            int kk = (e % (TILE_K / VW)) * VW;
            int mm = e / (TILE_K / VW);
            STAGE_VEC(MASK == 1, as, kk * AS_ROW + mm, AS_ROW, (row0 + mm) * lda + k0 + kk, a, mk, p);
        }
    } else {
        for (int e = tid; e < TILE_M * TILE_K; e += THREADS) {
            int kk = e % TILE_K;
            int mm = e / TILE_K;
            int gi = row0 + mm;
            int gp = k0 + kk;
            as[kk * AS_ROW + mm] = EDGE(MASK == 1, gi < m && gp < k, a, mk, gi * lda + gp, p);
        }
    }
#else
    /* contiguous along m */
    if (interior) {
        for (int e = tid; e < TILE_M * TILE_K / VW; e += THREADS) {
            int mm = (e % (TILE_M / VW)) * VW;
            int kk = e / (TILE_M / VW);
            STAGE_VEC(MASK == 1, as, kk * AS_ROW + mm, 1, (k0 + kk) * lda + row0 + mm, a, mk, p);
        }
    } else {
        for (int e = tid; e < TILE_M * TILE_K; e += THREADS) {
            int mm = e % TILE_M;
            int kk = e / TILE_M;
            int gi = row0 + mm;
            int gp = k0 + kk;
            as[kk * AS_ROW + mm] = EDGE(MASK == 1, gi < m && gp < k, a, mk, gp * lda + gi, p);
        }
    }
#endif
}

/* Stages op(B)[k0 .. k0+TILE_K, col0 .. col0+TILE_N] into bs[k][n]. */
inline void load_b(const __global float* b, const __global float* mk, const float p, int ldb, int n, int k,
                   int col0, int k0, int tid, int interior, __local float* bs) {
#if TRANS_B == 0
    /* contiguous along n */
    if (interior) {
        for (int e = tid; e < TILE_N * TILE_K / VW; e += THREADS) {
            int nn = (e % (TILE_N / VW)) * VW;
            int kk = e / (TILE_N / VW);
            STAGE_VEC(MASK == 2, bs, kk * BS_ROW + nn, 1, (k0 + kk) * ldb + col0 + nn, b, mk, p);
        }
    } else {
        for (int e = tid; e < TILE_N * TILE_K; e += THREADS) {
            int nn = e % TILE_N;
            int kk = e / TILE_N;
            int gj = col0 + nn;
            int gp = k0 + kk;
            bs[kk * BS_ROW + nn] = EDGE(MASK == 2, gj < n && gp < k, b, mk, gp * ldb + gj, p);
        }
    }
#else
    /* contiguous along k */
    if (interior) {
        for (int e = tid; e < TILE_N * TILE_K / VW; e += THREADS) {
            int kk = (e % (TILE_K / VW)) * VW;
            int nn = e / (TILE_K / VW);
            STAGE_VEC(MASK == 2, bs, kk * BS_ROW + nn, BS_ROW, (col0 + nn) * ldb + k0 + kk, b, mk, p);
        }
    } else {
        for (int e = tid; e < TILE_N * TILE_K; e += THREADS) {
            int kk = e % TILE_K;
            int nn = e / TILE_K;
            int gj = col0 + nn;
            int gp = k0 + kk;
            bs[kk * BS_ROW + nn] = EDGE(MASK == 2, gj < n && gp < k, b, mk, gj * ldb + gp, p);
        }
    }
#endif
}

/* The epilogue of one element: alpha acc + beta c, then the bias and the activation of the EPI_ variant. */
inline float epilogue(const float alpha, const float acc, const float beta, const __global float* c, const int at,
                      const __global float* bias, const int col, const float p) {
    float v = alpha * acc;
    v = beta == 0.0f ? v : v + beta * c[at];
#if EPI_BIAS
    v = v + bias[col];
#endif
#if EPI_ACT != ACT_IDENTITY
    v = act_apply(EPI_ACT, v, p);
#endif
    return v;
}

__kernel __attribute__((reqd_work_group_size(RTS_N, RTS_M, 1)))
void gemm_tiled(const int m, const int n, const int k, const float alpha,
                const __global float* a, const int lda,
                const __global float* b, const int ldb,
                const float beta, __global float* c,
                const __global float* bias, const __global float* mask, __global float* colsum,
                const float colsum_beta, const float act_param, const int k_split) {
    __local float as[TILE_K * AS_ROW];
    __local float bs[TILE_K * BS_ROW];

    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * RTS_N + tx;
    const int col0 = get_group_id(0) * TILE_N;
    const int row0 = get_group_id(1) * TILE_M;
    const int rows_inside = row0 + TILE_M <= m;
    const int cols_inside = col0 + TILE_N <= n;

    float acc[WPT_M][WPT_N];
    for (int r = 0; r < WPT_M; r++) {
        for (int q = 0; q < WPT_N; q++) {
            acc[r][q] = 0.0f;
        }
    }
#if COLSUM
    /* the first tile row's top work-items sum op(B)'s columns from the staged tiles, in k order */
    const int sums = get_group_id(1) == 0 && ty == 0;
    float cs[WPT_N];
    for (int q = 0; q < WPT_N; q++) {
        cs[q] = 0.0f;
    }
#endif

#if SPLIT
    const int kbeg = get_group_id(2) * k_split;
    const int kend = min(k, kbeg + k_split);
    c += (long) get_group_id(2) * m * n; /* this split's slab of the workspace */
#else
    const int kbeg = 0;
    const int kend = k;
#endif
    for (int k0 = kbeg; k0 < kend; k0 += TILE_K) {
        const int k_inside = k0 + TILE_K <= kend;
        load_a(a, mask, act_param, lda, m, kend, row0, k0, tid, rows_inside && k_inside, as);
        load_b(b, mask, act_param, ldb, n, kend, col0, k0, tid, cols_inside && k_inside, bs);
        barrier(CLK_LOCAL_MEM_FENCE);
#if COLSUM
        if (sums) {
            for (int kk = 0; kk < TILE_K; kk++) {
                for (int q = 0; q < WPT_N; q++) {
                    cs[q] += bs[kk * BS_ROW + tx + q * RTS_N];
                }
            }
        }
#endif

        for (int kk = 0; kk < TILE_K; kk++) {
            float areg[WPT_M];
            float breg[WPT_N];
            for (int r = 0; r < WPT_M; r++) {
                areg[r] = as[kk * AS_ROW + ty + r * RTS_M];
            }
            for (int q = 0; q < WPT_N; q++) {
                breg[q] = bs[kk * BS_ROW + tx + q * RTS_N];
            }
            for (int r = 0; r < WPT_M; r++) {
                for (int q = 0; q < WPT_N; q++) {
                    acc[r][q] = mad(areg[r], breg[q], acc[r][q]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < WPT_M; r++) {
        const int gi = row0 + ty + r * RTS_M;
        if (gi < m) {
            for (int q = 0; q < WPT_N; q++) {
                const int gj = col0 + tx + q * RTS_N;
                if (gj < n) {
#if SPLIT
                    c[gi * n + gj] = acc[r][q];
#else
                    c[gi * n + gj] = epilogue(alpha, acc[r][q], beta, c, gi * n + gj, bias, gj, act_param);
#endif
                }
            }
        }
    }
#if COLSUM
    if (sums) {
        for (int q = 0; q < WPT_N; q++) {
            const int gj = col0 + tx + q * RTS_N;
            if (gj < n) {
                colsum[gj] = colsum_beta == 0.0f ? cs[q] : cs[q] + colsum_beta * colsum[gj];
            }
        }
    }
#endif
}

/*
 * gemm_split_reduce: C = epilogue(alpha sum_s part[s] + beta C) over the slabs of a split-K product, summed in
 * split order; one work-item per element of C (dimension 0, guarded by m * n).
 */
__kernel void gemm_split_reduce(const int m, const int n, const int splits, const float alpha,
                                const __global float* part, const float beta, __global float* c,
                                const __global float* bias, const float act_param) {
    const int i = get_global_id(0);
    if (i >= m * n) {
        return;
    }
    float sum = 0.0f;
    for (int p = 0; p < splits; p++) {
        sum += part[(long) p * m * n + i];
    }
    c[i] = epilogue(alpha, sum, beta, c, i, bias, i % n, act_param);
}

/*
 * gemm_small: one work-item per element of C, no local memory. For products too small to fill a
 * single tile (the host picks it when M * N * K is tiny); same layouts, same alpha/beta rule.
 * NDRange dimension 0 runs over columns of C, dimension 1 over rows.
 */
__kernel void gemm_small(const int m, const int n, const int k, const float alpha,
                         const __global float* a, const int lda,
                         const __global float* b, const int ldb,
                         const float beta, __global float* c,
                         const __global float* bias, const __global float* mask, __global float* colsum,
                         const float colsum_beta, const float act_param, const int k_split) {
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= m || j >= n) {
        return;
    }
    float acc = 0.0f;
    float cs = 0.0f;
    for (int p = 0; p < k; p++) {
#if TRANS_A == 0
        const int ai = i * lda + p;
#else
        const int ai = p * lda + i;
#endif
#if TRANS_B == 0
        const int bi = p * ldb + j;
#else
        const int bi = j * ldb + p;
#endif
        const float av = EDGE(MASK == 1, 1, a, mask, ai, act_param);
        const float bv = EDGE(MASK == 2, 1, b, mask, bi, act_param);
        acc = mad(av, bv, acc);
        cs += bv;
    }
    c[i * n + j] = epilogue(alpha, acc, beta, c, i * n + j, bias, j, act_param);
#if COLSUM
    if (i == 0) {
        colsum[j] = colsum_beta == 0.0f ? cs : cs + colsum_beta * colsum[j];
    }
#endif
}
