package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.function.IntConsumer;

/**
 * A device that holds tensors and runs the primitive kernels every model is composed from.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Every tensor argument was allocated by this backend and is open; arguments are checked once, in
 *       {@link AbstractBackend}, which every backend extends (an {@link IllegalArgumentException} naming the
 *       primitive and the shapes; an {@link IllegalStateException} for a closed tensor or backend).</li>
 *   <li>Tensors are float32, row-major, contiguous, of rank 0 to {@value Shape#MAX_RANK}, possibly views into
 *       another tensor's storage ({@link Tensor#slice}). Elementwise primitives take any rank and
 *       broadcast by NumPy's rules where they say so; matrix primitives (GEMM, row-vector ops, reductions
 *       along an {@link Axis}, softmax, losses) see a tensor as the matrix {@code [rows, cols]}
 *       ({@link Shape#rows()}).</li>
 *   <li>Kernels may run asynchronously, in call order. {@link #download} and {@link #synchronize} wait
 *       for everything enqueued before them. Nothing else needs to block.</li>
 *   <li>An output may alias an input only where a method says so.</li>
 *   <li>{@code accumulate = true} means {@code out += result} (gradients add where a value fans out);
 *       {@code false} means {@code out = result}.</li>
 *   <li>Every call is atomic: {@link AbstractBackend}'s entry points hold the backend's lock, so two threads that
 *       share a backend (two models on one device) cannot corrupt each other's results or the backend's shared
 *       scratch and kernel objects; their calls run one at a time. Separate backends share no state, so threads
 *       with one backend each (data-parallel replicas) run fully in parallel. An executor, a model, an optimizer or
 *       a trainer is still used by one thread at a time. {@link #close()} frees everything it allocated.</li>
 * </ul>
 * The primitives are listed in {@link Primitive}; the scalar {@code ReferenceBackend} is the oracle every
 * implementation is tested against.
 */
public interface Backend extends AutoCloseable {

    /** Short name used for selection: {@code "reference"}, {@code "cpu"}, {@code "opencl"}. */
    String name();

    /** Human-readable description of the device, e.g. {@code "NVIDIA H100 (OpenCL 3.0 CUDA)"}. */
    String deviceDescription();

    /** Counters of allocations, live buffers and host transfers. */
    BackendStats stats();

    /**
     * How many of the host's cores this backend keeps busy while it computes: the calling thread and any threads of
     * its own. The default, 1, is the caller (an accelerator's backend enqueues work and waits for it); a backend
     * that computes on the host's cores with threads of its own returns them all. A caller that runs threads beside
     * the backend (a data loader) can tell from it whether a core is left free for them.
     */
    default int hostThreads() {
        return 1;
    }

    /**
     * Runs {@code body} for each task in {@code [0, tasks)} on the threads this backend computes with, the calling
     * thread among them, and returns when all have run; tasks may run at the same time and in any order, and must not
     * call this backend. For host work that belongs between its kernels on the cores they leave idle then (a data
     * loader gathering the next batch, {@code DataLoader.Builder#gatherOn}). The first task that throws is rethrown.
     * The default runs the tasks in order on the calling thread.
     *
     * @throws IllegalArgumentException when {@code tasks < 0}
     */
    default void runOnHostThreads(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("tasks must be >= 0: " + tasks);
        }
        for (int t = 0; t < tasks; t++) {
            body.accept(t);
        }
    }

    // ---------------------------------------------------------------- memory

    /** Allocates uninitialized storage for at least {@code floats} floats. Prefer {@link #allocate}. */
    DeviceBuffer allocateBuffer(long floats);

    /** Frees a buffer made by {@link #allocateBuffer} or {@link #viewBuffer}; called by {@link Tensor#close()}. */
    void release(DeviceBuffer buffer);

    /**
     * A buffer for {@code floats} floats starting {@code offset} floats into {@code storage}, sharing its
     * memory (a view; see {@link Tensor#slice}). Releasing it does not free {@code storage}.
     *
     * @throws UnsupportedOperationException when the backend cannot view storage at that offset (OpenCL
     *     needs it aligned to the device's base address alignment); the message says why
     */
    DeviceBuffer viewBuffer(DeviceBuffer storage, long offset, long floats);

    /**
     * The granularity, in floats, at which {@link #viewBuffer} accepts offsets: 1 on the heap backends, the
     * device's base address alignment on OpenCL (32 floats on PoCL). Layouts that put many tensors into one
     * buffer (the parameter arena) align every tensor to it.
     */
    default int viewAlignment() {
        return 1;
    }

    /**
     * Whether {@code buffer} is of the kind this backend allocates (an OpenCL buffer on OpenCL, a Java array on the heap
     * backends), so that it can hold this backend's tensors: {@link Tensor#wrap}, {@link #viewBuffer} and
     * {@link #release} refuse others by name. The default accepts any buffer.
     */
    default boolean accepts(DeviceBuffer buffer) {
        return true;
    }

    /** Allocates a tensor, zero-filled. */
    default Tensor allocate(Shape shape) {
        Checks.given("allocate", "shape", shape);
        Tensor t = Tensor.wrap(this, shape, allocateBuffer(shape.size()));
        fill(t, 0f);
        return t;
    }

    /**
     * Allocates a tensor and uploads {@code data} (row-major, {@code shape.size()} floats) into it. A null shape or
     * array, or an array of another length, is an {@link IllegalArgumentException} and allocates nothing.
     */
    default Tensor fromHost(Shape shape, float[] data) {
        Checks.given("fromHost", "shape", shape);
        Checks.given("fromHost", "host array", data);
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("fromHost: array of " + data.length + " floats does not match tensor "
                    + shape);
        }
        Tensor t = Tensor.wrap(this, shape, allocateBuffer(shape.size()));
        t.upload(data);
        return t;
    }

    /** Copies {@code count} floats host → device: {@code src[srcOffset..]} to {@code dst[dstOffset..]}. */
    void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int count);

    /**
     * Gathers rows of unsigned bytes from the host and uploads them as floats, in one pass: for {@code r < rows} and
     * {@code j < rowLength}, {@code dst[dstOffset + r * rowLength + j] = (src[offsets[r] + j] & 0xff) / divisor},
     * each a correctly rounded float division (the floats a host conversion gives, e.g. {@code ImageDataset}'s). A
     * batch of images taken from where a data set stores them ({@code Batch.byteRows()}), converted as it is written:
     * a quarter of the bytes of the floats it stands for.
     *
     * @throws IllegalArgumentException  when an array is null, a count is negative or {@code offsets} has fewer than
     *                                   {@code rows} entries
     * @throws IndexOutOfBoundsException when a row lies outside {@code src} or the floats outside {@code dst}
     */
    void uploadByteRows(byte[] src, int[] offsets, int rows, int rowLength, float divisor, Tensor dst, int dstOffset);

    /** Copies {@code count} floats device → host after all enqueued work on the backend finished. */
    void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int count);

    /**
     * Starts reading the whole of each tensor back to the host, behind all work enqueued so far, and returns at
     * once: what a training step reports (its loss, its gradient norm) travels in one read the caller collects
     * when it needs it, while the device runs the next step. The tensors may be overwritten by work enqueued after
     * this call without changing what is read. A backend that runs primitives on the calling thread downloads now
     * and returns a completed read; the OpenCL backend enqueues non-blocking reads into pinned host memory.
     */
    PendingRead readLater(Tensor... tensors);

    /** Waits until all enqueued work has finished. */
    void synchronize();

    /** Frees every buffer still allocated and any device resources. Idempotent. */
    @Override
    void close();

    // ---------------------------------------------------------------- elementwise

    /** {@code x[:] = value}. */
    void fill(Tensor x, float value);

    /** {@code dst = src}; same size. */
    default void copy(Tensor src, Tensor dst) {
        Checks.given("copy", "tensor src", src);
        Checks.given("copy", "tensor dst", dst);
        Checks.sameSize("copy", src, dst);
        copy(src, 0, dst, 0, src.size());
    }

    /**
     * {@code dst[dstOffset .. +count) = src[srcOffset .. +count)} (flat row-major offsets), on the device.
     * The ranges must not overlap if {@code src == dst}. Used to gather several device scalars into one
     * tensor so that a step's numbers come back in a single transfer.
     */
    void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count);

    /** {@code y = alpha * x + beta * y}; same size ({@code beta = 0} ignores the old {@code y}, even NaN). */
    void axpby(float alpha, Tensor x, float beta, Tensor y);

    /**
     * {@code y = op(x; p, q)} elementwise (see {@link UnaryOp} for each operation's parameters); same size,
     * any rank; {@code y} may be {@code x}.
     */
    void unary(UnaryOp op, float p, float q, Tensor x, Tensor y);

    /**
     * {@code c = a op b}, elementwise with NumPy broadcasting: {@code c} has the broadcast shape of
     * {@code a} and {@code b} (leading 1s aside). When all three have the same number of elements the
     * operation is flat (shapes may differ only in how the elements are grouped). {@code c} may be an operand
     * that has its shape, never a broadcast one.
     */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor c);

    /**
     * Gradient of {@code c = a op b} with respect to operand 0 ({@code a}) or 1 ({@code b}), broadcasting as
     * {@link #binary} does: {@code grad (+)= sumTo(dc * d(a op b)/d(operand))}, {@code grad} of the operand's
     * shape, summed over the positions the operand was broadcast along.
     */
    void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate);

    /**
     * {@code y (+)= x} summed over the dimensions along which {@code y} broadcasts to {@code x} (the
     * backward of broadcasting): e.g. {@code x: [n, c, h, w]}, {@code y: [1, c, 1, 1]} gives per-channel sums.
     * {@code y}'s shape must broadcast to {@code x}'s; they must not overlap.
     */
    void sumTo(Tensor x, Tensor y, boolean accumulate);

    /** {@code y = f(x)}; {@code y} may alias {@code x}. */
    void activation(Activation f, float param, Tensor x, Tensor y);

    /**
     * {@code dx (+)= dy * f'(x)}, given the forward input {@code x} and output {@code y}. {@code x} may
     * be {@code y} when {@link Activation#derivativeFromOutput} holds, and {@code dx} may alias {@code dy}.
     */
    void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate);

    /** {@code y[i,j] = x[i,j] + bias[0,j]}, bias {@code [1, n]}; {@code y} may alias {@code x}. */
    void addRowVector(Tensor x, Tensor bias, Tensor y);

    /**
     * Fused bias and activation, the epilogue of a dense layer: {@code y[i,j] = f(x[i,j] + bias[0,j])};
     * {@code y} may alias {@code x}. The default composes {@link #addRowVector} and {@link #activation};
     * device backends override it with one kernel (one pass over the activations instead of two).
     */
    default void biasActivation(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        addRowVector(x, bias, y);
        activation(f, param, y, y);
    }

    /** PReLU with one learnable slope per column: {@code y = x > 0 ? x : slope[0,j] * x}; slope {@code [1, n]}. */
    void prelu(Tensor x, Tensor slope, Tensor y);

    /**
     * PReLU backward. {@code dx (+)= dy * (x > 0 ? 1 : slope_j)} and
     * {@code dslope_j (+)= sum_i dy_ij * (x_ij > 0 ? 0 : x_ij)}. Either gradient may be {@code null}; {@code dx} may
     * be {@code dy}, no other two may overlap.
     */
    void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                       Tensor dslope, boolean accumulateDslope);

    /**
     * Maxout over groups of {@code pieces} adjacent columns: {@code y[i,j] = max_p z[i, j*pieces + p]};
     * {@code z: [m, n*pieces]}, {@code y: [m, n]}.
     */
    void maxout(int pieces, Tensor z, Tensor y);

    /** Maxout backward: {@code dz (+)=} {@code dy} at the first maximal piece of each group, 0 elsewhere. */
    void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate);

    /**
     * Fills {@code out} with uniform floats in {@code [0, 1)} from the counter-based generator Philox4x32-10
     * (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"): element {@code i} is lane
     * {@code i % 4} of the block {@code Philox(key, counter + i / 4)} (the 64-bit counter in the first two
     * 32-bit words of the 128-bit counter, low word first; the 64-bit key split the same way), turned into a
     * float as {@code (u >>> 8) * 2^-24}. Integer arithmetic only, so every backend gives the same bits
     * (see {@link Philox}, the reference). Dropout masks and other random draws of a training step come
     * from here, keyed by seed and operation, counted by step.
     */
    void randomUniform(long key, long counter, Tensor out);

    // ---------------------------------------------------------------- matrix products

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} with {@code op(X) = transX ? X^T : X}.
     * {@code op(A): [m, k]}, {@code op(B): [k, n]}, {@code C: [m, n]}; A and B are stored row-major as
     * given (a transposed operand is never materialized). {@code beta = 0} ignores the old C.
     * C must not alias A or B.
     */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /**
     * A dense layer's forward: {@code y = f(x W + bias)} with {@code x: [n, in]}, {@code W: [in, out]},
     * {@code bias: [1, out]}, {@code y: [n, out]} ({@code f} may be {@link Activation#IDENTITY}). {@code y} must not
     * overlap {@code x}, {@code W} or {@code bias}. {@code AbstractBackend}'s default composes {@link #gemm} and
     * {@link #biasActivation}; a device backend fuses the bias and the activation into the product's epilogue (one
     * launch instead of two).
     */
    void gemmBiasActivation(Tensor x, Tensor w, Tensor bias, Activation f, float param, Tensor y);

    /**
     * A dense layer's backward, for {@code y = f(x W + b)} whose activation's derivative comes from its output
     * ({@link Activation#derivativeFromOutput}): with {@code dz = dy f'(y)}, {@code dx (+)= dz W^T},
     * {@code dW (+)= x^T dz} and {@code db (+)= sum over rows of dz}. Each of {@code dx}, {@code dW}, {@code db} may
     * be null (no gradient wanted); {@code accumulate*} selects {@code +=}. {@code dy} may be overwritten (with
     * {@code dz}): it is the caller's scratch, and must not overlap {@code x} or {@code W}; no gradient may overlap
     * an input or another gradient. Shapes: {@code x, dx: [n, in]}, {@code W, dW: [in, out]},
     * {@code y, dy: [n, out]}, {@code db: [1, out]}. {@code AbstractBackend}'s default composes
     * {@link #activationBackward} (in place on {@code dy}), two {@link #gemm}s and a row {@link #reduce}; a device
     * backend applies {@code f'(y)} as it loads {@code dy} into each product and sums the bias gradient in the weight
     * product (two launches instead of four).
     */
    void denseBackward(Activation f, float param, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx,
                       boolean accumulateDx, Tensor dw, boolean accumulateDw, Tensor db, boolean accumulateDb);

    // ---------------------------------------------------------------- layout, convolution, pooling

    /**
     * {@code y = x} with its axes reordered: {@code y.dim(i) = x.dim(axes[i])} and
     * {@code y[i0, i1, ...] = x} at the index whose axis {@code axes[k]} is {@code ik} (NumPy's {@code transpose};
     * {@code axes = {1, 0, 2}} swaps the first two of three axes). {@code axes} is a permutation of
     * {@code 0 .. rank-1}; {@code y} must not overlap {@code x}.
     */
    void permute(Tensor x, int[] axes, Tensor y);

    /**
     * Writes the column matrix of channel group {@code group} of {@code x [N, C, H, W]} into
     * {@code col [C/groups kH kW, N OH OW]}, laid out as {@link Conv2dSpec} specifies (0 where the window is on
     * padding), so that the convolution of that group is one GEMM with its weights {@code [OCg, C/groups kH kW]}.
     * {@code x} has rank 4 with {@code C} divisible by the groups, the dilated kernel fits the padded input,
     * {@code group} is in {@code [0, groups)}, and {@code col} must not overlap {@code x}.
     */
    void im2col(Conv2dSpec spec, int group, Tensor x, Tensor col);

    /**
     * The adjoint of {@link #im2col}: {@code dx (+)=} the sum, over every column entry of {@code col} (laid out
     * as {@link #im2col} writes group {@code group}), of that entry at the input position it was read from;
     * entries on padding are dropped. Only the channels of that group are written; with
     * {@code accumulate = false} they are overwritten, the others left untouched. Shapes as for {@link #im2col};
     * {@code dx} must not overlap {@code col}.
     */
    void col2im(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate);

    /**
     * Whether this backend convolves {@code inChannels -> outChannels} with geometry {@code spec} by its own direct
     * kernels ({@link #conv2d}, {@link #conv2dBackwardData}, {@link #conv2dBackwardWeights}) faster than by
     * {@link #im2col} and {@link #gemm}; the {@code Conv2d} operation then uses them. A capability, not a
     * promise of results: where it is false those three methods may throw {@link UnsupportedOperationException}.
     * The CPU backend answers true for 3x3 stride-1 convolutions of enough channels (Winograd's F(2x2, 3x3)); the
     * reference backend, the oracle of the others, implements the three for every geometry but answers false.
     */
    boolean directConv2d(Conv2dSpec spec, int inChannels, int outChannels);

    /**
     * {@code y = conv2d(x, w)} without bias, as {@code torch.nn.functional.conv2d}: {@code x [N, C, H, W]},
     * {@code w [OC, C/groups, kH, kW]}, {@code y [N, OC, OH, OW]} ({@link Conv2dSpec#outputShape}); {@code y}
     * overlaps neither.
     *
     * @throws UnsupportedOperationException where {@link #directConv2d} is false for this geometry
     */
    void conv2d(Conv2dSpec spec, Tensor x, Tensor w, Tensor y);

    /**
     * The gradient of {@link #conv2d} with respect to its input: {@code dx (+)=} the transposed convolution of
     * {@code dy [N, OC, OH, OW]} with {@code w}; {@code dx [N, C, H, W]} overlaps neither.
     *
     * @throws UnsupportedOperationException where {@link #directConv2d} is false for this geometry
     */
    void conv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx, boolean accumulate);

    /**
     * The gradient of {@link #conv2d} with respect to its weights: {@code dw (+)=} the correlation of {@code x} with
     * {@code dy}, summed over the batch; {@code dw [OC, C/groups, kH, kW]} overlaps neither.
     *
     * @throws UnsupportedOperationException where {@link #directConv2d} is false for this geometry
     */
    void conv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, boolean accumulate);

    /**
     * 2-D pooling of {@code x [N, C, H, W]} into {@code y [N, C, OH, OW]}, as {@link Pool2dSpec} specifies (the
     * maximum or the mean of each window).
     */
    void pool2d(Pool2dSpec spec, Tensor x, Tensor y);

    /**
     * The gradient of {@link #pool2d}: {@code dx (+)=} {@code dy} routed to each window's first maximal element
     * of {@code x}, or its last NaN if it holds any (max; windows that overlap add up), or spread evenly over each
     * window (average).
     * {@code dy} is {@code [N, C, OH, OW]}, {@code dx} has {@code x}'s shape.
     */
    void pool2dBackward(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate);

    // ---------------------------------------------------------------- reductions, softmax, losses

    /**
     * {@code y (+)= reduce(x)} along {@code axis}: {@code y} is {@code [1, n]}, {@code [m, 1]} or
     * {@code [1, 1]}. {@link Reduction#ARGMAX} does not accumulate.
     */
    void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate);

    /** Backward of {@link #reduce}: {@code dx (+)= dy} broadcast back through the reduction's local gradient. */
    void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate);

    /** Row-wise softmax {@code y_ij = e^{x_ij - max_i} / sum_j e^{x_ij - max_i}}; y may alias x. */
    void softmax(Tensor x, Tensor y);

    /** {@code dx (+)= y * (dy - sum_j dy_j y_j)} per row, given the softmax output {@code y}. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate);

    /**
     * Per-sample loss {@code out[i,0] = L(pred_i, target_i)}; see {@link LossKind} for formulas and the
     * target layout. Class indices must be in {@code [0, c)}; callers check them on the host.
     */
    void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out);

    /** {@code dpred (+)= dout_i * dL_i/dpred_i}, {@code dout: [n, 1]}. */
    void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate);

    /**
     * The batch-mean loss {@code out[0] = (1/n) sum_i L(pred_i, target_i)} into the scalar {@code out} ({@code [1, 1]}
     * or rank 0), targets as in {@link #rowLoss}. {@code AbstractBackend}'s default composes {@link #rowLoss} (into
     * a scratch column) and a mean {@link #reduce}; a device backend computes it in one launch.
     */
    void meanLoss(LossKind kind, Tensor pred, Tensor target, Tensor out);

    /**
     * The gradient of {@link #meanLoss}: {@code dpred (+)= (dout[0] / n) dL_i/dpred_i}, {@code dout} a device scalar
     * (the executor's seed, 1, when the mean loss is what is trained). One launch on a device backend.
     */
    void meanLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate);

    // ---------------------------------------------------------------- optimizer

    /**
     * One fused SGD step on one parameter, as specified in {@link SgdUpdate}. {@code velocity} is
     * {@code null} when momentum is 0; {@code gradNormSq} is a {@code [1, 1]} tensor holding the squared
     * global gradient norm over all parameters (or {@code null}: no norm clipping, no NaN guard).
     */
    void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update);

    /**
     * One fused Adam, AdamW or RMSprop step on one parameter (or a parameter arena), as specified in
     * {@link AdaptiveUpdate}. {@code m} (first moment, or RMSprop's momentum buffer) is {@code null} when
     * {@link AdaptiveUpdate#usesFirstMoment()} is false; {@code v} (second moment, or RMSprop's square average)
     * is always needed; {@code gradNormSq} is a scalar tensor holding the squared global gradient norm (or
     * {@code null}: no norm clipping, no NaN guard).
     */
    void adaptiveUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq, AdaptiveUpdate update);
}
