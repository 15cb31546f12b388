package dev.jacobian.train;

import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Executor;
import dev.jacobian.metrics.MetricMode;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Stops training when a monitored metric has not improved for {@code patience} epochs, and puts back the
 * parameters of the best epoch, as Keras' {@code EarlyStopping(monitor, min_delta, patience,
 * restore_best_weights=True)}: an epoch improves when its value beats the best by more than {@code minDelta}
 * ({@link MetricMode#improvesAbsolute}; NaN never improves); after {@code patience} epochs in a row without
 * improvement it asks to stop.
 *
 * <p><b>Best weights stay on the device.</b> On each improvement the executor's parameter arena
 * ({@link Executor#parameterArena()}: every parameter, one buffer) and its buffers ({@link Executor#buffers()}:
 * batch norm's running statistics, which belong with the weights they were measured on, as Keras'
 * {@code restore_best_weights} keeps its non-trainable weights) are copied into one device tensor, one backend
 * copy each; at the end ({@link #restoreBest}, called from {@code onTrainEnd} whether training stopped early or
 * not) they are copied back. Nothing crosses to the host. The optimizer's state keeps its last values.
 *
 * <p>Used as a {@link TrainingListener} of a {@link TrainingLoop}, or driven by a loop of one's own through
 * {@link #update} and {@link #restoreBest}. {@link #state()} / {@link #loadState} carry the counters over a
 * resume; the best weights themselves can be saved with {@link #bestWeights()} and put back with
 * {@link #loadBestWeights}. Owns the device copy (freed by {@link #close()}). Not thread-safe.
 */
public final class EarlyStopping implements TrainingListener, AutoCloseable {
    /** State key of the best value. */
    public static final String BEST = "best";
    /** State key of the epoch of the best value (0: none yet). */
    public static final String BEST_EPOCH = "best_epoch";
    /** State key of the epochs in a row without improvement. */
    public static final String WAIT = "wait";

    private final Monitor monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBestWeights;
    private double best;
    private int bestEpoch;
    private int wait;
    private Tensor bestArena;
    private Executor bound;

    /**
     * Early stopping on {@code monitor}.
     *
     * @param monitor            the value watched, e.g. {@link Monitor#VALIDATION_LOSS}
     * @param patience           epochs without improvement before stopping, &gt;= 1
     * @param minDelta           the least change that counts as an improvement, finite and &gt;= 0
     * @param restoreBestWeights whether to keep a device copy of the best parameters and put it back at the end
     */
    public EarlyStopping(Monitor monitor, int patience, double minDelta, boolean restoreBestWeights) {
        this.monitor = java.util.Objects.requireNonNull(monitor, "monitor");
        if (patience < 1) {
            throw new IllegalArgumentException("patience must be >= 1: " + patience);
        }
        if (!(minDelta >= 0) || !Double.isFinite(minDelta)) {
            throw new IllegalArgumentException("minDelta must be finite and >= 0: " + minDelta);
        }
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBestWeights = restoreBestWeights;
        this.best = monitor.mode().worst();
    }

    /** Early stopping on {@code monitor} with {@code minDelta = 0} and best-weights restore. */
    public EarlyStopping(Monitor monitor, int patience) {
        this(monitor, patience, 0, true);
    }

    /** The value watched. */
    public Monitor monitor() {
        return monitor;
    }

    /** Epochs without improvement before stopping. */
    public int patience() {
        return patience;
    }

    /** The best monitored value so far ({@link MetricMode#worst()} before any epoch). */
    public double best() {
        return best;
    }

    /** The epoch of the best value, 0 before any improvement. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** Epochs in a row without improvement. */
    public int waited() {
        return wait;
    }

    /** Whether the patience is spent. */
    public boolean shouldStop() {
        return wait >= patience;
    }

    /**
     * Records epoch {@code epoch}'s monitored {@code value}; on an improvement copies {@code exec}'s parameter
     * arena to the device-side best copy (when restoring best weights).
     *
     * @return whether to stop: {@code patience} epochs in a row without improvement
     */
    public boolean update(Executor exec, int epoch, double value) {
        if (monitor.mode().improvesAbsolute(value, best, minDelta)) {
            best = value;
            bestEpoch = epoch;
            wait = 0;
            if (restoreBestWeights) {
                Tensor copy = bestCopy(exec);
                int at = exec.layout().size();
                exec.backend().copy(exec.parameterArena(), 0, copy, 0, at);
                for (Buffer b : exec.buffers()) {
                    Tensor t = exec.buffer(b);
                    exec.backend().copy(t, 0, copy, at, t.size());
                    at += t.size();
                }
            }
        } else {
            wait++;
        }
        return shouldStop();
    }

    private Tensor bestCopy(Executor exec) {
        if (bound != null && bound != exec) {
            throw new IllegalArgumentException("this early stopping already keeps another executor's weights");
        }
        if (bestArena == null) {
            bound = exec;
            bestArena = exec.backend().allocate(Shape.of(bestSize(exec)));
        }
        return bestArena;
    }

    /** The parameter arena's size plus every buffer's. */
    private static int bestSize(Executor exec) {
        long n = exec.layout().size();
        for (Buffer b : exec.buffers()) {
            n += b.shape().size();
        }
        return Math.toIntExact(n);
    }

    /**
     * Copies the best epoch's parameters and buffers back into {@code exec} (device copies); does nothing when
     * no epoch improved or best weights are not kept.
     *
     * @return whether weights were restored
     */
    public boolean restoreBest(Executor exec) {
        if (bestArena == null) {
            return false;
        }
        if (bound != exec) {
            throw new IllegalArgumentException("the best weights belong to another executor");
        }
        int at = exec.layout().size();
        exec.backend().copy(bestArena, 0, exec.parameterArena(), 0, at);
        for (Buffer b : exec.buffers()) {
            Tensor t = exec.buffer(b);
            exec.backend().copy(bestArena, at, t, 0, t.size());
            at += t.size();
        }
        return true;
    }

    /**
     * A host copy of the best parameters and buffers, for a checkpoint: the whole parameter arena followed by
     * every buffer in {@link Executor#buffers()} order; null when none is kept.
     */
    public float[] bestWeights() {
        return bestArena == null ? null : bestArena.download();
    }

    /**
     * Restores a {@link #bestWeights()} copy (after a resume): the parameter arena's size plus every buffer's
     * floats, each finite.
     *
     * @throws IllegalArgumentException when the count is wrong or a value is NaN or infinite (restoring them would
     *     make every prediction NaN); nothing is loaded then
     */
    public void loadBestWeights(Executor exec, float[] arena) {
        if (arena.length != bestSize(exec)) {
            throw new IllegalArgumentException("best weights must have " + bestSize(exec)
                    + " values (the parameter arena and the buffers): " + arena.length);
        }
        int bad = dev.jacobian.backend.Checks.firstNonFinite(arena);
        if (bad >= 0) {
            throw new IllegalArgumentException("best weights: value " + bad + " is " + arena[bad]
                    + "; weights must be finite");
        }
        bestCopy(exec).upload(arena);
    }

    /** The counters a resumed run needs: {@value #BEST}, {@value #BEST_EPOCH}, {@value #WAIT}. */
    public Map<String, Double> state() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put(BEST, best);
        s.put(BEST_EPOCH, (double) bestEpoch);
        s.put(WAIT, (double) wait);
        return s;
    }

    /** Restores {@link #state()}; a missing, unknown or invalid key is an {@link IllegalArgumentException}. */
    public void loadState(Map<String, Double> state) {
        Set<String> keys = Set.of(BEST, BEST_EPOCH, WAIT);
        if (!state.keySet().equals(keys)) {
            throw new IllegalArgumentException("early stopping state must have the keys " + keys + ": " + state.keySet());
        }
        int e = wholeNumber(state, BEST_EPOCH);
        int w = wholeNumber(state, WAIT);
        Double b = state.get(BEST);
        if (b == null || Double.isNaN(b)) {
            throw new IllegalArgumentException("early stopping state " + BEST + " must be a number: " + b);
        }
        best = b;
        bestEpoch = e;
        wait = w;
    }

    /** {@code state}'s {@code key}: a whole number in {@code [0, Integer.MAX_VALUE]}. */
    private static int wholeNumber(Map<String, Double> state, String key) {
        Double v = state.get(key);
        if (v == null || !(v >= 0) || v != Math.rint(v) || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("early stopping state " + key + " must be a whole number in [0, "
                    + Integer.MAX_VALUE + "]: " + v);
        }
        return v.intValue();
    }

    @Override
    public void onEpochEnd(TrainingLoop loop, EpochMetrics metrics) {
        if (update(loop.trainer().model().executor(), metrics.epoch(), monitor.of(metrics))) {
            loop.requestStop("early stopping: " + monitor + " did not improve for " + patience + " epochs (best "
                    + best + " in epoch " + bestEpoch + ")");
        }
    }

    @Override
    public void onTrainEnd(TrainingLoop loop, FitResult result) {
        restoreBest(loop.trainer().model().executor());
    }

    @Override
    public void close() {
        if (bestArena != null) {
            bestArena.close();
            bestArena = null;
        }
    }
}
