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
 * so neighbouring work-items read neighbouring local words), or with LOCAL_VEC rows ty * WPT_M + r and columns
 * tx * WPT_N + c (contiguous, so each reads its micro-tile's row of the local tiles as float4 words). Global loads
 * are coalesced along whichever dimension is contiguous in memory: each work-item fetches VW-wide vectors of the
 * tile into registers (vloadVW inside the matrices; element by element, zero-padded, on edge tiles) and stores them
 * into local memory. With PREFETCH the fetch of the next K tile is issued before the current one is multiplied
 * (register double-buffering), so its global latency overlaps the arithmetic. Stores are guarded, so any
 * M, N, K >= 1 works.
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
 *   PAD                      local-memory row padding (bank conflicts); a multiple of 4 with LOCAL_VEC
 *   LOCAL_VEC                0 or 1: contiguous micro-tiles read from local memory as float4 (WPT_M and WPT_N
 *                            multiples of 4)
 *   PREFETCH                 0 or 1: the next K tile fetched into registers while the current one is multiplied
 * Every configuration needs TILE_M * TILE_K and TILE_N * TILE_K to be multiples of VW * THREADS (each work-item
 * fetches the same number of vectors).
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

#ifndef LOCAL_VEC
#define LOCAL_VEC 0
#endif
#ifndef PREFETCH
#define PREFETCH 0
#endif

#define RTS_M (TILE_M / WPT_M)
#define RTS_N (TILE_N / WPT_N)
#define THREADS (RTS_M * RTS_N)
/* Row lengths of the local tiles as[k][m] and bs[k][n], stored flat (as[kk * AS_ROW + mm]) so that every access
 * indexes the array it belongs to (indexing row 0's pointer past its end is undefined behaviour). */
#define AS_ROW (TILE_M + PAD)
#define BS_ROW (TILE_N + PAD)

/* vectors of VW floats each work-item fetches per K tile, of op(A) and of op(B) */
#define A_VECS (TILE_M * TILE_K / VW / THREADS)
#define B_VECS (TILE_N * TILE_K / VW / THREADS)
#if A_VECS * VW * THREADS != TILE_M * TILE_K || B_VECS * VW * THREADS != TILE_N * TILE_K
#error "TILE_M * TILE_K and TILE_N * TILE_K must be multiples of VW * THREADS"
#endif
#if LOCAL_VEC && (WPT_M % 4 != 0 || WPT_N % 4 != 0 || PAD % 4 != 0)
#error "LOCAL_VEC needs WPT_M, WPT_N and PAD multiples of 4"
#endif

/* The rows and columns of C that micro-tile entry (r, q) of work-item (tx, ty) holds, within the tile. */
#if LOCAL_VEC
#define ROW_OF(r) (ty * WPT_M + (r))
#define COL_OF(q) (tx * WPT_N + (q))
#else
#define ROW_OF(r) (ty + (r) * RTS_M)
#define COL_OF(q) (tx + (q) * RTS_N)
#endif

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

/* The derivative mask of MASK_ACT at output y. */
inline float dmask(const float y, const float p) {
    return act_derivative(MASK_ACT, y, y, p);
}

/* Writes the VW components of v to dst[0 .. VW) (private memory). */
inline void to_private(float* dst, VTYPE v) {
#if VW == 1
    dst[0] = v;
#elif VW == 2
    vstore2(v, 0, dst);
#elif VW == 4
    vstore4(v, 0, dst);
#else
    vstore8(v, 0, dst);
#endif
}

/*
 * Where vector e (0 <= e < TILE * TILE_K / VW) of an operand's tile lies: op(A)'s tile row mm / op(B)'s tile column
 * nn and depth kk of its first component; the components follow along k when the operand is contiguous along k
 * (A not transposed, B transposed), else along m / n.
 */
#if TRANS_A == 0
#define A_MM(e) ((e) / (TILE_K / VW))
#define A_KK(e) (((e) % (TILE_K / VW)) * VW)
#define A_AT(gi, gp) ((gi) * lda + (gp))
#define A_ALONG_K 1
#else
#define A_MM(e) (((e) % (TILE_M / VW)) * VW)
#define A_KK(e) ((e) / (TILE_M / VW))
#define A_AT(gi, gp) ((gp) * lda + (gi))
#define A_ALONG_K 0
#endif
#if TRANS_B == 0
#define B_NN(e) (((e) % (TILE_N / VW)) * VW)
#define B_KK(e) ((e) / (TILE_N / VW))
#define B_AT(gj, gp) ((gp) * ldb + (gj))
#define B_ALONG_K 0
#else
#define B_NN(e) ((e) / (TILE_K / VW))
#define B_KK(e) (((e) % (TILE_K / VW)) * VW)
#define B_AT(gj, gp) ((gj) * ldb + (gp))
#define B_ALONG_K 1
#endif

/* An edge element: src[idx] (times act'(mk[idx]) when masked), or 0 outside the matrix. */
#define EDGE(masked, inside, src, mk, idx, p) \
    ((inside) ? ((masked) ? (src)[idx] * dmask((mk)[idx], p) : (src)[idx]) : 0.0f)

/* Fetches this work-item's A_VECS vectors of op(A)[row0 .. row0+TILE_M, k0 .. k0+TILE_K] into ra. */
inline void fetch_a(const __global float* restrict a, const __global float* restrict mk, const float p, const int lda,
                    const int m, const int k, const int row0, const int k0, const int tid, const int interior,
                    float* ra) {
    for (int v = 0; v < A_VECS; v++) {
        const int e = tid + v * THREADS;
        const int gi = row0 + A_MM(e);
        const int gp = k0 + A_KK(e);
        if (interior) {
            to_private(ra + v * VW, VLOAD(A_AT(gi, gp), a));
#if MASK == 1
            float y[VW];
            to_private(y, VLOAD(A_AT(gi, gp), mk));
            for (int q = 0; q < VW; q++) {
                ra[v * VW + q] = ra[v * VW + q] * dmask(y[q], p);
            }
#endif
        } else {
            for (int q = 0; q < VW; q++) {
                const int i = gi + (A_ALONG_K ? 0 : q);
                const int pp = gp + (A_ALONG_K ? q : 0);
                ra[v * VW + q] = EDGE(MASK == 1, i < m && pp < k, a, mk, A_AT(i, pp), p);
            }
        }
    }
}

/* Fetches this work-item's B_VECS vectors of op(B)[k0 .. k0+TILE_K, col0 .. col0+TILE_N] into rb. */
inline void fetch_b(const __global float* restrict b, const __global float* restrict mk, const float p, const int ldb,
                    const int n, const int k, const int col0, const int k0, const int tid, const int interior,
                    float* rb) {
    for (int v = 0; v < B_VECS; v++) {
        const int e = tid + v * THREADS;
        const int gj = col0 + B_NN(e);
        const int gp = k0 + B_KK(e);
        if (interior) {
            to_private(rb + v * VW, VLOAD(B_AT(gj, gp), b));
#if MASK == 2
            float y[VW];
            to_private(y, VLOAD(B_AT(gj, gp), mk));
            for (int q = 0; q < VW; q++) {
                rb[v * VW + q] = rb[v * VW + q] * dmask(y[q], p);
            }
#endif
        } else {
            for (int q = 0; q < VW; q++) {
                const int j = gj + (B_ALONG_K ? 0 : q);
                const int pp = gp + (B_ALONG_K ? q : 0);
                rb[v * VW + q] = EDGE(MASK == 2, j < n && pp < k, b, mk, B_AT(j, pp), p);
            }
        }
    }
}

/* Stores fetched vectors into the local tiles as[k][m] and bs[k][n]. */
inline void stage(const float* ra, const float* rb, const int tid, __local float* as, __local float* bs) {
    for (int v = 0; v < A_VECS; v++) {
        const int e = tid + v * THREADS;
        const int mm = A_MM(e);
        const int kk = A_KK(e);
        for (int q = 0; q < VW; q++) {
            as[(kk + (A_ALONG_K ? q : 0)) * AS_ROW + mm + (A_ALONG_K ? 0 : q)] = ra[v * VW + q];
        }
    }
    for (int v = 0; v < B_VECS; v++) {
        const int e = tid + v * THREADS;
        const int nn = B_NN(e);
        const int kk = B_KK(e);
        for (int q = 0; q < VW; q++) {
            bs[(kk + (B_ALONG_K ? q : 0)) * BS_ROW + nn + (B_ALONG_K ? 0 : q)] = rb[v * VW + q];
        }
    }
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
                const __global float* restrict a, const int lda,
                const __global float* restrict b, const int ldb,
                const float beta, __global float* c,
                const __global float* restrict bias, const __global float* restrict mask, __global float* colsum,
                const float colsum_beta, const float act_param, const int k_split) {
    __local float as[TILE_K * AS_ROW] __attribute__((aligned(16)));
    __local float bs[TILE_K * BS_ROW] __attribute__((aligned(16)));

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
    float ra[A_VECS * VW];
    float rb[B_VECS * VW];
#if PREFETCH
    if (kbeg < kend) {
        const int k_inside = kbeg + TILE_K <= kend;
        fetch_a(a, mask, act_param, lda, m, kend, row0, kbeg, tid, rows_inside && k_inside, ra);
        fetch_b(b, mask, act_param, ldb, n, kend, col0, kbeg, tid, cols_inside && k_inside, rb);
    }
#endif
    for (int k0 = kbeg; k0 < kend; k0 += TILE_K) {
#if !PREFETCH
        const int k_inside = k0 + TILE_K <= kend;
        fetch_a(a, mask, act_param, lda, m, kend, row0, k0, tid, rows_inside && k_inside, ra);
        fetch_b(b, mask, act_param, ldb, n, kend, col0, k0, tid, cols_inside && k_inside, rb);
#endif
        stage(ra, rb, tid, as, bs);
        barrier(CLK_LOCAL_MEM_FENCE);
#if PREFETCH
        /* the next tile's global loads are in flight while this one is multiplied; past the end they read nothing (the
         * edge path guards every element), which keeps the loop free of a branch around the fetch */
        {
            const int k1 = k0 + TILE_K;
            const int k_inside = k1 + TILE_K <= kend;
            fetch_a(a, mask, act_param, lda, m, kend, row0, k1, tid, rows_inside && k_inside, ra);
            fetch_b(b, mask, act_param, ldb, n, kend, col0, k1, tid, cols_inside && k_inside, rb);
        }
#endif
#if COLSUM
        if (sums) {
            for (int kk = 0; kk < TILE_K; kk++) {
                for (int q = 0; q < WPT_N; q++) {
                    cs[q] += bs[kk * BS_ROW + COL_OF(q)];
                }
            }
        }
#endif

#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float areg[WPT_M];
            float breg[WPT_N];
#if LOCAL_VEC
            /* float4 words: as and bs are 16-byte aligned, AS_ROW, BS_ROW, WPT_M and WPT_N multiples of 4 */
            for (int r = 0; r < WPT_M; r += 4) {
                vstore4(((__local const float4*) (as + kk * AS_ROW + ROW_OF(r)))[0], 0, areg + r);
            }
            for (int q = 0; q < WPT_N; q += 4) {
                vstore4(((__local const float4*) (bs + kk * BS_ROW + COL_OF(q)))[0], 0, breg + q);
            }
#else
            for (int r = 0; r < WPT_M; r++) {
                areg[r] = as[kk * AS_ROW + ROW_OF(r)];
            }
            for (int q = 0; q < WPT_N; q++) {
                breg[q] = bs[kk * BS_ROW + COL_OF(q)];
            }
#endif
            for (int r = 0; r < WPT_M; r++) {
                for (int q = 0; q < WPT_N; q++) {
                    acc[r][q] = mad(areg[r], breg[q], acc[r][q]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < WPT_M; r++) {
        const int gi = row0 + ROW_OF(r);
        if (gi < m) {
            for (int q = 0; q < WPT_N; q++) {
                const int gj = col0 + COL_OF(q);
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
            const int gj = col0 + COL_OF(q);
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
