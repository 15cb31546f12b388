package dev.jacobian.parallel;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Trains one model on several backends of one machine (several OpenCL devices, CPU backends, or a mix): one
 * replica per backend, each driven by a thread of its own.
 *
 * <pre>{@code
 * try (Backend a = new CpuBackend(1); Backend b = new CpuBackend(1);
 *      Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build();
 *      DataParallel dp = DataParallel.create(List.of(a, b), backend -> Sequential.builder(784)
 *              .hidden(256, "relu").output(10, LossKind.SOFTMAX_CROSS_ENTROPY).seed(42).build(backend), sgd)) {
 *     StepResult r = dp.step(images, dp.model().encodeTargets(labels), 0, 256);  // 128 samples on each backend
 *     double accuracy = dp.model().accuracy(testImages, testLabels, 512);         // the leader: a plain Model
 * }
 * }</pre>
 *
 * <h2>A step</h2>
 * <ol>
 *   <li>The batch is cut into {@link #shards()} contiguous shards ({@link Shards#start}); worker {@code w} computes a
 *       contiguous run of them, each starting from the leader's parameters (replica 0 <em>is</em> the leader; the
 *       others upload the leader's parameter arena, downloaded once per step).</li>
 *   <li>Each shard's forward and backward run on its replica's backend, and its gradient arena is downloaded to the
 *       host: device to host to device, the simple exchange (one download per shard and one upload per replica of a
 *       whole arena, plus one summed-gradient upload).</li>
 *   <li>The host sums the shards' gradients, weighted by their share of the batch, in shard order
 *       ({@link Shards#weightedSum}), and the leader's optimizer takes one step from that sum: the gradient norm
 *       clipped is the summed gradient's, as on one worker (clipping each shard first would not be).</li>
 * </ol>
 *
 * <h2>What is identical to what</h2>
 * The step depends on the number of shards, not on the number of workers: with K shards, 1, 2, ... K workers of one
 * backend kind give bit-identical parameters (each shard's gradient is computed from the same parameters by the same
 * kernels, the sum order is fixed, and the random stream of shard {@code s} of step {@code t} is at the same position
 * whichever replica draws it). One shard is exactly {@link dev.jacobian.train.Trainer#step}. K shards against one
 * unsharded batch differ by the rounding of the batch's sums (the weight gradient's sum over samples is split in K
 * parts), within float tolerance. Batch norm computes its batch statistics per shard and its running statistics are
 * the leader's, updated from shard 0 alone whatever the number of workers (as the first rank's in PyTorch's
 * {@code DistributedDataParallel} without {@code SyncBatchNorm}). With backends of
 * different kinds, each shard's gradient carries its backend's rounding; the update is still one, the leader's.
 *
 * <p>Owns the replicas' models (the leader's too when it built it, {@link #model()}) and its threads, which
 * {@link #close()} releases; the backends and the optimizer belong to the caller. One thread at a time drives it.
 */
public final class DataParallel implements AutoCloseable {
    private final List<Replica> replicas;
    private final boolean ownsLeader;
    private final Leader leader;
    private final int shards;
    private final ExecutorService pool;
    private final float[][] shardGradients;
    private final float[] shardLosses;
    private final float[] sum;
    private final float[] parameters;
    private long computeNanos;
    private long reduceNanos;
    private long steps;
    private boolean closed;
    private boolean trackPredictions;
    private int[] predictions;

    private DataParallel(List<Replica> replicas, boolean ownsLeader, Optimizer optimizer, int shards) {
        this.replicas = List.copyOf(replicas);
        this.ownsLeader = ownsLeader;
        this.leader = new Leader(replicas.get(0).model(), optimizer);
        this.shards = shards;
        int size = replicas.get(0).parameterCount();
        this.shardGradients = new float[shards][size];
        this.shardLosses = new float[shards];
        this.sum = new float[size];
        this.parameters = new float[size];
        int others = replicas.size() - 1;
        AtomicInteger threads = new AtomicInteger();
        this.pool = others == 0 ? null : Executors.newFixedThreadPool(others, r -> {
            Thread t = new Thread(r, "jacobian-data-parallel-worker-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** One shard per backend: {@code create(backends, backends.size(), factory, optimizer)}. */
    public static DataParallel create(List<? extends Backend> backends, Function<Backend, Model> factory,
                                      Optimizer optimizer) {
        return create(backends, backends.size(), factory, optimizer);
    }

    /**
     * A data-parallel trainer over {@code backends} (one replica and one thread each; the first holds the leader)
     * that cuts each batch into {@code shards} shards ({@code >= backends.size()}; fix it to make runs on different
     * numbers of backends bit-identical). {@code factory} builds the same model on each backend (as
     * {@code Sequential.builder(...).build(backend)} does); the replicas start from the leader's parameters whatever
     * their own initialization.
     *
     * @throws IllegalArgumentException when there is no backend, fewer shards than backends, or the factory's models
     *                                  differ in their parameters
     */
    public static DataParallel create(List<? extends Backend> backends, int shards, Function<Backend, Model> factory,
                                      Optimizer optimizer) {
        Objects.requireNonNull(factory, "factory");
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("data parallel: no backend");
        }
        Model leader = Objects.requireNonNull(factory.apply(Objects.requireNonNull(backends.get(0), "backend")),
                "factory's model");
        try {
            return create(leader, true, optimizer, backends.subList(1, backends.size()), shards, factory);
        } catch (RuntimeException e) {
            leader.close();
            throw e;
        }
    }

    /**
     * A data-parallel trainer around an existing {@code leader} model (which stays the caller's: {@link #close()}
     * does not close it), with one more replica built by {@code factory} on each of {@code others}, and each batch
     * cut into {@code shards} shards ({@code >= 1 + others.size()}). The replicas take the leader's parameters.
     *
     * @throws IllegalArgumentException as {@link #create(List, int, Function, Optimizer)}
     */
    public static DataParallel create(Model leader, Optimizer optimizer, List<? extends Backend> others, int shards,
                                      Function<Backend, Model> factory) {
        return create(leader, false, optimizer, others, shards, factory);
    }

    private static DataParallel create(Model leader, boolean ownsLeader, Optimizer optimizer,
                                       List<? extends Backend> others, int shards, Function<Backend, Model> factory) {
        Objects.requireNonNull(leader, "leader");
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(optimizer, "optimizer");
        int workers = 1 + others.size();
        if (shards < workers) {
            throw new IllegalArgumentException("data parallel: " + shards + " shards for " + workers
                    + " backends; every backend needs at least one shard");
        }
        List<Replica> replicas = new ArrayList<>();
        replicas.add(new Replica(leader));
        try {
            for (Backend b : others) {
                Model m = Objects.requireNonNull(factory.apply(Objects.requireNonNull(b, "backend")), "factory's model");
                if (m.backend() != b) {
                    m.close();
                    throw new IllegalArgumentException("data parallel: the factory built a model on " + m.backend().name()
                            + " when asked for one on " + b.name());
                }
                replicas.add(new Replica(m));
                replicas.get(0).checkSameLayout(m);
            }
            DataParallel dp = new DataParallel(replicas, ownsLeader, optimizer, shards);
            dp.replicas.get(0).parameters(dp.parameters);
            for (Replica r : dp.replicas.subList(1, dp.replicas.size())) {
                r.setParameters(dp.parameters);
            }
            return dp;
        } catch (RuntimeException e) {
            replicas.subList(1, replicas.size()).forEach(Replica::close);
            throw e;
        }
    }

    /** The leader's model (replica 0): evaluate, predict, save it as any {@link Model}; it holds the trained weights. */
    public Model model() {
        return leader.model();
    }

    /** The optimizer that updates the leader. */
    public Optimizer optimizer() {
        return leader.optimizer();
    }

    /** The number of backends (replicas, threads). */
    public int workers() {
        return replicas.size();
    }

    /** The number of shards each batch is cut into. */
    public int shards() {
        return shards;
    }

    /**
     * Whether each step also reports the batch's predicted classes (each shard's arg-max, computed on its device and
     * read back with its loss), as {@link dev.jacobian.train.Trainer#trackPredictions} does. Off by default.
     */
    public DataParallel trackPredictions(boolean on) {
        this.trackPredictions = on;
        return this;
    }

    /** Steps taken so far. */
    public long steps() {
        return steps;
    }

    /**
     * Nanoseconds spent so far in the parallel part of the steps: the parameter broadcast, every shard's forward and
     * backward, and the gradient downloads (wall time of the slowest worker).
     */
    public long computeNanos() {
        return computeNanos;
    }

    /** Nanoseconds spent so far in the serial part of the steps: the host sum and the leader's update. */
    public long reduceNanos() {
        return reduceNanos;
    }

    /**
     * One data-parallel step on {@code rows} samples from {@code firstRow} of {@code x} and {@code targets} (laid out
     * as for {@link dev.jacobian.train.Trainer#step}; each shard's class indices are checked before its forward, and
     * a bad one fails the step with the weights as they were). Waits for every worker.
     *
     * @throws IllegalArgumentException when the batch has fewer rows than shards, x and targets do not hold the same
     *                                  number of samples ({@link Model#checkSamples}), or bad targets
     * @throws NonFiniteLossException   when the loss or the summed gradient's norm is NaN or infinite (the weights are
     *                                  then left as they were when the norm was)
     */
    public StepResult step(float[] x, float[] targets, int firstRow, int rows) {
        ensureOpen();
        if (rows < shards) {
            throw new IllegalArgumentException("data parallel: a batch of " + rows + " samples cannot be cut into "
                    + shards + " shards");
        }
        Model lead = leader.model();
        lead.checkSamples("data parallel", x, targets);
        long t0 = System.nanoTime();
        if (trackPredictions && (predictions == null || predictions.length != rows)) {
            predictions = new int[rows];
        }
        int[] classes = trackPredictions ? predictions : null;
        replicas.get(0).parameters(parameters);
        long stream = lead.executor().forwardCount();
        try {
            inParallel(w -> { // each shard checks its own targets (Replica.gradient): every row once
                if (w > 0) {
                    replicas.get(w).setParameters(parameters);
                }
                work(w, x, targets, firstRow, rows, stream, classes);
            });
        } catch (RuntimeException | Error e) {
            lead.executor().setForwardCount(stream); // a failed step draws nothing from the random stream
            throw e;
        }
        long t1 = System.nanoTime();
        double[] weights = Shards.weights(rows, shards);
        List<float[]> parts = Arrays.asList(shardGradients);
        int workers = replicas.size();
        inParallel(w -> Shards.weightedSum(parts, weights, sum, Shards.start(sum.length, workers, w),
                Shards.start(sum.length, workers, w + 1))); // the order of each element's sum is the same
        float loss = Shards.weightedSum(shardLosses, weights);
        lead.executor().setForwardCount(stream + shards);
        try {
            StepResult r = leader.apply(sum, loss);
            return classes == null ? r : new StepResult(r.step(), r.loss(), r.gradNorm(), r.clipped(), classes.clone());
        } finally {
            steps++;
            computeNanos += t1 - t0;
            reduceNanos += System.nanoTime() - t1;
        }
    }

    /**
     * Runs {@code task} for every worker, worker 0 on this thread, and waits for all, whatever worker 0 throws (an
     * Error too: the others write this step's arrays); rethrows the first failure, an Error as that Error.
     */
    private void inParallel(java.util.function.IntConsumer task) {
        List<Future<?>> running = new ArrayList<>(replicas.size() - 1);
        for (int w = 1; w < replicas.size(); w++) {
            int worker = w;
            running.add(pool.submit(() -> task.accept(worker)));
        }
        Throwable failure = null;
        try {
            task.accept(0);
        } catch (Throwable e) {
            failure = e;
        }
        failure = join(running, failure);
        if (failure instanceof RuntimeException e) {
            throw e;
        } else if (failure instanceof Error e) {
            throw e;
        } else if (failure != null) {
            throw new IllegalStateException("data parallel: a worker failed: " + failure, failure);
        }
    }

    /**
     * Worker {@code w}'s shards: forward, backward and gradient download each. The leader's buffers (batch norm's
     * running statistics) keep what shard 0's forward made of them: the shards after it that worker 0 computes
     * would update them again, and then they would depend on the number of workers.
     */
    private void work(int w, float[] x, float[] targets, int firstRow, int rows, long stream, int[] classes) {
        Replica r = replicas.get(w);
        int first = Shards.firstShardOf(shards, replicas.size(), w);
        int end = Shards.firstShardOf(shards, replicas.size(), w + 1);
        boolean keepShard0Buffers = w == 0 && end > 1 && !r.model().executor().buffers().isEmpty();
        boolean saved = false;
        try {
            for (int s = first; s < end; s++) {
                int from = Shards.start(rows, shards, s);
                int to = Shards.start(rows, shards, s + 1);
                shardLosses[s] = r.gradient(x, targets, firstRow + from, to - from, stream + s, shardGradients[s],
                        classes, from);
                if (keepShard0Buffers && s == 0) {
                    r.saveBuffers();
                    saved = true;
                }
            }
        } finally {
            if (saved) {
                r.restoreBuffers();
            }
        }
    }

    /** Waits for every worker; the first failure (the caller's, then in worker order) is the one reported. */
    private static Throwable join(List<Future<?>> running, Throwable failure) {
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the workers use this step's arrays: wait for them all the same
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause();
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return failure;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("data parallel: closed");
        }
    }

    /**
     * Stops the threads and closes every replica's model (the leader's too when this trainer built it); the backends
     * stay open.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
            try {
                pool.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        replicas.subList(ownsLeader ? 0 : 1, replicas.size()).forEach(Replica::close);
    }
}
