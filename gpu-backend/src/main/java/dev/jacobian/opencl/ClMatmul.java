package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import org.jocl.cl_kernel;

/**
 * Host side of {@code matmul.cl}: {@code C = alpha op(A) op(B) + beta C} with the tile parameters of a
 * per-device {@link Params} record passed as {@code -D} options. Products too small to fill one tile use
 * the simple one-element-per-work-item kernel. The transposes are compile-time variants of the same
 * source; nothing is transposed in memory.
 */
final class ClMatmul {
    /** Below this many multiply-adds ({@code m n k}) the simple kernel is used. */
    static final long SMALL_LIMIT = 32L * 32 * 32;

    /**
     * GEMM tuning parameters (see the header of {@code matmul.cl}).
     *
     * @param tileM rows of C per work-group
     * @param tileN columns of C per work-group
     * @param tileK depth of one local-memory step
     * @param wptM  rows per work-item (register block)
     * @param wptN  columns per work-item (register block)
     * @param vw    vector width of interior loads
     * @param pad   local-memory padding per row
     */
    record Params(int tileM, int tileN, int tileK, int wptM, int wptN, int vw, int pad) {
        Params {
            if (tileM % wptM != 0 || tileN % wptN != 0 || tileK % vw != 0 || tileM % vw != 0 || tileN % vw != 0) {
                throw new IllegalArgumentException("inconsistent GEMM parameters " + this);
            }
        }

        int localX() {
            return tileN / wptN;
        }

        int localY() {
            return tileM / wptM;
        }

        long localBytes() {
            return (long) tileK * (tileM + pad + tileN + pad) * Float.BYTES;
        }

        /** The build options for one transpose variant. */
        String options(boolean transA, boolean transB) {
            return "-cl-std=CL1.2 -DTILE_M=" + tileM + " -DTILE_N=" + tileN + " -DTILE_K=" + tileK + " -DWPT_M=" + wptM
                    + " -DWPT_N=" + wptN + " -DVW=" + vw + " -DPAD=" + pad + " -DTRANS_A=" + (transA ? 1 : 0)
                    + " -DTRANS_B=" + (transB ? 1 : 0);
        }

        /** Candidates for every device, best first. */
        static final List<Params> CANDIDATES = List.of(
                new Params(64, 64, 16, 4, 4, 4, 1),  // 16 x 16 work-items, 8.3 KB local
                new Params(32, 32, 16, 4, 4, 4, 1),  // 8 x 8
                new Params(16, 16, 8, 4, 4, 4, 1),   // 4 x 4
                new Params(8, 8, 4, 2, 2, 1, 0));    // 4 x 4, scalar loads
        /**
         * Large products on a GPU: 128 x 128 tiles, an 8 x 8 register block per work-item (256 work-items,
         * 16.5 KB local), the shape that reaches a large share of peak on NVIDIA and AMD GPUs in CLBlast's and
         * Nugteren's tuning. Only used when the product has enough tiles to fill every compute unit.
         */
        static final Params GPU_LARGE = new Params(128, 128, 16, 8, 8, 4, 1);

        boolean fits(ClInfo.Device d) {
            return (long) localX() * localY() <= d.maxWorkGroupSize() && localBytes() <= d.localMemBytes();
        }

        /** Parameters that fit the device's work-group size and local memory. */
        static Params forDevice(ClInfo.Device d) {
            for (Params p : CANDIDATES) {
                if (p.fits(d)) {
                    return p;
                }
            }
            return CANDIDATES.get(CANDIDATES.size() - 1);
        }

        /** Parameters for products large enough to fill the device with big tiles. */
        static Params forLargeProducts(ClInfo.Device d) {
            boolean gpu = d.type() == ClInfo.DeviceType.GPU || d.type() == ClInfo.DeviceType.ACCELERATOR;
            return gpu && GPU_LARGE.fits(d) ? GPU_LARGE : forDevice(d);
        }
    }

    private final ClContext cl;
    private final ClProgramCache cache;
    private final Params params;
    private final Params large;
    private final long largeMinTiles;

    /**
     * @param params the regular tiles
     * @param large  the tiles for products with at least two big tiles per compute unit
     */
    ClMatmul(ClContext cl, ClProgramCache cache, Params params, Params large) {
        this.cl = cl;
        this.cache = cache;
        this.params = params;
        this.large = large;
        this.largeMinTiles = 2L * Math.max(1, cl.device().computeUnits());
    }

    Params params() {
        return params;
    }

    /** Enqueues {@code C = alpha op(A) op(B) + beta C} with {@code op(A): [m, k]}, {@code op(B): [k, n]}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        long bigTiles = ((long) (m + large.tileM() - 1) / large.tileM()) * ((n + large.tileN() - 1) / large.tileN());
        Params params = bigTiles >= largeMinTiles ? large : this.params;
        String options = params.options(transA, transB);
        boolean small = (long) m * n * k <= SMALL_LIMIT;
        cl_kernel kernel = cache.kernel(KernelSources.MATMUL, options, small ? "gemm_small" : "gemm_tiled");
        ClContext.setArgs(kernel, m, n, k, alpha, buf(a), a.cols(), buf(b), b.cols(), beta, buf(c));
        if (small) {
            long lx = Math.min(8, n);
            long ly = Math.min(8, m);
            cl.launch(kernel, new long[] {roundUp(n, lx), roundUp(m, ly)}, new long[] {lx, ly});
        } else {
            long groupsX = (n + params.tileN() - 1) / params.tileN();
            long groupsY = (m + params.tileM() - 1) / params.tileM();
            cl.launch(kernel, new long[] {groupsX * params.localX(), groupsY * params.localY()},
                    new long[] {params.localX(), params.localY()});
        }
    }

    private static long roundUp(long v, long step) {
        return (v + step - 1) / step * step;
    }
}
