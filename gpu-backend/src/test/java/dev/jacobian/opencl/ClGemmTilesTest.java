package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.backend.Tolerances;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every GEMM tile configuration the backend may pick on some device — including the 128 x 128 tiles it
 * uses for large products on GPUs — run on the device present here, against the reference, on sizes
 * that leave partial edge tiles, for all four transposes (the tuning variants: two); and a dense layer's fused forward
 * and backward (bias and activation in the epilogue, the activation mask on either operand, the bias gradient as
 * column sums) on each.
 */
class ClGemmTilesTest {
    static Stream<ClMatmul.Params> tiles() {
        return ClMatmul.Params.all().stream();
    }

    /** Whether {@code p} is one of the tuning variants rather than a configuration of the built-in ladder. */
    static boolean variant(ClMatmul.Params p) {
        return !ClMatmul.Params.builtIn().contains(p);
    }

    /** {@code C = 0.5 op(A) op(B) + 0.25 C} of {@code m x n x k} on {@code cl} in all four transposes, against {@code ref}. */
    static void allTransposesMatch(String what, ClBackend cl, Backend ref, int m, int n, int k) {
        transposesMatch(what, cl, ref, m, n, k, 0, 1, 2, 3);
    }

    /** {@link #allTransposesMatch} in the transposes {@code ts} only (bit 0: A transposed, bit 1: B). */
    static void transposesMatch(String what, ClBackend cl, Backend ref, int m, int n, int k, int... ts) {
        for (int t : ts) {
            boolean ta = (t & 1) != 0;
            boolean tb = (t & 2) != 0;
            Shape as = ta ? Shape.matrix(k, m) : Shape.matrix(m, k);
            Shape bs = tb ? Shape.matrix(n, k) : Shape.matrix(k, n);
            float[] a = OpenClTestBase.random(1, m * k);
            float[] b = OpenClTestBase.random(2, k * n);
            float[] c = OpenClTestBase.random(3, m * n);
            float[] expected;
            try (Tensor ra = ref.fromHost(as, a); Tensor rb = ref.fromHost(bs, b);
                 Tensor rc = ref.fromHost(Shape.matrix(m, n), c)) {
                ref.gemm(ta, tb, 0.5f, ra, rb, 0.25f, rc);
                expected = rc.download();
            }
            try (Tensor ca = cl.fromHost(as, a); Tensor cb = cl.fromHost(bs, b);
                 Tensor cc = cl.fromHost(Shape.matrix(m, n), c)) {
                cl.gemm(ta, tb, 0.5f, ca, cb, 0.25f, cc);
                TensorAssert.assertClose(what + " " + m + "x" + n + "x" + k + " transA=" + ta + " transB=" + tb, expected,
                        cc.download(), Tolerances.FP32_SUM_RTOL, Tolerances.sumAtol(k));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("tiles")
    void everyTileConfigurationMatchesTheReference(ClMatmul.Params tiles) {
        try (ClBackend probe = OpenClTestSupport.openOrSkip()) {
            assumeTrue(tiles.fits(probe.device()), "this device cannot launch " + tiles + "; a larger device's run covers it");
        }
        try (ClBackend cl = new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)), tiles, tiles);
             Backend ref = new ReferenceBackend()) {
            if (variant(tiles)) {
                // a tuning variant loads and stores as its base does in every transpose (tested there); what it changes
                // (prefetch order, float4 local reads, depth) is the same in each, and each is a program to compile
                transposesMatch("gemm " + tiles, cl, ref, 129, 131, 37, 0, 3);
                return;
            }
            int[][] sizes = {{1, 1, 1}, {129, 131, 37}, {300, 257, 70}};
            for (int[] s : sizes) {
                allTransposesMatch("gemm " + tiles, cl, ref, s[0], s[1], s[2]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("tiles")
    void everyTileConfigurationRunsTheFusedDenseLayer(ClMatmul.Params tiles) {
        try (ClBackend probe = OpenClTestSupport.openOrSkip()) {
            assumeTrue(tiles.fits(probe.device()), "this device cannot launch " + tiles + "; a larger device's run covers it");
        }
        // each of the three products is batch x in x out, above the small kernel's limit, with edge tiles everywhere
        int batch = tiles.tileM() + 3;
        int out = tiles.tileN() + 7;
        int in = (int) Math.max(tiles.tileK() * 4 + 5, ClMatmul.SMALL_LIMIT / ((long) batch * out) + 1);
        float[][] data = {OpenClTestBase.random(1, batch * in), OpenClTestBase.random(2, in * out),
            OpenClTestBase.random(3, out), OpenClTestBase.random(4, batch * out), OpenClTestBase.random(5, batch * in),
            OpenClTestBase.random(6, in * out), OpenClTestBase.random(7, out)};
        Shape[] shapes = {Shape.matrix(batch, in), Shape.matrix(in, out), Shape.matrix(1, out),
            Shape.matrix(batch, out), Shape.matrix(batch, in), Shape.matrix(in, out), Shape.matrix(1, out)};
        try (ClBackend cl = new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)), tiles, tiles);
             Backend ref = new ReferenceBackend()) {
            Activation[] fs = variant(tiles) ? new Activation[] {Activation.RELU}
                    : new Activation[] {Activation.RELU, Activation.TANH};
            for (Activation f : fs) {
                float[][] want = dense(ref, f, shapes, data);
                float[][] got = dense(cl, f, shapes, data);
                String[] names = {"y", "dx", "dW", "db"};
                for (int i = 0; i < want.length; i++) {
                    TensorAssert.assertClose("dense " + f + " " + names[i] + " on " + tiles, want[i], got[i],
                            Tolerances.FP32_SUM_RTOL, Tolerances.sumAtol(Math.max(batch, in)));
                }
            }
        }
    }

    /** y = f(x W + b), then dx, dW (accumulated) and db (accumulated) from dy: the four results. */
    private static float[][] dense(Backend b, Activation f, Shape[] shapes, float[][] data) {
        Tensor[] t = new Tensor[shapes.length + 1];
        try {
            for (int i = 0; i < shapes.length; i++) {
                t[i] = b.fromHost(shapes[i], data[i]);
            }
            t[shapes.length] = b.allocate(shapes[3]);
            Tensor x = t[0];
            Tensor w = t[1];
            Tensor bias = t[2];
            Tensor dy = t[3];
            Tensor dx = t[4];
            Tensor dw = t[5];
            Tensor db = t[6];
            Tensor y = t[7];
            b.gemmBiasActivation(x, w, bias, f, 0.1f, y);
            b.denseBackward(f, 0.1f, x, w, y, dy, dx, false, dw, true, db, true);
            return new float[][] {y.download(), dx.download(), dw.download(), db.download()};
        } finally {
            for (Tensor x : t) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }
}
