package dev.jacobian.spark;

import dev.jacobian.graph.Executor;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.parallel.Leader;
import dev.jacobian.parallel.Replica;
import dev.jacobian.parallel.Shards;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

/**
 * Data-parallel training on Apache Spark: {@code workers} tasks, each with a model replica on its executor's
 * backend, and the leader (model and optimizer) on the driver.
 *
 * <h2>Per-step mode (synchronous SGD)</h2>
 * Each step is one Spark job of {@code workers} tasks. The driver broadcasts the leader's parameters; task {@code p}
 * computes the gradient of its shard of the batch on its replica and sends it back; the driver sums the gradients in
 * partition order, weighted by the shards' sizes ({@link Shards#weightedSum}: the order is fixed, whatever order the
 * tasks finish in), and the leader's optimizer takes one step, clipping the summed gradient. It is the arithmetic of
 * {@link dev.jacobian.parallel.DataParallel} with one shard per task: on backends of one kind the two are
 * bit-identical. The batch comes from the driver ({@link #step}) or from shards the executors hold
 * ({@link #fitPerStep}).
 *
 * <h2>Averaging mode</h2>
 * {@link #fitAveraging}: each task takes {@code k} local steps on its shard with an optimizer of its own, starting
 * from the leader's parameters and optimizer state, and the driver averages the parameters and the optimizer states
 * (as Deeplearning4j's parameter averaging does): one exchange per {@code k} steps, for clusters where an exchange
 * per step costs more than a step.
 *
 * <h2>Failures</h2>
 * A task computes from what the driver sends (the parameters, the step, the batch or the shard), so a retried task
 * computes the same thing: Spark's retry of a failed task (up to {@code spark.task.maxFailures}; in local mode give
 * it as {@code local[N,F]}) leaves the result unchanged. When Spark gives up, the step throws
 * {@link IllegalStateException} naming the step and the cause, and the leader is left as the previous step left it.
 *
 * <h2>Replicas</h2>
 * The replicas live on the executors between steps, in a pool that Spark ships once as a broadcast variable (see
 * {@link ReplicaPool}); {@link #close()} closes them with one cleanup task per worker (in local mode, every replica; on a
 * cluster, those of the executors its tasks land on: the others' are dropped with the pool, and their CPU backends'
 * threads are daemons that do not keep an executor alive) and destroys the pool.
 *
 * <p>The leader model and its optimizer are the caller's (as for {@link Trainer}); the driver's thread drives it.
 */
public final class SparkDataParallel implements AutoCloseable {
    private final JavaSparkContext sc;
    private final int workers;
    private final Leader leader;
    private final Broadcast<ReplicaPool> pool;
    private final TaskHook hook;
    private final float[] parameters;
    private final float[] sum;
    private long exchanges;
    private long jobNanos;
    private long taskNanos;
    private boolean closed;
    private boolean trackPredictions;

    private SparkDataParallel(JavaSparkContext sc, int workers, Model leader, Optimizer optimizer,
                              BackendFactory backends, ModelFactory models, TaskHook hook) {
        this.sc = sc;
        this.workers = workers;
        this.leader = new Leader(leader, optimizer);
        this.hook = hook;
        this.parameters = new float[this.leader.parameterCount()];
        this.sum = new float[parameters.length];
        this.pool = broadcast(sc, new ReplicaPool(backends, models));
    }

    /** The pool as a broadcast variable; a factory the serializer refuses is an {@link IllegalArgumentException}. */
    private static Broadcast<ReplicaPool> broadcast(JavaSparkContext sc, ReplicaPool pool) {
        try {
            return sc.broadcast(pool); // serializes the factories now
        } catch (Exception e) { // Spark rethrows the serializer's checked NotSerializableException undeclared
            if (e instanceof java.io.NotSerializableException) {
                throw new IllegalArgumentException("spark data parallel: the backend or model factory cannot be"
                        + " serialized (" + firstLine(e.toString()) + "); Spark ships them to the executors: build"
                        + " them from serializable parts (e.g. a reference to a static method)", e);
            }
            throw e;
        }
    }

    /**
     * A trainer of {@code leader} (on the driver, updated by {@code optimizer}) with {@code workers} tasks, each
     * holding a replica built by {@code models} on a backend from {@code backends}.
     *
     * @throws IllegalArgumentException when {@code workers < 1}
     */
    public static SparkDataParallel create(JavaSparkContext sc, int workers, Model leader, Optimizer optimizer,
                                           BackendFactory backends, ModelFactory models) {
        return create(sc, workers, leader, optimizer, backends, models, null);
    }

    /** {@link #create(JavaSparkContext, int, Model, Optimizer, BackendFactory, ModelFactory)} with a {@link TaskHook}. */
    public static SparkDataParallel create(JavaSparkContext sc, int workers, Model leader, Optimizer optimizer,
                                           BackendFactory backends, ModelFactory models, TaskHook hook) {
        Objects.requireNonNull(sc, "spark context");
        Objects.requireNonNull(leader, "leader");
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(backends, "backend factory");
        Objects.requireNonNull(models, "model factory");
        if (workers < 1) {
            throw new IllegalArgumentException("spark data parallel: workers must be at least 1: " + workers);
        }
        return new SparkDataParallel(sc, workers, leader, optimizer, backends, models, hook);
    }

    /** The leader's model, on the driver: it holds the trained parameters. */
    public Model model() {
        return leader.model();
    }

    /** The leader's optimizer. */
    public Optimizer optimizer() {
        return leader.optimizer();
    }

    /**
     * Whether each step also reports its batch's predicted classes (each task's arg-max, sent back with its
     * gradient), as {@link Trainer#trackPredictions} does. Off by default.
     */
    public SparkDataParallel trackPredictions(boolean on) {
        this.trackPredictions = on;
        return this;
    }

    /** The number of tasks per exchange. */
    public int workers() {
        return workers;
    }

    /** Exchanges so far: steps in per-step mode, rounds in averaging mode. */
    public long exchanges() {
        return exchanges;
    }

    /** Nanoseconds the driver spent in Spark jobs so far (broadcast, scheduling, the tasks, the results' return). */
    public long jobNanos() {
        return jobNanos;
    }

    /**
     * Nanoseconds of the slowest task per job, summed so far: the computing inside the jobs. {@link #jobNanos()} minus
     * this is what the exchange through Spark cost.
     */
    public long taskNanos() {
        return taskNanos;
    }

    // ------------------------------------------------------------------ per step, batch from the driver

    /**
     * One synchronous step on {@code rows} samples from {@code firstRow} of {@code x} and {@code targets} (laid out as
     * for {@link Trainer#step}): the batch is cut into {@link #workers()} contiguous shards ({@link Shards#start}), one
     * per task.
     *
     * @throws IllegalArgumentException when the batch has fewer rows than workers, {@code x} and {@code targets} do
     *                                  not hold the same number of samples ({@link Model#checkSamples}), the rows do
     *                                  not fit in them, or bad targets
     * @throws NonFiniteLossException   when the loss or the summed gradient's norm is not finite
     * @throws IllegalStateException    when Spark gives up on a task (the leader is then as the previous step left it)
     */
    public StepResult step(float[] x, float[] targets, int firstRow, int rows) {
        ensureOpen();
        if (rows < workers) {
            throw new IllegalArgumentException("spark data parallel: a batch of " + rows + " samples cannot be cut into "
                    + workers + " shards");
        }
        Model m = leader.model();
        // as DataParallel does: the shards are cut with copyOfRange, which would pad a short array with zeros
        m.checkSamples("spark data parallel", x, targets);
        int samples = x.length / m.inputSize();
        if (firstRow < 0 || (long) firstRow + rows > samples) {
            throw new IllegalArgumentException("spark data parallel: rows [" + firstRow + ", " + ((long) firstRow + rows)
                    + ") do not fit in a batch of " + samples + " samples");
        }
        m.checkTargets(targets, firstRow, rows); // here, not only in the tasks: Spark would retry a bad batch, then wrap it
        int in = m.inputSize();
        int tc = m.targetColumns();
        List<LocalBatch> parts = new ArrayList<>(workers);
        for (int p = 0; p < workers; p++) {
            int from = firstRow + Shards.start(rows, workers, p);
            int to = firstRow + Shards.start(rows, workers, p + 1);
            parts.add(new LocalBatch(Arrays.copyOfRange(x, from * in, to * in),
                    Arrays.copyOfRange(targets, from * tc, to * tc), to - from));
        }
        JavaRDD<LocalBatch> batch = sc.parallelize(parts, workers);
        return exchange(batch, rows, (p, it, s) -> it.next());
    }

    // ------------------------------------------------------------------ per step, data on the executors

    /** What a caller learns after each step or round of a fit. */
    @FunctionalInterface
    public interface Listener {
        /** After exchange {@code exchange} of epoch {@code epoch}: its mean loss. */
        void after(int epoch, long exchange, float loss);
    }

    /**
     * Synchronous data-parallel SGD on data the executors hold: {@code epochs} epochs, each of
     * {@code data.minRows() / localBatch} steps; at each step every task takes the next {@code localBatch} samples of
     * its shard (in {@link Shard#order}), so the global batch is {@code workers * localBatch}.
     *
     * @return the mean loss of the last epoch
     * @throws IllegalArgumentException when {@code data} has another number of partitions than {@link #workers()},
     *                                  or a shard is smaller than {@code localBatch}
     */
    public float fitPerStep(ShardedData data, int epochs, int localBatch, long seed, Listener listener) {
        ensureOpen();
        checkData(data, localBatch);
        int steps = data.minRows() / localBatch;
        float last = Float.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double total = 0;
            for (int s = 0; s < steps; s++) {
                int e = epoch;
                int step = s;
                StepResult r = exchange(data.rdd(), workers * localBatch,
                        (p, it, unused) -> it.next().batch(seed, e, step, localBatch));
                total += r.loss();
                if (listener != null) {
                    listener.after(epoch, exchanges, r.loss());
                }
            }
            last = (float) (total / steps);
        }
        return last;
    }

    private void checkData(ShardedData data, int localBatch) {
        if (data.partitions() != workers) {
            throw new IllegalArgumentException("spark data parallel: data in " + data.partitions()
                    + " partitions for " + workers + " workers");
        }
        if (localBatch < 1 || data.minRows() < localBatch) {
            throw new IllegalArgumentException("spark data parallel: a local batch of " + localBatch
                    + " samples does not fit in a shard of " + data.minRows());
        }
    }

    /** Picks a task's local batch from its partition's element. */
    @FunctionalInterface
    private interface BatchOf<T> extends java.io.Serializable {
        LocalBatch of(int partition, Iterator<T> elements, long exchange);
    }

    /** One per-step exchange over {@code rdd}: gradients from the tasks, their sum, the leader's update. */
    private <T> StepResult exchange(JavaRDD<T> rdd, int rows, BatchOf<T> batchOf) {
        leader.parameters(parameters);
        Executor exec = leader.model().executor();
        long stream = exec.forwardCount();
        long exchange = exchanges + 1;
        Broadcast<StepInput> params = sc.broadcast(new StepInput(parameters.clone(), leader.buffers()));
        List<ShardGradient> results = job(rdd, gradientTask(params, pool, stream, exchange, hook, trackPredictions,
                batchOf), params, exchange, ShardGradient::partition);
        List<float[]> parts = new ArrayList<>(workers);
        double[] weights = new double[workers];
        float[] losses = new float[workers];
        long slowest = 0;
        for (ShardGradient g : results) {
            parts.add(g.gradient());
            weights[g.partition()] = (double) g.rows() / rows;
            losses[g.partition()] = g.loss();
            slowest = Math.max(slowest, g.computeNanos());
        }
        taskNanos += slowest;
        Shards.weightedSum(parts, weights, sum);
        exec.setForwardCount(stream + workers);
        exchanges++;
        float[] buffers = results.get(0).buffers();
        if (buffers != null) { // what shard 0's forward made of the leader's, as DataParallel keeps them
            leader.setBuffers(buffers);
        }
        StepResult r = leader.apply(sum, Shards.weightedSum(losses, weights));
        if (!trackPredictions) {
            return r;
        }
        int[] classes = new int[rows];
        int at = 0;
        for (ShardGradient g : results) {
            System.arraycopy(g.predictions(), 0, classes, at, g.rows());
            at += g.rows();
        }
        return new StepResult(r.step(), r.loss(), r.gradNorm(), r.clipped(), classes);
    }

    /**
     * What every task of a per-step exchange needs.
     *
     * @param parameters the leader's packed parameters
     * @param buffers    the leader's packed buffers (batch norm's running statistics; empty when the model has none)
     */
    record StepInput(float[] parameters, float[] buffers) implements java.io.Serializable {
    }

    private static <T> Function2<Integer, Iterator<T>, Iterator<ShardGradient>> gradientTask(
            Broadcast<StepInput> params, Broadcast<ReplicaPool> pool, long stream, long exchange, TaskHook hook,
            boolean predict, BatchOf<T> batchOf) {
        return (p, elements) -> {
            if (hook != null) {
                hook.beforeTask(exchange, p, TaskContext.get().attemptNumber());
            }
            LocalBatch b = batchOf.of(p, elements, exchange);
            ReplicaPool replicas = pool.value();
            ReplicaPool.Held h = replicas.take(p);
            try {
                long t0 = System.nanoTime();
                Replica r = h.replica();
                StepInput in = params.value();
                r.setParameters(in.parameters());
                boolean buffered = in.buffers().length > 0;
                if (buffered) {
                    r.setBuffers(in.buffers());
                }
                float[] g = new float[r.parameterCount()];
                int[] classes = predict ? new int[b.rows()] : null;
                float loss = r.gradient(b.x(), b.targets(), 0, b.rows(), stream + p, g, classes, 0);
                ShardGradient out = new ShardGradient(p, b.rows(), loss, g, System.nanoTime() - t0, classes,
                        buffered && p == 0 ? r.buffers() : null);
                replicas.give(p, h);
                return List.of(out).iterator();
            } catch (RuntimeException | Error e) {
                replicas.discard(h);
                throw e;
            }
        };
    }

    // ------------------------------------------------------------------ averaging every k steps

    /**
     * Parameter averaging on data the executors hold: {@code epochs} epochs of {@code data.minRows() / localBatch}
     * local steps per task, in rounds of {@code every} steps. A round starts every task from the leader's parameters
     * and optimizer state (a new optimizer from {@code optimizers} takes that state and the leader's learning rate),
     * runs its steps with {@link Trainer}, and the driver averages the tasks' parameters and optimizer states in
     * partition order into the leader. With {@code every = 1}, plain SGD and no clipping this is per-step SGD (the
     * average of the updates is the update of the average gradient); larger {@code every} exchanges less.
     *
     * @return the mean loss of the last epoch's local steps
     * @throws NonFiniteLossException   when a task's loss or gradient norm is not finite (the round is not applied)
     * @throws IllegalArgumentException when the state of {@code optimizers}' optimizers does not fit the leader's
     *                                  optimizer (another kind): the round is not applied
     */
    public float fitAveraging(ShardedData data, int epochs, int localBatch, int every, long seed,
                              OptimizerFactory optimizers, Listener listener) {
        ensureOpen();
        checkData(data, localBatch);
        if (every < 1) {
            throw new IllegalArgumentException("spark data parallel: average every " + every + " steps");
        }
        Objects.requireNonNull(optimizers, "optimizer factory");
        int steps = data.minRows() / localBatch;
        Executor exec = leader.model().executor();
        float last = Float.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double total = 0;
            for (int first = 0; first < steps; first += every) {
                int k = Math.min(every, steps - first);
                leader.parameters(parameters);
                Map<String, float[]> state = new HashMap<>(leader.optimizer().state(exec));
                long stream = exec.forwardCount();
                long exchange = exchanges + 1;
                Broadcast<RoundInput> input = sc.broadcast(new RoundInput(parameters.clone(), leader.buffers(), state,
                        leader.optimizer().learningRate(), epoch, first, k, localBatch, seed, stream));
                List<RoundResult> results = job(data.rdd(), roundTask(input, pool, optimizers, exchange, hook), input,
                        exchange, RoundResult::partition);
                double lossSum = 0;
                long slowest = 0;
                for (RoundResult r : results) {
                    slowest = Math.max(slowest, r.computeNanos());
                    if (r.nonFinite()) {
                        throw new NonFiniteLossException(exchange, Float.NaN, Float.NaN, true);
                    }
                    lossSum += r.lossSum();
                }
                taskNanos += slowest;
                double[] equal = new double[workers];
                Arrays.fill(equal, 1.0 / workers);
                Shards.weightedSum(results.stream().map(RoundResult::parameters).toList(), equal, sum);
                Map<String, float[]> averaged = new HashMap<>();
                for (String key : results.get(0).state().keySet()) {
                    List<float[]> parts = results.stream().map(r -> r.state().get(key)).toList();
                    float[] avg = new float[parts.get(0).length];
                    Shards.weightedSum(parts, equal, avg);
                    averaged.put(key, avg);
                }
                leader.setParameters(sum); // refuses non-finite values before it writes any
                if (!averaged.isEmpty()) {
                    try { // loadState checks every entry before it writes any
                        leader.optimizer().loadState(exec, averaged);
                    } catch (IllegalArgumentException e) {
                        leader.setParameters(parameters); // the round's start, as the leader had them
                        throw new IllegalArgumentException("spark data parallel: exchange " + exchange + ": the state of"
                                + " the optimizer factory's optimizers does not fit the leader's optimizer ("
                                + firstLine(String.valueOf(e.getMessage())) + "); the leader is as the previous exchange"
                                + " left it", e);
                    }
                }
                if (results.get(0).buffers().length > 0) { // the running statistics averaged as the parameters are
                    float[] buffers = new float[results.get(0).buffers().length];
                    Shards.weightedSum(results.stream().map(RoundResult::buffers).toList(), equal, buffers);
                    leader.setBuffers(buffers);
                }
                exec.setForwardCount(stream + (long) workers * k);
                exchanges++;
                float loss = (float) (lossSum / ((long) workers * k));
                total += lossSum / workers;
                if (listener != null) {
                    listener.after(epoch, exchanges, loss);
                }
            }
            last = (float) (total / steps);
        }
        return last;
    }

    /**
     * What every task of a round needs.
     *
     * @param parameters   the leader's packed parameters
     * @param buffers      the leader's packed buffers (batch norm's running statistics; empty when the model has none)
     * @param state        the leader's optimizer state (empty before its first round)
     * @param learningRate the leader's learning rate
     * @param epoch        the epoch
     * @param firstStep    the round's first local step in the epoch
     * @param steps        the round's local steps
     * @param localBatch   samples per local step
     * @param seed         the shuffling seed
     * @param stream       the random stream's position at the round's start
     */
    record RoundInput(float[] parameters, float[] buffers, Map<String, float[]> state, float learningRate, int epoch, int firstStep,
                      int steps, int localBatch, long seed, long stream) implements java.io.Serializable {
    }

    private static Function2<Integer, Iterator<Shard>, Iterator<RoundResult>> roundTask(
            Broadcast<RoundInput> input, Broadcast<ReplicaPool> pool, OptimizerFactory optimizers, long exchange,
            TaskHook hook) {
        return (p, elements) -> {
            if (hook != null) {
                hook.beforeTask(exchange, p, TaskContext.get().attemptNumber());
            }
            Shard shard = elements.next();
            RoundInput in = input.value();
            ReplicaPool replicas = pool.value();
            ReplicaPool.Held h = replicas.take(p);
            try (Optimizer opt = optimizers.create()) {
                long t0 = System.nanoTime();
                Replica r = h.replica();
                Model m = r.model();
                r.setParameters(in.parameters());
                if (in.buffers().length > 0) {
                    r.setBuffers(in.buffers());
                }
                if (!in.state().isEmpty()) {
                    opt.loadState(m.executor(), in.state());
                }
                opt.setLearningRate(in.learningRate());
                m.executor().setForwardCount(in.stream() + (long) p * in.steps());
                double lossSum = 0;
                boolean nonFinite = false;
                try (Trainer t = new Trainer(m, opt)) {
                    for (int s = 0; s < in.steps(); s++) {
                        LocalBatch b = shard.batch(in.seed(), in.epoch(), in.firstStep() + s, in.localBatch());
                        lossSum += t.step(b.x(), b.targets(), 0, b.rows()).loss();
                    }
                } catch (NonFiniteLossException e) {
                    nonFinite = true;
                }
                float[] params = new float[r.parameterCount()];
                r.parameters(params);
                RoundResult out = new RoundResult(p, params, r.buffers(), new HashMap<>(opt.state(m.executor())),
                        lossSum, in.steps(), nonFinite, System.nanoTime() - t0);
                replicas.give(p, h);
                return List.of(out).iterator();
            } catch (RuntimeException | Error e) {
                replicas.discard(h);
                throw e;
            }
        };
    }

    // ------------------------------------------------------------------ common

    /**
     * Runs exchange {@code exchange}'s job ({@code task} over {@code rdd}), destroys its {@code input} broadcast, and
     * returns the tasks' results in partition order; a job Spark gives up on is an {@link IllegalStateException}.
     */
    private <T, R> List<R> job(JavaRDD<T> rdd, Function2<Integer, Iterator<T>, Iterator<R>> task, Broadcast<?> input,
                               long exchange, java.util.function.ToIntFunction<R> partition) {
        long t0 = System.nanoTime();
        List<R> results;
        try {
            results = new ArrayList<>(rdd.mapPartitionsWithIndex(task, false).collect());
        } catch (Exception e) { // collect() throws SparkException (checked) when Spark gives up on a task
            throw failed(exchange, e);
        } finally {
            input.destroy(false);
        }
        jobNanos += System.nanoTime() - t0;
        if (results.size() != workers) {
            throw new IllegalStateException("spark data parallel: exchange " + exchange + " got " + results.size()
                    + " results from " + workers + " tasks");
        }
        results.sort(Comparator.comparingInt(partition));
        return results;
    }

    private static IllegalStateException failed(long exchange, Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String why = firstLine(root.toString());
        return new IllegalStateException("spark data parallel: exchange " + exchange + " failed on the cluster ("
                + why + "); the leader is as the previous exchange left it", e);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("spark data parallel: closed");
        }
    }

    /**
     * Closes the executors' replicas (a job of one task per worker; in local mode, all of them) and drops the pool;
     * the leader, its optimizer and the Spark context stay open.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Broadcast<ReplicaPool> b = pool;
            List<Integer> ids = new ArrayList<>();
            for (int p = 0; p < workers; p++) {
                ids.add(p);
            }
            sc.parallelize(ids, workers).foreachPartition(it -> b.value().closeAll());
            pool.value().closeAll(); // the driver's copy: in local mode the executors' too
        } finally {
            pool.destroy(false);
        }
    }
}
