package dev.jacobian.cpu;

import static dev.jacobian.backend.Tolerances.FP32_ATOL;
import static dev.jacobian.backend.Tolerances.FP32_RTOL;
import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The layout, convolution and pooling kernels of {@link CpuConv} on sizes the shared conformance suite does not
 * reach: the CNN's own shapes, large enough that every kernel splits over the workers, against the reference on
 * 1, 2 and 3 threads and in scalar mode; the result must not depend on the thread count, and a view's
 * surroundings must stay untouched on the parallel paths too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuConvKernelsTest {
    private final ReferenceBackend reference = new ReferenceBackend();
    private final List<Backend> backends = new ArrayList<>();

    @BeforeAll
    void open() {
        backends.add(new CpuBackend(1, true));
        backends.add(new CpuBackend(2, true));
        backends.add(new CpuBackend(3, true));
        backends.add(new CpuBackend(3, false));
    }

    @AfterAll
    void close() {
        backends.forEach(Backend::close);
        reference.close();
    }

    private static float[] random(long seed, int n) {
        return dev.jacobian.backend.BackendConformanceTest.random(seed, n, -1f, 1f);
    }

    /** Runs {@code op} on {@code be} over fresh tensors holding {@code inputs} and returns the last one's data. */
    private interface Op {
        void apply(Backend be, Tensor[] t);
    }

    private static float[] run(Backend be, Shape[] shapes, float[][] inputs, Op op) {
        Tensor[] t = new Tensor[shapes.length];
        try {
            for (int i = 0; i < shapes.length; i++) {
                t[i] = be.fromHost(shapes[i], inputs[i]);
            }
            op.apply(be, t);
            return t[t.length - 1].download();
        } finally {
            for (Tensor x : t) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }

    /**
     * Compares every backend with the reference within {@code rtol}/{@code atol} and checks that all the CPU
     * backends agree bit for bit: each output element is computed in a fixed order whatever the thread count, and
     * these kernels are the same loops in scalar mode.
     */
    private void compare(String what, double rtol, double atol, Shape[] shapes, float[][] inputs, Op op) {
        float[] expected = run(reference, shapes, inputs, op);
        float[] first = null;
        for (Backend be : backends) {
            float[] actual = run(be, shapes, inputs, op);
            TensorAssert.assertClose(what + " on " + be.deviceDescription(), expected, actual, rtol, atol);
            if (first == null) {
                first = actual;
            } else {
                assertArrayEquals(first, actual, what + ": the same bits on " + be.deviceDescription());
            }
        }
    }

    static Stream<Arguments> convCases() {
        return Stream.of(
                Arguments.of(new int[] {64, 32, 14, 14}, Conv2dSpec.of(3, 1, 1)),
                Arguments.of(new int[] {64, 1, 28, 28}, Conv2dSpec.of(3, 1, 1)),
                Arguments.of(new int[] {32, 3, 32, 32}, Conv2dSpec.of(5, 1, 0)),
                Arguments.of(new int[] {16, 24, 15, 15}, Conv2dSpec.of(3, 2, 1).withGroups(3)),
                Arguments.of(new int[] {8, 16, 20, 17}, new Conv2dSpec(3, 2, 1, 3, 2, 1, 2, 1, 2)),
                Arguments.of(new int[] {16, 32, 14, 14}, Conv2dSpec.of(3, 1, 1).withGroups(32)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("convCases")
    void im2colAndCol2imMatchTheReference(int[] dims, Conv2dSpec spec) {
        Shape x = Shape.of(dims);
        Shape col = spec.columnShape("im2col", x);
        int taps = spec.kernelH() * spec.kernelW();
        for (int g : spec.groups() == 1 ? new int[] {0} : new int[] {0, spec.groups() - 1}) {
            compare("im2col " + x + " " + spec + " group " + g, 0, 0, new Shape[] {x, col},
                    new float[][] {random(1, x.size()), random(2, col.size())},
                    (be, t) -> be.im2col(spec, g, t[0], t[1]));
            for (boolean acc : new boolean[] {false, true}) {
                compare("col2im " + x + " " + spec + " group " + g + " acc " + acc, FP32_SUM_RTOL, sumAtol(taps),
                        new Shape[] {col, x}, new float[][] {random(3, col.size()), random(4, x.size())},
                        (be, t) -> be.col2im(spec, g, t[0], t[1], acc));
            }
        }
    }

    static Stream<Arguments> poolCases() {
        return Stream.of(
                Arguments.of(new int[] {64, 64, 14, 14}, Pool2dSpec.max(2, 2, 0)),
                Arguments.of(new int[] {64, 32, 28, 28}, Pool2dSpec.max(2, 2, 0)),
                Arguments.of(new int[] {32, 16, 15, 15}, Pool2dSpec.max(2, 2, 0)),
                Arguments.of(new int[] {32, 16, 15, 15}, Pool2dSpec.max(3, 2, 1)),
                Arguments.of(new int[] {32, 16, 15, 15}, Pool2dSpec.avg(2, 2, 0)),
                Arguments.of(new int[] {32, 16, 15, 15}, Pool2dSpec.avg(3, 2, 1)),
                Arguments.of(new int[] {32, 16, 15, 15}, Pool2dSpec.avg(3, 2, 1).withCountIncludePad(false)),
                Arguments.of(new int[] {16, 8, 17, 23}, new Pool2dSpec(Pool2dSpec.Kind.MAX, 3, 2, 1, 2, 1, 1, true)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("poolCases")
    void poolingMatchesTheReference(int[] dims, Pool2dSpec spec) {
        Shape x = Shape.of(dims);
        Shape y = spec.outputShape("pool2d", x);
        float[] xs = random(5, x.size());
        for (int i = 0; i < xs.length; i += 97) {
            xs[i] = xs[i + 1]; // ties: the first maximum takes the gradient
        }
        boolean max = spec.kind() == Pool2dSpec.Kind.MAX;
        compare(spec + " " + x, max ? 0 : FP32_RTOL, max ? 0 : FP32_ATOL, new Shape[] {x, y},
                new float[][] {xs, random(6, y.size())}, (be, t) -> be.pool2d(spec, t[0], t[1]));
        int overlap = spec.kernelH() * spec.kernelW();
        for (boolean acc : new boolean[] {false, true}) {
            compare(spec + " backward " + x + " acc " + acc, FP32_SUM_RTOL, sumAtol(overlap),
                    new Shape[] {x, y, x}, new float[][] {xs, random(7, y.size()), random(8, x.size())},
                    (be, t) -> be.pool2dBackward(spec, t[0], t[1], t[2], acc));
        }
    }

    static Stream<Arguments> permutations() {
        return Stream.of(
                Arguments.of(new int[] {32, 64, 196}, new int[] {1, 0, 2}),
                Arguments.of(new int[] {64, 32, 196}, new int[] {1, 0, 2}),
                Arguments.of(new int[] {300, 257}, new int[] {1, 0}),
                Arguments.of(new int[] {8, 64, 130}, new int[] {0, 2, 1}),
                Arguments.of(new int[] {4, 8, 33, 65}, new int[] {3, 1, 0, 2}),
                Arguments.of(new int[] {16, 4, 1, 32, 40}, new int[] {2, 3, 0, 4, 1}),
                Arguments.of(new int[] {64, 3, 7, 7, 5, 2}, new int[] {1, 0, 3, 2, 4, 5}));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("permutations")
    void permuteMatchesTheReference(int[] dims, int[] axes) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[axes[i]];
        }
        Shape x = Shape.of(dims);
        Shape y = Shape.of(out);
        compare("permute " + x + " " + java.util.Arrays.toString(axes), 0, 0, new Shape[] {x, y},
                new float[][] {random(9, x.size()), random(10, y.size())}, (be, t) -> be.permute(t[0], axes, t[1]));
    }

    @Test
    void parallelPathsWriteOnlyInsideTheirView() {
        Shape whole = Shape.of(66, 32, 14, 14);
        Shape x = Shape.of(64, 32, 14, 14);
        Conv2dSpec conv = Conv2dSpec.of(3, 1, 1).withGroups(2);
        Shape col = conv.columnShape("im2col", x);
        Pool2dSpec pool = Pool2dSpec.max(2, 2, 0);
        Shape y = pool.outputShape("pool2d", x);
        float[] around = random(11, whole.size());
        float[] cols = random(12, col.size());
        float[] xs = random(13, x.size());
        float[] dy = random(14, y.size());
        int before = x.size() / 64;
        for (Backend be : backends) {
            for (int step = 0; step < 2; step++) {
                try (Tensor big = be.fromHost(whole, around); Tensor c = be.fromHost(col, cols);
                     Tensor xt = be.fromHost(x, xs); Tensor g = be.fromHost(y, dy);
                     Tensor dx = big.slice(1, 65);
                     Tensor expected = reference.fromHost(x,
                             java.util.Arrays.copyOfRange(around, before, before + x.size()))) {
                    if (step == 0) {
                        be.col2im(conv, 1, c, dx, false);
                        try (Tensor rc = reference.fromHost(col, cols)) {
                            reference.col2im(conv, 1, rc, expected, false);
                        }
                    } else {
                        be.pool2dBackward(pool, xt, g, dx, true);
                        try (Tensor rx = reference.fromHost(x, xs); Tensor rg = reference.fromHost(y, dy)) {
                            reference.pool2dBackward(pool, rx, rg, expected, true);
                        }
                    }
                    float[] got = big.download();
                    float[] want = expected.download();
                    for (int i = 0; i < before; i++) {
                        assertEquals(around[i], got[i], "element " + i + " before the view");
                        int after = before + x.size() + i;
                        assertEquals(around[after], got[after], "element " + after + " after the view");
                    }
                    TensorAssert.assertClose("view " + step, want,
                            java.util.Arrays.copyOfRange(got, before, before + x.size()), FP32_SUM_RTOL, sumAtol(9));
                }
            }
        }
    }
}
