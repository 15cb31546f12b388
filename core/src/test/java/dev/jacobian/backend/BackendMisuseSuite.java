package dev.jacobian.backend;

import static dev.jacobian.nn.MisuseAssertions.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Misuses of a backend that its checked entry ({@link AbstractBackend}) must refuse with a clear exception (issue 13):
 * one test per misuse, each asserting the exception's type and the key parts of its one-line message. Before these
 * checks each of them was accepted silently, crashed the JVM (OpenCL), or surfaced as a {@link NullPointerException}
 * from inside a kernel. A backend module adds one subclass that implements {@link #createBackend()}.
 */
public abstract class BackendMisuseSuite {

    /** A new backend for each call (the test closes it). */
    protected abstract Backend createBackend();

    /**
     * The single-tensor entry points (upload, download, fill, randomUniform) skipped the closed-backend check: the
     * heap backends went on reading and writing the arrays of a closed backend, and OpenCL crashed the JVM (SIGSEGV
     * in clEnqueueReadBuffer on a released queue).
     */
    @Test
    void aClosedBackendRefusesTheTensorsItMadeBefore() {
        Backend b = createBackend();
        Tensor t = b.fromHost(Shape.of(4), new float[] {1, 2, 3, 4});
        b.close();
        String closed = b.name() + " backend is closed";
        refused(IllegalStateException.class, t::download, "download", closed);
        refused(IllegalStateException.class, () -> t.get(0), "download", closed);
        refused(IllegalStateException.class, () -> t.upload(new float[4]), "upload", closed);
        refused(IllegalStateException.class, () -> b.fill(t, 1f), "fill", closed);
        refused(IllegalStateException.class, () -> b.randomUniform(1L, 0L, t), "randomUniform", closed);
        refused(IllegalStateException.class, () -> b.unary(UnaryOp.EXP, 0f, 0f, t, t), "unary EXP", closed);
        refused(IllegalStateException.class, () -> b.readLater(t), "readLater", closed);
        refused(IllegalStateException.class, () -> b.allocate(Shape.of(2)), "allocate", closed);
        t.close(); // closing a tensor of a closed backend stays harmless
        b.close();
    }

    /** A null tensor reached a kernel and surfaced as a NullPointerException naming a kernel's local variable. */
    @Test
    void aNullTensorIsNamedByTheCall() {
        try (Backend b = createBackend()) {
            Tensor x = b.allocate(Shape.of(2, 3));
            Tensor y = b.allocate(Shape.of(2, 3));
            refused(IllegalArgumentException.class, () -> b.fill(null, 1f), "fill: tensor x is null");
            refused(IllegalArgumentException.class, () -> b.unary(UnaryOp.EXP, 0f, 0f, x, null),
                    "unary EXP: tensor y is null");
            refused(IllegalArgumentException.class, () -> b.binary(BinaryOp.ADD, x, null, y),
                    "binary ADD: tensor b is null");
            refused(IllegalArgumentException.class, () -> b.gemm(false, true, 1f, x, null, 0f, y),
                    "gemm: tensor b is null");
            refused(IllegalArgumentException.class, () -> b.softmaxBackward(x, null, y, false),
                    "softmaxBackward: tensor dy is null");
            refused(IllegalArgumentException.class, () -> b.sgdUpdate(x, null, null, null,
                    new SgdUpdate(0.1f, 0f, false, 0f, 0f, 0f)), "sgdUpdate: tensor grad is null");
            refused(IllegalArgumentException.class, () -> b.randomUniform(1L, 0L, null), "randomUniform: tensor out is null");
            refused(IllegalArgumentException.class, () -> b.readLater(x, null), "readLater: tensor 2 of 2 is null");
            refused(IllegalArgumentException.class, () -> b.copy(null, y), "copy: tensor src is null");
            refused(IllegalArgumentException.class, () -> b.allocate(null), "allocate: shape is null");
        }
    }

    /**
     * A null operation, function, reduction, axis, loss kind, geometry or update reached a kernel: a
     * NullPointerException from a switch, and on the CPU backend {@code reduce(SUM, null axis)} returned silently.
     */
    @Test
    void aNullOperationOrSettingIsNamedByTheCall() {
        try (Backend b = createBackend()) {
            Tensor x = b.allocate(Shape.of(2, 3));
            Tensor y = b.allocate(Shape.of(2, 3));
            Tensor s = b.allocate(Shape.scalar());
            Tensor bias = b.allocate(Shape.of(1, 3));
            Tensor cls = b.allocate(Shape.of(2, 1));
            Tensor img = b.allocate(Shape.of(1, 1, 4, 4));
            refused(IllegalArgumentException.class, () -> b.unary(null, 0f, 0f, x, y), "unary: operation is null");
            refused(IllegalArgumentException.class, () -> b.binary(null, x, x, y), "binary: operation is null");
            refused(IllegalArgumentException.class, () -> b.activation(null, 0f, x, y), "activation: function is null");
            refused(IllegalArgumentException.class, () -> b.biasActivation(x, bias, null, 0f, y),
                    "biasActivation: activation is null");
            refused(IllegalArgumentException.class, () -> b.reduce(null, Axis.ALL, x, s, false),
                    "reduce: reduction is null");
            refused(IllegalArgumentException.class, () -> b.reduce(Reduction.SUM, null, x, s, false),
                    "reduce SUM: axis is null");
            refused(IllegalArgumentException.class, () -> b.rowLoss(null, x, cls, cls), "rowLoss: loss kind is null");
            refused(IllegalArgumentException.class, () -> b.meanLoss(null, x, cls, s), "meanLoss: loss kind is null");
            refused(IllegalArgumentException.class, () -> b.pool2d(null, img, img), "pool2d: spec is null");
            refused(IllegalArgumentException.class, () -> b.im2col(null, 0, img, x), "im2col: spec is null");
            refused(IllegalArgumentException.class, () -> b.sgdUpdate(x, y, null, null, null),
                    "sgdUpdate: update is null");
        }
    }

    /**
     * A null host array surfaced as "Cannot read the array length because "a" is null"; and {@code fromHost} with an
     * array of the wrong length allocated its buffer before refusing, leaving it allocated until the backend closed.
     */
    @Test
    void aNullOrMisfittingHostArrayIsNamedAndAllocatesNothing() {
        try (Backend b = createBackend()) {
            Tensor x = b.allocate(Shape.of(4));
            refused(IllegalArgumentException.class, () -> b.upload(null, 0, x, 0, 1), "upload: host array is null");
            refused(IllegalArgumentException.class, () -> b.download(x, 0, null, 0, 1), "download: host array is null");
            refused(IllegalArgumentException.class, () -> x.upload(null), "upload: host array is null");
            refused(IllegalArgumentException.class, () -> b.fromHost(Shape.of(2), null), "fromHost: host array is null");
            long live = b.stats().liveBuffers();
            refused(IllegalArgumentException.class, () -> b.fromHost(Shape.of(2), new float[3]),
                    "fromHost", "3 floats", "[2]");
            assertEquals(live, b.stats().liveBuffers(), "a refused fromHost must not leave a buffer allocated");
        }
    }

    /**
     * sgdUpdate had no aliasing check (adaptiveUpdate had): a gradient, velocity or norm that shares storage with the
     * parameter was accepted, and the three backends gave three different results for the same call.
     */
    @Test
    void sgdUpdateRefusesOverlappingTensors() {
        try (Backend b = createBackend()) {
            Tensor w = b.fromHost(Shape.of(4), new float[] {1, 2, 3, 4});
            Tensor g = b.fromHost(Shape.of(4), new float[] {1, 1, 1, 1});
            Tensor v = b.allocate(Shape.of(4));
            SgdUpdate momentum = new SgdUpdate(0.5f, 0.9f, false, 0f, 0f, 0f);
            refused(IllegalArgumentException.class, () -> b.sgdUpdate(w, w, v, null, momentum),
                    "sgdUpdate: param [4] must not overlap grad [4]");
            refused(IllegalArgumentException.class, () -> b.sgdUpdate(w, g, w, null, momentum),
                    "sgdUpdate: velocity [4] must not overlap param [4]");
            refused(IllegalArgumentException.class, () -> b.sgdUpdate(w, g, g, null, momentum),
                    "sgdUpdate: velocity [4] must not overlap grad [4]");
            try (Tensor first = w.slice(0, 1)) {
                refused(IllegalArgumentException.class, () -> b.sgdUpdate(w, g, v, first, momentum),
                        "sgdUpdate: param [4] must not overlap gradNormSq [1]");
            }
            assertArrayEquals(new float[] {1, 2, 3, 4}, w.download(), "a refused update must not have run");
        }
    }

    /**
     * preluBackward had no aliasing check: a slope gradient written over the slopes (or the input) was accepted, and
     * OpenCL returned zeros for it where the reference returned the gradient. {@code dx} over {@code dy} (in place)
     * stays allowed and correct.
     */
    @Test
    void preluBackwardRefusesOverlappingGradients() {
        try (Backend b = createBackend()) {
            Tensor x = b.fromHost(Shape.of(1, 4), new float[] {1, -5, 3, -2});
            Tensor slope = b.fromHost(Shape.of(1, 4), new float[] {.5f, .5f, .5f, .5f});
            Tensor dy = b.fromHost(Shape.of(1, 4), new float[] {1, 2, 3, 4});
            Tensor ds = b.allocate(Shape.of(1, 4));
            refused(IllegalArgumentException.class, () -> b.preluBackward(x, slope, dy, null, false, slope, false),
                    "preluBackward: dslope [1, 4] must not overlap slope [1, 4]");
            refused(IllegalArgumentException.class, () -> b.preluBackward(x, slope, dy, null, false, x, false),
                    "preluBackward: dslope [1, 4] must not overlap x [1, 4]");
            refused(IllegalArgumentException.class, () -> b.preluBackward(x, slope, dy, x, false, ds, false),
                    "preluBackward: dx [1, 4] must not overlap x [1, 4]");
            refused(IllegalArgumentException.class, () -> b.preluBackward(x, slope, dy, ds, false, ds, false),
                    "preluBackward: dslope [1, 4] must not overlap dx [1, 4]");
            b.preluBackward(x, slope, dy, dy, false, null, false);
            assertArrayEquals(new float[] {1, 1, 3, 2}, dy.download(), 0f, "dx in place of dy");
        }
    }

    /**
     * rowLoss and rowLossBackward did not check that their output is apart from the targets (meanLoss did): an
     * output written over the targets it reads was accepted.
     */
    @Test
    void lossOutputsMustNotOverlapTheirTargets() {
        try (Backend b = createBackend()) {
            Tensor pred = b.fromHost(Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6});
            Tensor cls = b.fromHost(Shape.of(2, 1), new float[] {0, 2});
            Tensor values = b.allocate(Shape.of(2, 3));
            Tensor dout = b.fromHost(Shape.of(2, 1), new float[] {1, 1});
            refused(IllegalArgumentException.class, () -> b.rowLoss(LossKind.SOFTMAX_CROSS_ENTROPY, pred, cls, cls),
                    "rowLoss: out [2, 1] must not overlap target [2, 1]");
            refused(IllegalArgumentException.class, () -> b.rowLossBackward(LossKind.MSE, pred, values, dout, values, false),
                    "rowLossBackward: dpred [2, 3] must not overlap target [2, 3]");
            assertArrayEquals(new float[] {0, 2}, cls.download(), 0f, "the targets are untouched");
        }
    }

    /**
     * softmaxBackward, activationBackward, maxoutBackward and reduceBackward did not check that their output is apart
     * from the inputs they read (or exactly one of them): a gradient written one row ahead of the values still to be
     * read was accepted, and a row-by-row kernel then read the rows it had just overwritten. Exactly in place stays
     * allowed where it was.
     */
    @Test
    void gradientsThatPartlyOverlapTheirInputsAreRefused() {
        try (Backend b = createBackend()) {
            int cols = Math.max(4, b.viewAlignment()); // rows start at offsets a view can take on every backend
            try (Tensor root = b.allocate(Shape.of(4, cols));
                 Tensor head = root.slice(0, 3);
                 Tensor tail = root.slice(1, 4)) {
                Tensor other = b.allocate(Shape.of(3, cols));
                refused(IllegalArgumentException.class, () -> b.softmaxBackward(other, head, tail, false),
                        "softmaxBackward: output [3, " + cols + "] partially overlaps input [3, " + cols + "]");
                refused(IllegalArgumentException.class, () -> b.softmaxBackward(head, other, tail, false),
                        "softmaxBackward: output", "partially overlaps");
                refused(IllegalArgumentException.class,
                        () -> b.activationBackward(Activation.TANH, 0f, head, head, other, tail, false),
                        "activationBackward TANH: output", "partially overlaps");
                refused(IllegalArgumentException.class, () -> b.maxoutBackward(1, head, other, tail, false),
                        "maxoutBackward: output", "partially overlaps");
                Tensor colMax = b.allocate(Shape.of(1, cols));
                refused(IllegalArgumentException.class,
                        () -> b.reduceBackward(Reduction.MAX, Axis.ROWS, head, colMax, colMax, tail, false),
                        "reduceBackward MAX: output", "partially overlaps");
                b.softmaxBackward(other, head, head, false); // exactly in place: allowed
            }
        }
    }

    /**
     * viewBuffer compared {@code offset + floats} with the storage's size in long arithmetic that could overflow: a
     * view of {@code Long.MAX_VALUE} floats at offset 1 wrapped to a negative end, passed the bounds check, and the
     * heap backends returned a buffer claiming -1 floats.
     */
    @Test
    void aViewWhoseEndOverflowsIsOutOfBounds() {
        try (Backend b = createBackend()) {
            DeviceBuffer storage = b.allocateBuffer(8);
            refused(IndexOutOfBoundsException.class, () -> b.viewBuffer(storage, 1, Long.MAX_VALUE), "view of");
            refused(IndexOutOfBoundsException.class, () -> b.viewBuffer(storage, Long.MAX_VALUE, 8), "view of");
            b.release(storage);
        }
    }

    /**
     * readLater summed the tensors' sizes in an int: reading more floats than one host array can hold wrapped to a
     * negative (or small) length and failed with a NegativeArraySizeException (or an index error) from inside the
     * backend; it is now refused by name before anything is read.
     */
    @Test
    void aReadLargerThanOneHostArrayIsRefusedByName() {
        try (Backend b = createBackend()) {
            Tensor t = b.allocate(Shape.of(1 << 21));
            Tensor[] many = new Tensor[1 << 10]; // 2^31 floats in all: one more than an int holds
            java.util.Arrays.fill(many, t);
            refused(IllegalArgumentException.class, () -> b.readLater(many), "readLater", "2147483648 floats");
        }
    }

    /**
     * binaryBackward checked only its gradient against {@code dc} on the flat path: a gradient that partly overlapped
     * the operand {@code a} or {@code b} it reads was accepted, and a kernel writing element by element then read the
     * values it had just overwritten (the reference, which copies its inputs first, gave another result). Exactly in
     * place stays allowed.
     */
    @Test
    void aBinaryGradientThatPartlyOverlapsAnOperandIsRefused() {
        try (Backend b = createBackend()) {
            int cols = Math.max(4, b.viewAlignment());
            try (Tensor root = b.allocate(Shape.of(4, cols));
                 Tensor head = root.slice(0, 3);
                 Tensor tail = root.slice(1, 4)) {
                Tensor other = b.allocate(Shape.of(3, cols));
                Tensor dc = b.allocate(Shape.of(3, cols));
                refused(IllegalArgumentException.class,
                        () -> b.binaryBackward(BinaryOp.MUL, 1, head, other, dc, tail, false),
                        "binaryBackward MUL: output", "partially overlaps");
                refused(IllegalArgumentException.class,
                        () -> b.binaryBackward(BinaryOp.MUL, 0, other, head, dc, tail, false),
                        "binaryBackward MUL: output", "partially overlaps");
                b.binaryBackward(BinaryOp.MUL, 1, head, other, dc, head, false); // exactly in place: allowed
            }
        }
    }

    /**
     * gemmBiasActivation did not check that its output is apart from the bias (addRowVector does): with the bias
     * written over by the product before it is added, the composed default gave {@code f(2 x W)} where a fused
     * kernel gives {@code f(x W + bias)}.
     */
    @Test
    void aDenseOutputOverTheBiasIsRefused() {
        try (Backend b = createBackend()) {
            Tensor x = b.fromHost(Shape.of(1, 2), new float[] {1, 2});
            Tensor w = b.fromHost(Shape.of(2, 2), new float[] {1, 0, 0, 1});
            Tensor yb = b.fromHost(Shape.of(1, 2), new float[] {10, 20});
            refused(IllegalArgumentException.class,
                    () -> b.gemmBiasActivation(x, w, yb, Activation.IDENTITY, 0f, yb),
                    "gemmBiasActivation", "must not overlap");
            assertArrayEquals(new float[] {10, 20}, yb.download(), 0f, "a refused call must not have run");
        }
    }

    /**
     * denseBackward checked its gradients against its inputs only: two gradients sharing storage (dx over dW) were
     * accepted and one silently overwrote the other, and a {@code dy} sharing storage with {@code W} or {@code x} was
     * accepted although the composed default overwrites {@code dy} with {@code dz} before it reads them (the weights
     * came back changed and dx wrong).
     */
    @Test
    void denseGradientsThatShareStorageAreRefused() {
        try (Backend b = createBackend()) {
            Tensor x = b.fromHost(Shape.of(2, 2), new float[] {1, 2, 3, 4});
            Tensor w = b.fromHost(Shape.of(2, 2), new float[] {1, -1, -1, 1});
            Tensor y = b.fromHost(Shape.of(2, 2), new float[] {1, 0, 0, 1});
            Tensor dy = b.fromHost(Shape.of(2, 2), new float[] {1, 1, 1, 1});
            Tensor g = b.allocate(Shape.of(2, 2));
            Tensor db = b.allocate(Shape.of(1, 2));
            refused(IllegalArgumentException.class, () -> b.denseBackward(Activation.RELU, 0f, x, w, y, dy, g, false,
                    g, false, db, false), "denseBackward", "must not overlap");
            refused(IllegalArgumentException.class, () -> b.denseBackward(Activation.RELU, 0f, x, w, y, w, g, false,
                    null, false, null, false), "denseBackward", "must not overlap");
            assertArrayEquals(new float[] {1, -1, -1, 1}, w.download(), 0f, "the weights are untouched");
        }
    }

    /**
     * A buffer of another kind of backend given to {@code Tensor.wrap}, {@code viewBuffer} or {@code release} was a
     * ClassCastException inside the backend (on OpenCL at the tensor's first op); each is now refused by name.
     */
    @Test
    void aBufferOfAnotherKindIsRefusedByName() {
        DeviceBuffer foreign = () -> 8;
        try (Backend b = createBackend()) {
            assertFalse(b.accepts(foreign));
            DeviceBuffer own = b.allocateBuffer(8);
            assertTrue(b.accepts(own));
            refused(IllegalArgumentException.class, () -> Tensor.wrap(b, Shape.of(8), foreign), "Tensor.wrap",
                    "is not a buffer of backend " + b.name());
            refused(IllegalArgumentException.class, () -> b.viewBuffer(foreign, 0, 4), "viewBuffer",
                    "is not a buffer of the " + b.name() + " backend");
            refused(IllegalArgumentException.class, () -> b.release(foreign), "release",
                    "is not a buffer of the " + b.name() + " backend");
            try (Tensor t = Tensor.wrap(b, Shape.of(8), own)) {
                b.fill(t, 2f);
                assertEquals(2f, t.download()[7], 0f);
            }
        }
    }

    /** A tensor of a second backend of the same kind read "belongs to backend cpu, not to this cpu backend". */
    @Test
    void aTensorOfAnotherInstanceOfTheSameBackendIsNamedSo() {
        try (Backend b = createBackend(); Backend other = createBackend()) {
            Tensor mine = b.allocate(Shape.of(2, 3));
            Tensor theirs = other.allocate(Shape.of(2, 3));
            refused(IllegalArgumentException.class, () -> b.binary(BinaryOp.ADD, mine, theirs, mine),
                    "binary ADD: tensor [2, 3] belongs to another " + b.name() + " backend instance");
            refused(IllegalArgumentException.class, () -> b.fill(theirs, 1f), "fill", "another " + b.name() + " backend");
            assertFalse(mine.isClosed());
        }
    }

    /**
     * A heap backend asked for more floats than the Java heap can ever hold threw OutOfMemoryError ("Java heap
     * space"), which callers do not catch; it is now an IllegalArgumentException naming the size and the maximum
     * heap, before anything is allocated.
     */
    @Test
    void aTensorLargerThanTheJavaHeapIsRefusedByName() {
        try (Backend b = createBackend()) {
            assumeTrue(b instanceof HeapBackend, "only the heap backends allocate on the Java heap");
            int floats = 1 << 30;
            assumeTrue(4L * floats > Runtime.getRuntime().maxMemory(), "the heap could hold 4 GiB");
            refused(IllegalArgumentException.class, () -> b.allocate(Shape.of(floats)),
                    "allocate: 1073741824 floats (4096.0 MiB)", "Java heap", "-Xmx");
        }
    }
}
