package dev.jacobian.cpu;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.HeapBackend;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;

/**
 * The pure-Java CPU backend ({@code "cpu"}): tensors are Java arrays, kernels use the Vector API (with
 * scalar twins), and SGEMM is blocked, packed and multi-threaded (see {@link CpuMatmul}).
 *
 * <p>Kernels run synchronously on the calling thread (SGEMM also on this backend's own worker pool), so
 * {@link #synchronize()} has nothing to wait for. Like every {@link Backend}, an instance is used by one
 * thread at a time; {@link #close()} frees every buffer and stops the worker threads.
 *
 * <p>Memory accounting in {@link #stats()} follows the reference backend: one allocation per
 * {@link #allocateBuffer}, one upload/download per transfer, 4 bytes per float.
 */
public final class CpuBackend extends HeapBackend {
    private final boolean vector;
    private final Parallel parallel;
    private final CpuMatmul matmul;
    private final CpuElementwise elementwise;
    private final CpuReduce reduce;
    private final CpuOptimizer optimizer;

    /** A backend with one worker per available processor and the vector kernels when available. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend with {@code threads} workers (the caller included) and the vector kernels when available. */
    public CpuBackend(int threads) {
        this(threads, true);
    }

    /**
     * A backend with {@code threads} workers; {@code useVector = false} forces the scalar twins (the vector
     * kernels also stay off when {@link #vectorAvailable()} is false).
     */
    public CpuBackend(int threads, boolean useVector) {
        this.vector = useVector && VectorSupport.available();
        this.parallel = new Parallel(threads);
        this.matmul = new CpuMatmul(parallel, vector);
        this.elementwise = new CpuElementwise(vector);
        this.reduce = new CpuReduce(vector);
        this.optimizer = new CpuOptimizer(vector);
    }

    /**
     * Whether this JVM can run the vector kernels: {@code jdk.incubator.vector} is present and
     * {@code -Djacobian.cpu.vector=false} was not given.
     */
    public static boolean vectorAvailable() {
        return VectorSupport.available();
    }

    /** Whether this instance runs the vector kernels. */
    public boolean usesVector() {
        return vector;
    }

    /** Worker threads this instance uses for SGEMM, the caller included. */
    public int threads() {
        return parallel.threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String deviceDescription() {
        String simd = vector ? VectorInfo.describe() : "scalar kernels";
        return "CPU, " + parallel.threads() + " thread(s), " + simd + " (" + System.getProperty("os.arch") + ", "
                + System.getProperty("java.vm.name") + " " + Runtime.version() + ")";
    }


    private float[] d(Tensor t) {
        return data(t);
    }

    private float[] dOrNull(Tensor t) {
        return t == null ? null : d(t);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    protected void closeResources() {
        parallel.close();
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void fill(Tensor x, float value) {
        Arrays.fill(d(x), 0, x.size(), value);
    }

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        Checks.sameSize("axpby", x, y);
        elementwise.axpby(alpha, d(x), beta, d(y), x.size());
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor c) {
        Checks.binary(op, a, b, c);
        elementwise.binary(op, d(a), d(b), d(c), a.size());
    }

    @Override
    public void binaryBackward(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad, boolean accumulate) {
        Checks.binaryBackward(op, operand, a, b, dc, grad);
        elementwise.binaryBackward(op, operand, d(a), d(b), d(dc), d(grad), a.size(), accumulate);
    }

    @Override
    public void activation(Activation f, float param, Tensor x, Tensor y) {
        Checks.sameSize("activation " + f, x, y);
        elementwise.activation(f, param, d(x), d(y), x.size());
    }

    @Override
    public void activationBackward(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.activationBackward(f, x, y, dy, dx);
        elementwise.activationBackward(f, param, d(x), d(y), d(dy), d(dx), x.size(), accumulate);
    }

    @Override
    public void biasActivation(Tensor x, Tensor bias, Activation f, float param, Tensor y) {
        Checks.rowVectorOp("biasActivation", x, bias, y);
        elementwise.biasActivation(d(x), d(bias), f, param, d(y), x.rows(), x.cols());
    }

    @Override
    public void addRowVector(Tensor x, Tensor bias, Tensor y) {
        Checks.rowVectorOp("addRowVector", x, bias, y);
        elementwise.addRowVector(d(x), d(bias), d(y), x.rows(), x.cols());
    }

    @Override
    public void prelu(Tensor x, Tensor slope, Tensor y) {
        Checks.rowVectorOp("prelu", x, slope, y);
        elementwise.prelu(d(x), d(slope), d(y), x.rows(), x.cols());
    }

    @Override
    public void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                              Tensor dslope, boolean accumulateDslope) {
        Checks.preluBackward(x, slope, dy, dx, dslope);
        elementwise.preluBackward(d(x), d(slope), d(dy), dOrNull(dx), accumulateDx, dOrNull(dslope),
                accumulateDslope, x.rows(), x.cols());
    }

    @Override
    public void maxout(int pieces, Tensor z, Tensor y) {
        Checks.maxout("maxout", pieces, z, y);
        CpuElementwise.maxout(pieces, d(z), d(y), y.rows(), y.cols());
    }

    @Override
    public void maxoutBackward(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        Checks.maxoutBackward(pieces, z, dy, dz);
        CpuElementwise.maxoutBackward(pieces, d(z), d(dy), d(dz), dy.rows(), dy.cols(), accumulate);
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int[] mnk = Checks.gemm(transA, transB, a, b, c);
        matmul.gemm(transA, transB, mnk[0], mnk[1], mnk[2], alpha, d(a), a.cols(), d(b), b.cols(), beta, d(c));
    }

    // ---------------------------------------------------------------- reductions, softmax, losses

    @Override
    public void reduce(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        Checks.reduce(op, axis, x, y, accumulate);
        reduce.reduce(op, axis, d(x), d(y), x.rows(), x.cols(), accumulate);
    }

    @Override
    public void reduceBackward(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.reduceBackward(op, axis, x, y, dy, dx);
        reduce.reduceBackward(op, axis, d(x), d(dy), d(dx), x.rows(), x.cols(), accumulate);
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Checks.sameMatrix("softmax", x, y);
        reduce.softmax(d(x), d(y), x.rows(), x.cols());
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        Checks.softmaxBackward(y, dy, dx);
        reduce.softmaxBackward(d(y), d(dy), d(dx), y.rows(), y.cols(), accumulate);
    }

    @Override
    public void rowLoss(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        Checks.rowLoss("rowLoss", kind, pred, target, out);
        reduce.rowLoss(kind, d(pred), d(target), d(out), pred.rows(), pred.cols());
    }

    @Override
    public void rowLossBackward(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        Checks.rowLossBackward(kind, pred, target, dout, dpred);
        reduce.rowLossBackward(kind, d(pred), d(target), d(dout), d(dpred), pred.rows(), pred.cols(), accumulate);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate update) {
        Checks.sgdUpdate(param, grad, velocity, gradNormSq, update);
        float normSq = gradNormSq == null ? 0f : d(gradNormSq)[0];
        if (!Float.isFinite(normSq)) {
            return; // the NaN guard: a non-finite step never reaches the weights
        }
        optimizer.sgd(d(param), d(grad), dOrNull(velocity), param.size(), update.clipScale(normSq), update);
    }
}
