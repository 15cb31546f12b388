package dev.jacobian.parallel;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ParameterLayout;
import dev.jacobian.nn.Model;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One copy of a model taking part in data-parallel training: it takes the leader's parameters, runs forward and
 * backward on a shard of the batch, and reads the shard's gradient arena back to the host. It never updates its own
 * parameters; the {@link Leader} does, from the sum of every shard's gradient, and the next step starts from the
 * leader's parameters. One thread at a time.
 */
public final class Replica implements AutoCloseable {
    private final Model model;
    private final Packing packing;
    /** The arena's host image when it has gaps (zeros, never written there); null when packed already. */
    private final float[] arena;
    private final int size;
    /** Arg-max tensors per batch size, for the predictions. */
    private final Map<Integer, Tensor> argmax = new HashMap<>();
    /** The model's buffers (batch norm's running statistics) as {@link #saveBuffers()} took them; null until then. */
    private float[] savedBuffers;

    /** A replica of {@code model}, which it owns from now on ({@link #close()} closes it). */
    public Replica(Model model) {
        this.model = Objects.requireNonNull(model, "model");
        this.packing = Packing.of(model.executor().layout());
        this.arena = packing.identity() ? null : new float[packing.arenaSize()];
        this.size = packing.packedSize();
    }

    /** The model this replica runs. */
    public Model model() {
        return model;
    }

    /**
     * The number of parameter values: the length of the packed arrays a replica exchanges (every parameter in the
     * arena's order, without the gaps a backend's alignment leaves between them).
     */
    public int parameterCount() {
        return size;
    }

    /**
     * Checks that {@code other} has this replica's parameters, in the same order and shapes, so that their packed
     * parameters and gradients can be exchanged value for value (whatever each backend's alignment).
     *
     * @throws IllegalArgumentException naming the first difference
     */
    public void checkSameLayout(Model other) {
        ParameterLayout mine = model.executor().layout();
        ParameterLayout theirs = other.executor().layout();
        int theirSize = Packing.of(theirs).packedSize();
        if (mine.order().size() != theirs.order().size() || size != theirSize) {
            throw new IllegalArgumentException("data parallel: replicas differ: " + mine.order().size() + " parameters ("
                    + size + " values) against " + theirs.order().size() + " (" + theirSize + ")");
        }
        for (int i = 0; i < mine.order().size(); i++) {
            Parameter a = mine.order().get(i);
            Parameter b = theirs.order().get(i);
            if (!a.name().equals(b.name()) || !a.shape().equals(b.shape())) {
                throw new IllegalArgumentException("data parallel: replicas differ at parameter " + i + ": " + a.name()
                        + " " + a.shape() + " against " + b.name() + " " + b.shape());
            }
        }
    }

    /** Uploads {@code values} (every parameter, packed: e.g. the leader's) into this replica's parameters. */
    public void setParameters(float[] values) {
        if (values.length != size) {
            throw new IllegalArgumentException("data parallel: " + values.length + " parameter values for a model of "
                    + size);
        }
        upload(values, model.executor().parameterArena());
    }

    /** Downloads this replica's parameters, packed, into {@code out} (length {@link #parameterCount()}). */
    public void parameters(float[] out) {
        if (out.length != size) {
            throw new IllegalArgumentException("data parallel: room for " + out.length + " values, the model has " + size);
        }
        download(model.executor().parameterArena(), out);
    }

    /** Writes packed {@code values} into an arena-shaped tensor of this replica's model. */
    void upload(float[] values, Tensor arenaTensor) {
        if (arena == null) {
            model.backend().upload(values, 0, arenaTensor, 0, size);
        } else {
            packing.unpack(values, arena);
            model.backend().upload(arena, 0, arenaTensor, 0, arena.length);
        }
    }

    /** Reads an arena-shaped tensor of this replica's model into packed {@code out}. */
    private void download(Tensor arenaTensor, float[] out) {
        if (arena == null) {
            model.backend().download(arenaTensor, 0, out, 0, size);
        } else {
            model.backend().download(arenaTensor, 0, arena, 0, arena.length);
            packing.pack(arena, out);
        }
    }

    /**
     * Forward and backward on {@code rows} samples from {@code firstRow} (in training mode, as
     * {@link dev.jacobian.train.Trainer#step} runs them) and the shard's gradient arena downloaded, packed, into
     * {@code gradient}: the gradient of the shard's mean loss. Before the forward, the random stream (dropout) is put
     * at position {@code stream}, so a shard draws the same masks whichever replica computes it.
     *
     * @return the shard's mean loss
     */
    public float gradient(float[] x, float[] targets, int firstRow, int rows, long stream, float[] gradient) {
        return gradient(x, targets, firstRow, rows, stream, gradient, null, 0);
    }

    /**
     * {@link #gradient(float[], float[], int, int, long, float[])} that also writes the shard's predicted classes (the
     * arg-max of its scores, computed on the device and read back with the loss) into {@code predictions} from
     * {@code at}, when {@code predictions} is not null.
     *
     * @return the shard's mean loss
     */
    public float gradient(float[] x, float[] targets, int firstRow, int rows, long stream, float[] gradient,
                          int[] predictions, int at) {
        if (predictions != null) {
            java.util.Objects.checkFromIndexSize(at, rows, predictions.length);
        }
        if (gradient.length != size) {
            throw new IllegalArgumentException("data parallel: room for " + gradient.length + " gradient values, the model has "
                    + size);
        }
        Executor exec = model.executor();
        Backend b = exec.backend();
        model.checkTargets(targets, firstRow, rows);
        exec.setForwardCount(stream);
        exec.feed(model.input(), x, firstRow, rows);
        exec.feed(model.targets(), targets, firstRow, rows);
        Tensor loss = exec.forward(model.loss(), rows);
        float[] read;
        if (predictions == null) {
            exec.backward();
            read = b.readLater(loss).await();
        } else {
            // the scores are overwritten by nothing until the next forward; take their arg-max now
            Tensor classes = argmax.computeIfAbsent(rows, r -> b.allocate(Shape.matrix(r, 1)));
            b.reduce(Reduction.ARGMAX, Axis.COLS, exec.value(model.logits()), classes, false);
            exec.backward();
            read = b.readLater(loss, classes).await();
            for (int i = 0; i < rows; i++) {
                predictions[at + i] = (int) read[1 + i];
            }
        }
        download(exec.gradientArena(), gradient);
        return read[0];
    }

    /**
     * The number of buffer values (batch norm's running statistics and batch counts): the length of the packed arrays
     * of {@link #buffers()} and {@link #setBuffers}, every buffer in the executor's order. 0 for a model without any.
     */
    public int bufferCount() {
        long n = 0;
        Executor exec = model.executor();
        for (dev.jacobian.graph.Buffer b : exec.buffers()) {
            n += exec.buffer(b).size();
        }
        return Math.toIntExact(n);
    }

    /** The model's buffers, packed in the executor's order into a new array of {@link #bufferCount()} values. */
    public float[] buffers() {
        Executor exec = model.executor();
        float[] out = new float[bufferCount()];
        int at = 0;
        for (dev.jacobian.graph.Buffer b : exec.buffers()) {
            Tensor t = exec.buffer(b);
            model.backend().download(t, 0, out, at, t.size());
            at += t.size();
        }
        return out;
    }

    /**
     * Writes packed buffers ({@link #buffers()} of a replica with the same layout, e.g. the leader's) into the model.
     *
     * @throws IllegalArgumentException when {@code values} does not hold {@link #bufferCount()} values
     */
    public void setBuffers(float[] values) {
        int n = bufferCount();
        if (values.length != n) {
            throw new IllegalArgumentException("data parallel: " + values.length + " buffer values for a model of " + n);
        }
        Executor exec = model.executor();
        int at = 0;
        for (dev.jacobian.graph.Buffer b : exec.buffers()) {
            Tensor t = exec.buffer(b);
            model.backend().upload(values, at, t, 0, t.size());
            at += t.size();
        }
    }

    /** Keeps a host copy of the model's buffers, for {@link #restoreBuffers()}. */
    void saveBuffers() {
        savedBuffers = buffers();
    }

    /** Writes the buffers {@link #saveBuffers()} kept back into the model. */
    void restoreBuffers() {
        setBuffers(savedBuffers);
    }

    /** Closes the model (its tensors); the backend stays open: its owner closes it. */
    @Override
    public void close() {
        argmax.values().forEach(Tensor::close);
        argmax.clear();
        model.close();
    }
}
