package dev.jacobian.cpu;

import dev.jacobian.backend.Conv2dSpec;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin &amp; Gray 2016, "Fast Algorithms
 * for Convolutional Neural Networks"): each 2x2 output tile is {@code A^T [sum_c (G g G^T) . (B^T d B)] A}, where
 * {@code d} is the 4x4 input patch under the tile, so the channel sums are 16 independent products of
 * {@code [tiles, C]} by {@code [C, OC]} with 2.25 times fewer multiply-adds than a direct or im2col convolution.
 *
 * <p>Forward (and the input gradient, which is the forward convolution of {@code dy} with the kernels rotated by 180
 * degrees and their channels swapped, padded by {@code 2 - pad}): the tiles are cut into blocks small enough that a
 * block's transformed input and products stay in the L2 cache; a worker takes a block, writes its input transform
 * straight in the packed layout of {@link CpuMatmul}'s micro-kernel, runs the 16 products against the transformed
 * weights (packed once per call) and writes the output transform into {@code y}. Every output element comes from one
 * block, so results do not depend on the thread count.
 *
 * <p>Weight gradient: {@code dU = sum over tiles of (A dy A^T) x (B^T d B)} per position, then
 * {@code dw = G^T dU G}. The tiles are split into a fixed number of chunks (independent of the thread count), each
 * summed in order into its own partial, and the partials are added in chunk order: bit-identical for any number of
 * threads.
 *
 * <p>Transforms are exact in binary floating point up to the halvings of {@code G}; the products run in float with
 * fused multiply-adds like the GEMM, so results differ from a direct convolution by rounding only (the conformance
 * suite bounds it against the reference backend).
 */
final class CpuWinograd {
    /** Fewest input and output channels for which this beats im2col + GEMM (below, the transforms dominate). */
    static final int MIN_CHANNELS = 8;
    /** Floats of transformed input and products per block: about 256 KiB, half a small L2. */
    private static final int BLOCK_FLOATS = 1 << 16;
    /** The most tiles in a block (a multiple of every kernel's rows: 4, 6, 12). */
    private static final int MAX_BLOCK_TILES = 120;
    /** Chunks of the weight gradient's tile sum (fixed, so the summation order never depends on the threads). */
    private static final int CHUNKS = 8;
    /** The most floats of transformed weights (16 per channel pair) a layer may have here: 1 GiB; wider ones use GEMM. */
    private static final long MAX_TRANSFORMED_WEIGHTS = 1L << 28;
    /** The most floats the weight gradient's chunk partials may take (16 MiB). */
    private static final int PARTIAL_FLOATS = 1 << 22;
    /** Below this many multiply-adds (of the transformed products) one thread does the whole convolution. */
    private static final long PARALLEL_MIN_MULADDS = 1L << 20;

    /** The geometry of one call: input {@code [n, c, h, w]}, output {@code [n, oc, oh, ow]}, tiles of 2x2 outputs. */
    private record Geometry(int n, int c, int h, int w, int oc, int oh, int ow, int padH, int padW, int th, int tw) {
        Geometry(int n, int c, int h, int w, int oc, int padH, int padW) {
            this(n, c, h, w, oc, h + 2 * padH - 2, w + 2 * padW - 2, padH, padW, (h + 2 * padH - 1) / 2,
                    (w + 2 * padW - 1) / 2);
        }

        int tiles() {
            return n * th * tw;
        }

        /** The index in {@code [n, oc, oh, ow]} of tile {@code t}'s top-left output in channel 0. */
        int outputOrigin(int t) {
            int img = t / (tw * th);
            return img * oc * oh * ow + 2 * ((t / tw) % th) * ow + 2 * (t % tw);
        }

        /** Whether tile {@code t}'s right column lies inside the output (not past an odd width). */
        boolean hasRight(int t) {
            return 2 * (t % tw) + 1 < ow;
        }

        /** Whether tile {@code t}'s lower row lies inside the output (not past an odd height). */
        boolean hasDown(int t) {
            return 2 * ((t / tw) % th) + 1 < oh;
        }

        /** Tiles per block: a multiple of {@code mr} whose transformed input and products fit the block budget. */
        int blockTiles(int mr) {
            int t = BLOCK_FLOATS / (16 * (c + oc)) / mr * mr;
            return Math.max(mr, Math.min(MAX_BLOCK_TILES, t));
        }
    }

    /** One worker's buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] v = new float[0];
        float[] m = new float[0];
        float[] zeros = new float[0];
        int[] at = new int[0];
        final float[] tmp;

        Workspace(int tile) {
            tmp = new float[tile];
        }
    }

    private final Parallel parallel;
    private final CpuMatmul.MicroKernel kernel;
    /** Rows of the kernel's tile: output channels (forward) or tiles (weight gradient) per packed A panel. */
    private final int mr;
    private final int nr;
    private final Workspace[] workspaces;
    private float[] u = new float[0];
    private float[] partials = new float[0];

    CpuWinograd(Parallel parallel, boolean vector) {
        this.parallel = parallel;
        this.kernel = vector ? MatmulVector.narrow() : new CpuMatmul.ScalarKernel();
        this.mr = kernel.mr();
        this.nr = kernel.nr();
        this.workspaces = new Workspace[parallel.size()];
        for (int i = 0; i < workspaces.length; i++) {
            workspaces[i] = new Workspace(mr * nr);
        }
    }

    /** Whether {@code spec} with these channel counts is a convolution this class computes (and computes faster). */
    static boolean eligible(Conv2dSpec spec, int inChannels, int outChannels) {
        return spec.kernelH() == 3 && spec.kernelW() == 3 && spec.strideH() == 1 && spec.strideW() == 1
                && spec.dilationH() == 1 && spec.dilationW() == 1 && spec.groups() == 1 && spec.padH() <= 2
                && spec.padW() <= 2 && inChannels >= MIN_CHANNELS && outChannels >= MIN_CHANNELS
                && 16L * inChannels * outChannels <= MAX_TRANSFORMED_WEIGHTS;
    }

    /** {@code y = conv(x, w)}: {@code x [n, c, h, w]}, {@code w [oc, c, 3, 3]}, {@code y [n, oc, oh, ow]}. */
    void forward(Conv2dSpec spec, float[] x, int xOff, int[] xd, float[] w, int wOff, int oc, float[] y, int yOff) {
        Geometry g = new Geometry(xd[0], xd[1], xd[2], xd[3], oc, spec.padH(), spec.padW());
        transformWeights(w, wOff, g.c, g.oc, false);
        convolve(g, x, xOff, y, yOff, false);
    }

    /**
     * {@code dx (+)= conv_transpose(dy, w)}: the forward convolution of {@code dy [n, oc, oh, ow]}, padded by
     * {@code 2 - pad}, with the kernels rotated by 180 degrees and their channels swapped.
     */
    void backwardData(Conv2dSpec spec, float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int[] xd,
                      int oc, boolean accumulate) {
        Geometry f = new Geometry(xd[0], xd[1], xd[2], xd[3], oc, spec.padH(), spec.padW());
        Geometry g = new Geometry(f.n, oc, f.oh, f.ow, f.c, 2 - f.padH, 2 - f.padW);
        transformWeights(w, wOff, oc, f.c, true);
        convolve(g, dy, dyOff, dx, dxOff, accumulate);
    }

    /** {@code dw (+)= } the weight gradient of {@code y = conv(x, w)} for output gradient {@code dy}. */
    void backwardWeights(Conv2dSpec spec, float[] x, int xOff, int[] xd, float[] dy, int dyOff, float[] dw, int dwOff,
                         int oc, boolean accumulate) {
        Geometry g = new Geometry(xd[0], xd[1], xd[2], xd[3], oc, spec.padH(), spec.padW());
        int tb = g.blockTiles(mr);
        int blocks = (g.tiles() + tb - 1) / tb;
        int cin = g.c;
        int uSize = 16 * g.oc * cin;
        // fewer chunks for wide layers, so that the partials stay within PARTIAL_FLOATS (sizes alone decide: the
        // summation order still never depends on the threads)
        int chunks = Math.max(1, Math.min(Math.min(CHUNKS, blocks), PARTIAL_FLOATS / uSize));
        if (partials.length < chunks * uSize) {
            partials = new float[chunks * uSize];
        }
        int ciPanels = (cin + nr - 1) / nr;
        int coGroups = (g.oc + mr - 1) / mr;
        int vStride = ciPanels * tb * nr;
        int mStride = coGroups * tb * mr;
        AtomicInteger next = new AtomicInteger();
        parallel.run(workers(g, chunks), worker -> {
            Workspace ws = workspaces[worker];
            ensure(ws, 16 * vStride, 16 * mStride);
            for (int q = next.getAndIncrement(); q < chunks; q = next.getAndIncrement()) {
                int pOff = q * uSize;
                Arrays.fill(partials, pOff, pOff + uSize, 0f);
                int b1 = (int) ((long) blocks * (q + 1) / chunks);
                for (int b = (int) ((long) blocks * q / chunks); b < b1; b++) {
                    int t0 = b * tb;
                    int count = Math.min(tb, g.tiles() - t0);
                    inputTransform(g, x, xOff, t0, count, ws.v, true, tb, ws);
                    gradientTransform(g, dy, dyOff, t0, count, ws.m, tb);
                    for (int xi = 0; xi < 16; xi++) {
                        for (int grp = 0; grp < coGroups; grp++) {
                            int rows = Math.min(mr, g.oc - grp * mr);
                            for (int p = 0; p < ciPanels; p++) {
                                kernel.run(count, ws.m, xi * mStride + grp * tb * mr, ws.v, xi * vStride + p * tb * nr,
                                        partials, pOff + xi * g.oc * cin + grp * mr * cin + p * nr, cin, 1f, false, rows,
                                        Math.min(nr, cin - p * nr), ws.tmp);
                            }
                        }
                    }
                }
            }
        });
        int pairs = g.oc * cin;
        int tasks = pairs < 4096 ? 1 : parallel.threads();
        parallel.run(tasks, task -> {
            // the chunks' partials added in chunk order into chunk 0 (a contiguous loop the JIT vectorizes), then
            // each (output, input) channel pair's 16 sums transformed into its 3x3 gradient
            int e0 = (int) ((long) pairs * task / tasks);
            int e1 = (int) ((long) pairs * (task + 1) / tasks);
            for (int xi = 0; xi < 16; xi++) {
                int row = xi * pairs;
                for (int q = 1; q < chunks; q++) {
                    int src = q * uSize + row;
                    for (int e = e0; e < e1; e++) {
                        partials[row + e] += partials[src + e];
                    }
                }
            }
            float[] s = new float[16];
            for (int e = e0; e < e1; e++) {
                for (int xi = 0; xi < 16; xi++) {
                    s[xi] = partials[xi * pairs + e];
                }
                weightGradientTransform(s, dw, dwOff + e * 9, accumulate);
            }
        });
    }

    private int workers(Geometry g, int units) {
        long muladds = 16L * g.tiles() * g.c * g.oc;
        return muladds < PARALLEL_MIN_MULADDS ? 1 : Math.min(parallel.threads(), units);
    }

    private static void ensure(Workspace ws, int v, int m) {
        if (ws.v.length < v) {
            ws.v = new float[v];
        }
        if (ws.m.length < m) {
            ws.m = new float[m];
        }
    }

    /**
     * {@code y (+)= } the convolution of geometry {@code g} of {@code x} with the weights transformed into {@link #u}.
     * Blocks of tiles are claimed in turn by the workers.
     */
    private void convolve(Geometry g, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        int tb = g.blockTiles(mr);
        int blocks = (g.tiles() + tb - 1) / tb;
        int panels = (g.oc + nr - 1) / nr;
        int vStride = tb * g.c;
        int mStride = tb * g.oc;
        int uStride = panels * nr * g.c;
        AtomicInteger next = new AtomicInteger();
        parallel.run(workers(g, blocks), worker -> {
            Workspace ws = workspaces[worker];
            ensure(ws, 16 * vStride, 16 * mStride);
            for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                int t0 = b * tb;
                int count = Math.min(tb, g.tiles() - t0);
                inputTransform(g, x, xOff, t0, count, ws.v, false, tb, ws);
                for (int xi = 0; xi < 16; xi++) {
                    Arrays.fill(ws.m, xi * mStride, xi * mStride + count * g.oc, 0f);
                }
                for (int xi = 0; xi < 16; xi++) {
                    for (int p = 0; p < panels; p++) {
                        int cols = Math.min(nr, g.oc - p * nr);
                        for (int grp = 0; grp * mr < count; grp++) {
                            kernel.run(g.c, ws.v, xi * vStride + grp * mr * g.c, u, xi * uStride + p * nr * g.c, ws.m,
                                    xi * mStride + grp * mr * g.oc + p * nr, g.oc, 1f, false, Math.min(mr, count - grp * mr),
                                    cols, ws.tmp);
                        }
                    }
                }
                outputTransform(g, ws.m, mStride, t0, count, y, yOff, accumulate);
            }
        });
    }

    /**
     * Transforms the 3x3 kernels into {@link #u}: {@code U = G g G^T} for each (output, input) channel pair of the
     * convolution computed, packed as the micro-kernel's B panels {@code [16][oc / nr][in][nr]} (zero columns past
     * {@code oc}). {@code w} is {@code [out, in, 3, 3]} ({@code in} and {@code out} of this convolution) or, when
     * {@code rotated}, {@code [in, out, 3, 3]} read rotated by 180 degrees (the input gradient's kernels).
     */
    private void transformWeights(float[] w, int wOff, int in, int out, boolean rotated) {
        int panels = (out + nr - 1) / nr;
        int uStride = panels * nr * in;
        if (u.length < 16 * uStride) {
            u = new float[16 * uStride];
        }
        float[] g = new float[9];
        float[] t = new float[16];
        for (int o = 0; o < panels * nr; o++) {
            int at = (o / nr) * nr * in + o % nr;
            for (int i = 0; i < in; i++) {
                if (o < out) {
                    int base = wOff + (rotated ? i * out + o : o * in + i) * 9;
                    for (int k = 0; k < 9; k++) {
                        g[k] = w[base + (rotated ? 8 - k : k)];
                    }
                    kernelTransform(g, t);
                } else {
                    Arrays.fill(t, 0f); // a column of the last panel past the output channels
                }
                for (int xi = 0; xi < 16; xi++) {
                    u[xi * uStride + at + i * nr] = t[xi];
                }
            }
        }
    }

    /** {@code t = G g G^T} (4x4, row-major) of the 3x3 kernel {@code g}, with {@code G = [1 0 0; h h h; h -h h; 0 0 1]}. */
    static void kernelTransform(float[] g, float[] t) {
        for (int j = 0; j < 3; j++) { // G g: column j
            float a = g[j];
            float b = g[3 + j];
            float c = g[6 + j];
            t[j] = a;
            t[4 + j] = 0.5f * (a + b + c);
            t[8 + j] = 0.5f * (a - b + c);
            t[12 + j] = c;
        }
        for (int r = 0; r < 4; r++) { // (G g) G^T: row r
            float a = t[4 * r];
            float b = t[4 * r + 1];
            float c = t[4 * r + 2];
            t[4 * r] = a;
            t[4 * r + 1] = 0.5f * (a + b + c);
            t[4 * r + 2] = 0.5f * (a - b + c);
            t[4 * r + 3] = c;
        }
    }

    /**
     * Writes {@code B^T d B} of the 4x4 input patch of each tile {@code t0 .. t0+count-1} and each input channel,
     * {@code B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]}, into {@code v}. Layout: for the forward's A panels
     * ({@code tilesAsColumns = false}) {@code v[xi][tile / mr][c][tile % mr]} with position stride {@code tb c};
     * for the weight gradient's B panels {@code v[xi][c / nr][tile][c % nr]} with stride {@code (c / nr) tb nr}.
     *
     * <p>Tiles are taken a row segment at a time, left to right: {@code B^T d} of an input column (four rows combined)
     * is computed once and kept for the next tile, which overlaps this one by two columns, so each tile reads two new
     * columns. A row above or below the image reads {@link Workspace#zeros}; a column outside it is zero.
     */
    private void inputTransform(Geometry g, float[] x, int xOff, int t0, int count, float[] v, boolean tilesAsColumns,
                                int tb, Workspace ws) {
        int stride = tilesAsColumns ? (g.c + nr - 1) / nr * tb * nr : tb * g.c;
        int plane = g.h * g.w;
        int span = 2 * Math.min(count, g.tw) + 2;
        if (ws.zeros.length < span) {
            ws.zeros = new float[span];
            ws.at = new int[span];
        }
        for (int lt = 0; lt < count; ) {
            int t = t0 + lt;
            int tx = t % g.tw;
            int ty = (t / g.tw) % g.th;
            int img = t / (g.tw * g.th);
            int run = Math.min(count - lt, g.tw - tx);
            int width = 2 * run + 2; // input columns c0 .. c0 + width - 1 under the segment
            int r0 = 2 * ty - g.padH;
            int c0 = 2 * tx - g.padW;
            int from = Math.max(0, Math.min(width, -c0)); // the columns inside the image: from .. to - 1
            int to = Math.max(from, Math.min(width, g.w - c0));
            for (int k = 0; k < run; k++) { // where each tile's values go, less the channel's part
                int l = lt + k;
                ws.at[k] = tilesAsColumns ? l * nr : (l / mr) * mr * g.c + l % mr;
            }
            boolean in0 = r0 >= 0 && r0 < g.h;
            boolean in1 = r0 + 1 >= 0 && r0 + 1 < g.h;
            boolean in2 = r0 + 2 >= 0 && r0 + 2 < g.h;
            boolean in3 = r0 + 3 >= 0 && r0 + 3 < g.h;
            float[] s0 = in0 ? x : ws.zeros;
            float[] s1 = in1 ? x : ws.zeros;
            float[] s2 = in2 ? x : ws.zeros;
            float[] s3 = in3 ? x : ws.zeros;
            for (int ci = 0; ci < g.c; ci++) {
                int ciAt = tilesAsColumns ? (ci / nr) * tb * nr + ci % nr : ci * mr;
                int base = xOff + (img * g.c + ci) * plane + c0 + r0 * g.w;
                // x index of (row i, column j) is o_i + j; a zero row reads ws.zeros from 0
                int o0 = in0 ? base : 0;
                int o1 = in1 ? base + g.w : 0;
                int o2 = in2 ? base + 2 * g.w : 0;
                int o3 = in3 ? base + 3 * g.w : 0;
                // B^T d of columns 0 and 1: rows a-c, b+c, c-b, b-e of (a, b, c, e) = the column's four values
                boolean inside = 0 >= from && 0 < to;
                float a = inside ? s0[o0] : 0f;
                float b = inside ? s1[o1] : 0f;
                float c = inside ? s2[o2] : 0f;
                float e = inside ? s3[o3] : 0f;
                float p0 = a - c;
                float p1 = b + c;
                float p2 = c - b;
                float p3 = b - e;
                inside = 1 >= from && 1 < to;
                a = inside ? s0[o0 + 1] : 0f;
                b = inside ? s1[o1 + 1] : 0f;
                c = inside ? s2[o2 + 1] : 0f;
                e = inside ? s3[o3 + 1] : 0f;
                float q0 = a - c;
                float q1 = b + c;
                float q2 = c - b;
                float q3 = b - e;
                for (int k = 0; k < run; k++) {
                    int j = 2 * k + 2;
                    inside = j >= from && j < to;
                    a = inside ? s0[o0 + j] : 0f;
                    b = inside ? s1[o1 + j] : 0f;
                    c = inside ? s2[o2 + j] : 0f;
                    e = inside ? s3[o3 + j] : 0f;
                    float u0 = a - c;
                    float u1 = b + c;
                    float u2 = c - b;
                    float u3 = b - e;
                    inside = j + 1 >= from && j + 1 < to;
                    a = inside ? s0[o0 + j + 1] : 0f;
                    b = inside ? s1[o1 + j + 1] : 0f;
                    c = inside ? s2[o2 + j + 1] : 0f;
                    e = inside ? s3[o3 + j + 1] : 0f;
                    float w0 = a - c;
                    float w1 = b + c;
                    float w2 = c - b;
                    float w3 = b - e;
                    // (B^T d) B: row r of B^T d holds (p_r, q_r, u_r, w_r) over the tile's four columns
                    int o = ws.at[k] + ciAt;
                    tileRow(p0, q0, u0, w0, v, o, stride);
                    tileRow(p1, q1, u1, w1, v, o + 4 * stride, stride);
                    tileRow(p2, q2, u2, w2, v, o + 8 * stride, stride);
                    tileRow(p3, q3, u3, w3, v, o + 12 * stride, stride);
                    p0 = u0;
                    p1 = u1;
                    p2 = u2;
                    p3 = u3;
                    q0 = w0;
                    q1 = w1;
                    q2 = w2;
                    q3 = w3;
                }
            }
            lt += run;
        }
    }

    /** One row {@code (a, b, c, e) B = (a - c, b + c, c - b, b - e)} of {@code B^T d B}, stored {@code stride} apart. */
    private static void tileRow(float a, float b, float c, float e, float[] v, int o, int stride) {
        v[o] = a - c;
        v[o + stride] = b + c;
        v[o + 2 * stride] = c - b;
        v[o + 3 * stride] = b - e;
    }

    /**
     * Writes {@code A dy A^T} of each tile's 2x2 output gradient (zero past the output's edge) and each output
     * channel, {@code A^T = [1 1 1 0; 0 1 -1 -1]}, as the weight gradient's A panels {@code m[xi][oc / mr][tile][oc % mr]}
     * with position stride {@code (oc / mr) tb mr}.
     */
    private void gradientTransform(Geometry g, float[] dy, int dyOff, int t0, int count, float[] m, int tb) {
        int stride = (g.oc + mr - 1) / mr * tb * mr;
        int plane = g.oh * g.ow;
        for (int lt = 0; lt < count; lt++) {
            int origin = dyOff + g.outputOrigin(t0 + lt);
            boolean right = g.hasRight(t0 + lt);
            boolean down = g.hasDown(t0 + lt);
            for (int co = 0; co < g.oc; co++) {
                int at = origin + co * plane;
                float y00 = dy[at];
                float y01 = right ? dy[at + 1] : 0f;
                float y10 = down ? dy[at + g.ow] : 0f;
                float y11 = down && right ? dy[at + g.ow + 1] : 0f;
                int o = (co / mr) * tb * mr + lt * mr + co % mr;
                // rows of A dy: (y00, y01), (y00 + y10, y01 + y11), (y00 - y10, y01 - y11), (-y10, -y11)
                gradientRow(y00, y01, m, o, stride);
                gradientRow(y00 + y10, y01 + y11, m, o + 4 * stride, stride);
                gradientRow(y00 - y10, y01 - y11, m, o + 8 * stride, stride);
                gradientRow(-y10, -y11, m, o + 12 * stride, stride);
            }
        }
    }

    /** One row {@code (a, b) A^T = (a, a + b, a - b, -b)} of {@code A dy A^T}. */
    private static void gradientRow(float a, float b, float[] m, int o, int stride) {
        m[o] = a;
        m[o + stride] = a + b;
        m[o + 2 * stride] = a - b;
        m[o + 3 * stride] = -b;
    }

    /**
     * {@code y (+)= A^T M A} for each tile and output channel, {@code M[xi] = m[xi * mStride + tile * oc + co]};
     * the parts of edge tiles past the output are dropped.
     */
    private static void outputTransform(Geometry g, float[] m, int mStride, int t0, int count, float[] y, int yOff,
                                        boolean accumulate) {
        int plane = g.oh * g.ow;
        for (int lt = 0; lt < count; lt++) {
            int origin = yOff + g.outputOrigin(t0 + lt);
            boolean right = g.hasRight(t0 + lt);
            boolean down = g.hasDown(t0 + lt);
            int mb = lt * g.oc;
            for (int co = 0; co < g.oc; co++) {
                int o = mb + co;
                // A^T M: rows s0 = M0 + M1 + M2, s1 = M1 - M2 - M3 (Mi the rows of M), each of 4 columns
                float s00 = m[o] + m[o + 4 * mStride] + m[o + 8 * mStride];
                float s01 = m[o + mStride] + m[o + 5 * mStride] + m[o + 9 * mStride];
                float s02 = m[o + 2 * mStride] + m[o + 6 * mStride] + m[o + 10 * mStride];
                float s03 = m[o + 3 * mStride] + m[o + 7 * mStride] + m[o + 11 * mStride];
                float s10 = m[o + 4 * mStride] - m[o + 8 * mStride] - m[o + 12 * mStride];
                float s11 = m[o + 5 * mStride] - m[o + 9 * mStride] - m[o + 13 * mStride];
                float s12 = m[o + 6 * mStride] - m[o + 10 * mStride] - m[o + 14 * mStride];
                float s13 = m[o + 7 * mStride] - m[o + 11 * mStride] - m[o + 15 * mStride];
                int at = origin + co * plane;
                store(y, at, s00 + s01 + s02, accumulate);
                if (right) {
                    store(y, at + 1, s01 - s02 - s03, accumulate);
                }
                if (down) {
                    store(y, at + g.ow, s10 + s11 + s12, accumulate);
                    if (right) {
                        store(y, at + g.ow + 1, s11 - s12 - s13, accumulate);
                    }
                }
            }
        }
    }

    private static void store(float[] y, int at, float v, boolean accumulate) {
        y[at] = accumulate ? y[at] + v : v;
    }

    /**
     * {@code dw (+)= G^T dU G} (3x3) of the 4x4 {@code dU} in {@code s}, with
     * {@code G^T = [1 h h 0; 0 h -h 0; 0 h h 1]}; {@code dw} at {@code dw[at .. at + 8]}.
     */
    static void weightGradientTransform(float[] s, float[] dw, int at, boolean accumulate) {
        for (int j = 0; j < 4; j++) { // G^T dU: column j, rows 0..2 into s[j], s[4 + j], s[8 + j]
            float a = s[j];
            float b = s[4 + j];
            float c = s[8 + j];
            float e = s[12 + j];
            s[j] = a + 0.5f * (b + c);
            s[4 + j] = 0.5f * (b - c);
            s[8 + j] = 0.5f * (b + c) + e;
        }
        for (int r = 0; r < 3; r++) { // (G^T dU) G: row r
            float a = s[4 * r];
            float b = s[4 * r + 1];
            float c = s[4 * r + 2];
            float e = s[4 * r + 3];
            store(dw, at + 3 * r, a + 0.5f * (b + c), accumulate);
            store(dw, at + 3 * r + 1, 0.5f * (b - c), accumulate);
            store(dw, at + 3 * r + 2, 0.5f * (b + c) + e, accumulate);
        }
    }
}
