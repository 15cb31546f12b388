package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.Activation;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
     * @param tileM    rows of C per work-group
     * @param tileN    columns of C per work-group
     * @param tileK    depth of one local-memory step
     * @param wptM     rows per work-item (register block)
     * @param wptN     columns per work-item (register block)
     * @param vw       vector width of interior loads
     * @param pad      local-memory padding per row
     * @param localVec whether each work-item's micro-tile is contiguous and read from local memory as float4
     * @param prefetch whether the next K tile is fetched into registers while the current one is multiplied
     */
    record Params(int tileM, int tileN, int tileK, int wptM, int wptN, int vw, int pad, boolean localVec,
                  boolean prefetch) {
        Params {
            long threads = (long) (tileM / Math.max(1, wptM)) * (tileN / Math.max(1, wptN));
            if (wptM < 1 || wptN < 1 || vw < 1 || tileM % wptM != 0 || tileN % wptN != 0 || tileK % vw != 0
                    || tileM % vw != 0 || tileN % vw != 0 || (long) tileM * tileK % (vw * threads) != 0
                    || (long) tileN * tileK % (vw * threads) != 0
                    || localVec && (wptM % 4 != 0 || wptN % 4 != 0 || pad % 4 != 0)) {
                throw new IllegalArgumentException("inconsistent GEMM parameters " + this);
            }
        }

        /** Strided micro-tiles read element by element, no prefetch: the configurations before tuning existed. */
        Params(int tileM, int tileN, int tileK, int wptM, int wptN, int vw, int pad) {
            this(tileM, tileN, tileK, wptM, wptN, vw, pad, false, false);
        }

        /** The same tiles with the two inner-loop options set as given. */
        Params with(boolean localVec, boolean prefetch) {
            return new Params(tileM, tileN, tileK, wptM, wptN, vw, localVec ? (pad + 3) / 4 * 4 : pad, localVec,
                    prefetch);
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
                    + " -DTRANS_B=" + (transB ? 1 : 0) + (localVec ? " -DLOCAL_VEC=1" : "")
                    + (prefetch ? " -DPREFETCH=1" : "");
        }

        /**
         * Compact text of the parameters, {@code 64x64x16/4x4/vw4/pad1[+lv][+pf]}: how the tuner's cache file and
         * its log lines write them ({@link #parse} reads it back).
         */
        String text() {
            return tileM + "x" + tileN + "x" + tileK + "/" + wptM + "x" + wptN + "/vw" + vw + "/pad" + pad
                    + (localVec ? "+lv" : "") + (prefetch ? "+pf" : "");
        }

        /** What {@link #text} writes. */
        private static final java.util.regex.Pattern TEXT = java.util.regex.Pattern.compile(
                "(\\d{1,4})x(\\d{1,4})x(\\d{1,4})/(\\d{1,3})x(\\d{1,3})/vw(\\d)/pad(\\d{1,2})(\\+lv)?(\\+pf)?");

        /**
         * The parameters {@link #text} wrote.
         *
         * @throws IllegalArgumentException when {@code s} is not such a text or names inconsistent parameters
         */
        static Params parse(String s) {
            java.util.regex.Matcher mt = TEXT.matcher(s.trim());
            if (!mt.matches()) {
                throw new IllegalArgumentException("not GEMM parameters: '" + s + "'");
            }
            int[] v = new int[7];
            for (int i = 0; i < 7; i++) {
                v[i] = Integer.parseInt(mt.group(i + 1));
            }
            return new Params(v[0], v[1], v[2], v[3], v[4], v[5], v[6], mt.group(8) != null, mt.group(9) != null);
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

        /**
         * What {@link ClGemmTuner} times in place of {@code p}: {@code p} itself, with the register prefetch, with
         * float4 local reads (when the micro-tile allows them) and with both, and {@code p} at twice the tile depth
         * (when the counts divide). All have {@code p}'s tile sizes, so that the shape-aware {@link #plan} is the same
         * whichever wins.
         */
        static List<Params> variants(Params p) {
            List<Params> out = new ArrayList<>();
            out.add(p);
            out.add(p.with(false, true));
            if (p.wptM() % 4 == 0 && p.wptN() % 4 == 0) {
                out.add(p.with(true, false));
                out.add(p.with(true, true));
            }
            try {
                out.add(new Params(p.tileM(), p.tileN(), 2 * p.tileK(), p.wptM(), p.wptN(), p.vw(), p.pad()));
            } catch (IllegalArgumentException e) {
                // no deeper variant of these tiles
            }
            return out;
        }

        /** The built-in configurations: {@link #CANDIDATES} and {@link #GPU_LARGE}. */
        static List<Params> builtIn() {
            List<Params> out = new ArrayList<>(CANDIDATES);
            out.add(GPU_LARGE);
            return List.copyOf(out);
        }

        /** Every configuration the backend may run: the {@link #builtIn} ones and their {@link #variants}. */
        static List<Params> all() {
            List<Params> out = new ArrayList<>();
            for (Params p : builtIn()) {
                for (Params v : variants(p)) {
                    if (!out.contains(v)) {
                        out.add(v);
                    }
                }
            }
            return out;
        }

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
            return d.gpuLike() && GPU_LARGE.fits(d) ? GPU_LARGE : forDevice(d);
        }
    }

    private final ClContext cl;
    private final ClProgramCache cache;
    private final ClBufferPool pool;
    private final Params params;
    private final Params large;
    private final long largeMinTiles;
    /** Tile configurations from large to small, for {@link #plan}; empty when the tiles were fixed by the caller. */
    private final List<Params> ladder;
    private final int computeUnits;
    private ClBuffer workspace;
    /** The plan and build options of each product shape and fusion seen: a step's GEMMs repeat every step. */
    private final Map<Shape, Launch> launches = new HashMap<>();

    /** What fixes a product's plan and program: transposes, sizes, and which fusions it has (not their tensors). */
    private record Shape(boolean transA, boolean transB, int m, int n, int k, boolean bias, Activation act,
                         int maskOperand, Activation maskAct, boolean colsum) {
    }

    /** A product's plan, its build options and whether the one-element-per-work-item kernel runs it. */
    private record Launch(Plan plan, String options, boolean small) {
    }

    /** The smallest depth one split of a split-K product gets (in floats of K). */
    static final int MIN_SPLIT_DEPTH = 64;
    /** The most splits of one product. */
    static final int MAX_SPLITS = 16;

    /**
     * Fixed tiles, as a test asks for them: {@code params}, or {@code large} for products with at least two big tiles
     * per compute unit; never split.
     */
    ClMatmul(ClContext cl, ClProgramCache cache, ClBufferPool pool, Params params, Params large) {
        this(cl, cache, pool, params, large, List.of(), cl.device().computeUnits());
    }

    /**
     * Shape-aware tiles for a device with {@code computeUnits} compute units ({@link #plan}): the largest of
     * {@code ladder} (large to small) that still gives every compute unit a work-group, else the smallest, with K
     * split when even those are too few.
     */
    ClMatmul(ClContext cl, ClProgramCache cache, ClBufferPool pool, List<Params> ladder, int computeUnits) {
        this(cl, cache, pool, ladder.get(ladder.size() - 1), ladder.get(0), List.copyOf(ladder), computeUnits);
    }

    private ClMatmul(ClContext cl, ClProgramCache cache, ClBufferPool pool, Params params, Params large,
                     List<Params> ladder, int computeUnits) {
        this.cl = cl;
        this.cache = cache;
        this.pool = pool;
        this.params = params;
        this.large = large;
        this.ladder = ladder;
        this.computeUnits = Math.max(1, computeUnits);
        this.largeMinTiles = 2L * this.computeUnits;
    }

    /** The tile configurations that fit {@code d}, large to small (the GPU tiles first on a GPU); the scalar 8 x 8 tiles only when nothing else fits. */
    static List<Params> ladderFor(ClInfo.Device d) {
        List<Params> out = new ArrayList<>();
        Params big = Params.forLargeProducts(d);
        if (big == Params.GPU_LARGE) {
            out.add(big);
        }
        for (Params p : Params.CANDIDATES) {
            if (p.fits(d) && p.vw() > 1) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            out.add(Params.forDevice(d));
        }
        return out;
    }

    /**
     * How one product runs.
     *
     * @param params the tiles
     * @param splits how many slices K is cut into (1: not split)
     * @param depth  the depth of K each split covers (a multiple of the tile depth)
     */
    record Plan(Params params, int splits, int depth) {
    }

    /**
     * The tiles for {@code m x n x k}: with fixed tiles, as before; else the largest configuration whose work-groups
     * cover the compute units, or, when none does, the smallest, and then, if it leaves more than half of them idle
     * and K is deep, K split into up to {@link #MAX_SPLITS} slices of at least {@link #MIN_SPLIT_DEPTH} (not when the
     * product also sums columns).
     */
    Plan plan(int m, int n, int k, boolean colsum) {
        if (ladder.isEmpty()) {
            long bigTiles = tiles(large, m, n);
            Params p = bigTiles >= largeMinTiles ? large : params;
            return new Plan(p, 1, k);
        }
        for (Params p : ladder) {
            if (tiles(p, m, n) >= computeUnits) {
                return new Plan(p, 1, k);
            }
        }
        Params p = ladder.get(ladder.size() - 1);
        long groups = tiles(p, m, n);
        if (colsum || 2 * groups > computeUnits) {
            return new Plan(p, 1, k);
        }
        int splits = (int) Math.min(Math.min(MAX_SPLITS, (computeUnits + groups - 1) / groups), k / MIN_SPLIT_DEPTH);
        if (splits < 2) {
            return new Plan(p, 1, k);
        }
        int depth = (k + splits - 1) / splits;
        depth = (depth + p.tileK() - 1) / p.tileK() * p.tileK();
        return new Plan(p, (k + depth - 1) / depth, depth);
    }

    private static long tiles(Params p, int m, int n) {
        return ((long) (m + p.tileM() - 1) / p.tileM()) * ((n + p.tileN() - 1) / p.tileN());
    }

    /** Gives the split-K workspace back to the pool. */
    void close() {
        if (workspace != null) {
            pool.release(workspace);
            workspace = null;
        }
    }

    /**
     * What a product fuses around itself (see the header of {@code matmul.cl}): a bias row and an activation in the
     * epilogue, an activation-derivative mask on one operand as it is loaded, the column sums of op(B).
     *
     * @param bias           {@code [1, n]} added to every row of C, or null
     * @param act            the activation applied after the bias ({@link Activation#IDENTITY}: none)
     * @param actParam       the parameter of {@code act} or of {@code maskAct}
     * @param maskOperand    0: no mask; 1: op(A) is multiplied by {@code maskAct'(mask)}; 2: op(B) is
     * @param maskAct        the activation whose derivative (from its output) masks the operand
     * @param mask           the activation outputs, laid out as the masked operand
     * @param colsum         {@code [1, n]} receiving the column sums of (masked) op(B), or null
     * @param colsumAccumulate whether the column sums are added to {@code colsum}
     */
    record Fusion(Tensor bias, Activation act, float actParam, int maskOperand, Activation maskAct, Tensor mask,
                  Tensor colsum, boolean colsumAccumulate) {
        /** Nothing fused: a plain GEMM. */
        static final Fusion NONE = new Fusion(null, Activation.IDENTITY, 0f, 0, Activation.IDENTITY, null, null, false);

        /** {@code C = act(op(A) op(B) + bias)}. */
        static Fusion biasActivation(Tensor bias, Activation act, float param) {
            return new Fusion(bias, act, param, 0, Activation.IDENTITY, null, null, false);
        }

        /** op(A) or op(B) ({@code operand} 1 or 2) masked by {@code act'(y)}, and optionally op(B)'s column sums. */
        static Fusion masked(int operand, Activation act, float param, Tensor y, Tensor colsum, boolean accumulate) {
            return new Fusion(null, Activation.IDENTITY, param, act == Activation.IDENTITY ? 0 : operand, act, y, colsum,
                    accumulate);
        }

        String options() {
            StringBuilder o = new StringBuilder();
            if (bias != null) {
                o.append(" -DEPI_BIAS=1");
            }
            if (act != Activation.IDENTITY) {
                o.append(" -DEPI_ACT=").append(act.ordinal());
            }
            if (maskOperand != 0) {
                o.append(" -DMASK=").append(maskOperand).append(" -DMASK_ACT=").append(maskAct.ordinal());
            }
            if (colsum != null) {
                o.append(" -DCOLSUM=1");
            }
            return o.toString();
        }
    }

    /** Enqueues {@code C = alpha op(A) op(B) + beta C} with {@code op(A): [m, k]}, {@code op(B): [k, n]}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        gemm(transA, transB, m, n, k, alpha, a, b, beta, c, Fusion.NONE);
    }

    /** {@link #gemm} with what {@code fusion} adds, in the same launch (two when K is split). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c,
              Fusion fusion) {
        Launch launch = launches.computeIfAbsent(new Shape(transA, transB, m, n, k, fusion.bias() != null, fusion.act(),
                fusion.maskOperand(), fusion.maskAct(), fusion.colsum() != null), s -> {
                    Plan p = plan(s.m(), s.n(), s.k(), s.colsum());
                    return new Launch(p, p.params().options(s.transA(), s.transB()) + fusion.options()
                            + (p.splits() > 1 ? " -DSPLIT=1" : ""), p.splits() == 1 && (long) s.m() * s.n() * s.k() <= SMALL_LIMIT);
                });
        Plan plan = launch.plan();
        Params params = plan.params();
        boolean small = launch.small();
        String options = launch.options();
        ClBuffer cb = buf(c);
        ClBuffer out = cb;
        if (plan.splits() > 1) {
            long floats = (long) plan.splits() * m * n;
            if (workspace == null || workspace.floats() < floats) {
                if (workspace != null) {
                    pool.release(workspace);
                }
                workspace = pool.acquire(floats);
            }
            out = workspace;
        }
        cl_kernel kernel = cache.bind(KernelSources.MATMUL, options, small ? "gemm_small" : "gemm_tiled", m, n, k, alpha,
                buf(a), a.cols(), buf(b), b.cols(), beta, out, or(fusion.bias(), cb), or(fusion.mask(), cb),
                or(fusion.colsum(), cb), fusion.colsumAccumulate() ? 1f : 0f, fusion.actParam(), plan.depth());
        if (small) {
            long lx = Math.min(8, n);
            long ly = Math.min(8, m);
            cl.launch(kernel, new long[] {roundUp(n, lx), roundUp(m, ly)}, new long[] {lx, ly});
            return;
        }
        long groupsX = (n + params.tileN() - 1) / params.tileN();
        long groupsY = (m + params.tileM() - 1) / params.tileM();
        cl.launch(kernel, new long[] {groupsX * params.localX(), groupsY * params.localY(), plan.splits()},
                new long[] {params.localX(), params.localY(), 1});
        if (plan.splits() > 1) {
            cl_kernel reduce = cache.bind(KernelSources.MATMUL, options, "gemm_split_reduce", m, n, plan.splits(), alpha,
                    workspace, beta, cb, or(fusion.bias(), cb), fusion.actParam());
            int wg = (int) Math.min(64, cl.device().maxWorkGroupSize());
            cl.launch1d(reduce, (long) m * n, wg);
        }
    }

    /** The buffer of {@code t}, or {@code otherwise} for an unused argument. */
    private static ClBuffer or(Tensor t, ClBuffer otherwise) {
        return t == null ? otherwise : buf(t);
    }

    private static long roundUp(long v, long step) {
        return (v + step - 1) / step * step;
    }
}
