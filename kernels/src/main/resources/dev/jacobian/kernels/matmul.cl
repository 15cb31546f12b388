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
 * Tuning constants (the host passes -D options from its per-device parameter record):
 *   TILE_M, TILE_N, TILE_K   tile sizes; TILE_M % WPT_M == 0, TILE_N % WPT_N == 0
 *   WPT_M, WPT_N             micro-tile per work-item; local size is (TILE_N/WPT_N, TILE_M/WPT_M)
 *   VW                       vector width of interior global loads: 1, 2, 4 or 8; must divide TILE_K,
 *                            TILE_M and TILE_N
 *   PAD                      local-memory row padding (bank conflicts)
 *   TRANS_A, TRANS_B         0 or 1: the operand layouts above
 */
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

/* Stages op(A)[row0 .. row0+TILE_M, k0 .. k0+TILE_K] into as[k][m]. */
inline void load_a(const __global float* a, int lda, int m, int k, int row0, int k0, int tid, int interior,
                   __local float* as) {
#if TRANS_A == 0
    /* contiguous along k */
    if (interior) {
        for (int e = tid; e < TILE_M * TILE_K / VW; e += THREADS) {
            int kk = (e % (TILE_K / VW)) * VW;
            int mm = e / (TILE_K / VW);
            VTYPE v = VLOAD((row0 + mm) * lda + k0 + kk, a);
            store_vec(as, kk * AS_ROW + mm, AS_ROW, v);
        }
    } else {
        for (int e = tid; e < TILE_M * TILE_K; e += THREADS) {
            int kk = e % TILE_K;
            int mm = e / TILE_K;
            int gi = row0 + mm;
            int gp = k0 + kk;
            as[kk * AS_ROW + mm] = (gi < m && gp < k) ? a[gi * lda + gp] : 0.0f;
        }
    }
#else
    /* contiguous along m */
    if (interior) {
        for (int e = tid; e < TILE_M * TILE_K / VW; e += THREADS) {
            int mm = (e % (TILE_M / VW)) * VW;
            int kk = e / (TILE_M / VW);
            VTYPE v = VLOAD((k0 + kk) * lda + row0 + mm, a);
            store_vec(as, kk * AS_ROW + mm, 1, v);
        }
    } else {
        for (int e = tid; e < TILE_M * TILE_K; e += THREADS) {
            int mm = e % TILE_M;
            int kk = e / TILE_M;
            int gi = row0 + mm;
            int gp = k0 + kk;
            as[kk * AS_ROW + mm] = (gi < m && gp < k) ? a[gp * lda + gi] : 0.0f;
        }
    }
#endif
}

/* Stages op(B)[k0 .. k0+TILE_K, col0 .. col0+TILE_N] into bs[k][n]. */
inline void load_b(const __global float* b, int ldb, int n, int k, int col0, int k0, int tid, int interior,
                   __local float* bs) {
#if TRANS_B == 0
    /* contiguous along n */
    if (interior) {
        for (int e = tid; e < TILE_N * TILE_K / VW; e += THREADS) {
            int nn = (e % (TILE_N / VW)) * VW;
            int kk = e / (TILE_N / VW);
            VTYPE v = VLOAD((k0 + kk) * ldb + col0 + nn, b);
            store_vec(bs, kk * BS_ROW + nn, 1, v);
        }
    } else {
        for (int e = tid; e < TILE_N * TILE_K; e += THREADS) {
            int nn = e % TILE_N;
            int kk = e / TILE_N;
            int gj = col0 + nn;
            int gp = k0 + kk;
            bs[kk * BS_ROW + nn] = (gj < n && gp < k) ? b[gp * ldb + gj] : 0.0f;
        }
    }
#else
    /* contiguous along k */
    if (interior) {
        for (int e = tid; e < TILE_N * TILE_K / VW; e += THREADS) {
            int kk = (e % (TILE_K / VW)) * VW;
            int nn = e / (TILE_K / VW);
            VTYPE v = VLOAD((col0 + nn) * ldb + k0 + kk, b);
            store_vec(bs, kk * BS_ROW + nn, BS_ROW, v);
        }
    } else {
        for (int e = tid; e < TILE_N * TILE_K; e += THREADS) {
            int kk = e % TILE_K;
            int nn = e / TILE_K;
            int gj = col0 + nn;
            int gp = k0 + kk;
            bs[kk * BS_ROW + nn] = (gj < n && gp < k) ? b[gj * ldb + gp] : 0.0f;
        }
    }
#endif
}

__kernel __attribute__((reqd_work_group_size(RTS_N, RTS_M, 1)))
void gemm_tiled(const int m, const int n, const int k, const float alpha,
                const __global float* a, const int lda,
                const __global float* b, const int ldb,
                const float beta, __global float* c) {
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

    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        const int k_inside = k0 + TILE_K <= k;
        load_a(a, lda, m, k, row0, k0, tid, rows_inside && k_inside, as);
        load_b(b, ldb, n, k, col0, k0, tid, cols_inside && k_inside, bs);
        barrier(CLK_LOCAL_MEM_FENCE);

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
                    const float v = alpha * acc[r][q];
                    c[gi * n + gj] = beta == 0.0f ? v : v + beta * c[gi * n + gj];
                }
            }
        }
    }
}

/*
 * gemm_small: one work-item per element of C, no local memory. For products too small to fill a
 * single tile (the host picks it when M * N * K is tiny); same layouts, same alpha/beta rule.
 * NDRange dimension 0 runs over columns of C, dimension 1 over rows.
 */
__kernel void gemm_small(const int m, const int n, const int k, const float alpha,
                         const __global float* a, const int lda,
                         const __global float* b, const int ldb,
                         const float beta, __global float* c) {
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= m || j >= n) {
        return;
    }
    float acc = 0.0f;
    for (int p = 0; p < k; p++) {
#if TRANS_A == 0
        const float av = a[i * lda + p];
#else
        const float av = a[p * lda + i];
#endif
#if TRANS_B == 0
        const float bv = b[p * ldb + j];
#else
        const float bv = b[j * ldb + p];
#endif
        acc = mad(av, bv, acc);
    }
    const float v = alpha * acc;
    c[i * n + j] = beta == 0.0f ? v : v + beta * c[i * n + j];
}
