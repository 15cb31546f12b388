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
 * the leader's (as PyTorch's {@code DistributedDataParallel} without {@code SyncBatchNorm}). With backends of
 * different kinds, each shard's gradient carries its backend's rounding; the update is still one, the leader's.
 *
 * <p>Owns the replicas' models (the leader's included, {@link #model()}) and its threads, which {@link #close()}
 * releases; the backends and the optimizer belong to the caller. One thread at a time drives it.
 */
public final class DataParallel implements AutoCloseable {
    private final List<Replica> replicas;
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

    private DataParallel(List<Replica> replicas, Optimizer optimizer, int shards) {
        this.replicas = List.copyOf(replicas);
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
        Objects.requireNonNull(optimizer, "optimizer");
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("data parallel: no backend");
        }
        if (shards < backends.size()) {
            throw new IllegalArgumentException("data parallel: " + shards + " shards for " + backends.size()
                    + " backends; every backend needs at least one shard");
        }
        List<Replica> replicas = new ArrayList<>();
        try {
            for (Backend b : backends) {
                Model m = Objects.requireNonNull(factory.apply(Objects.requireNonNull(b, "backend")), "factory's model");
                if (m.backend() != b) {
                    m.close();
                    throw new IllegalArgumentException("data parallel: the factory built a model on " + m.backend().name()
                            + " when asked for one on " + b.name());
                }
                replicas.add(new Replica(m));
                replicas.get(0).checkSameLayout(m);
            }
            DataParallel dp = new DataParallel(replicas, optimizer, shards);
            dp.replicas.get(0).parameters(dp.parameters);
            for (Replica r : dp.replicas.subList(1, dp.replicas.size())) {
                r.setParameters(dp.parameters);
            }
            return dp;
        } catch (RuntimeException e) {
            replicas.forEach(Replica::close);
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
     * as for {@link dev.jacobian.train.Trainer#step}; class indices are checked first). Waits for every worker.
     *
     * @throws IllegalArgumentException when the batch has fewer rows than shards, or bad targets
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
        lead.checkTargets(targets, firstRow, rows); // before any work, on the host
        long t0 = System.nanoTime();
        replicas.get(0).parameters(parameters);
        long stream = lead.executor().forwardCount();
        List<Future<?>> running = new ArrayList<>(replicas.size() - 1);
        for (int w = 1; w < replicas.size(); w++) {
            int worker = w;
            running.add(pool.submit(() -> {
                replicas.get(worker).setParameters(parameters);
                work(worker, x, targets, firstRow, rows, stream);
            }));
        }
        RuntimeException failure = null;
        try {
            work(0, x, targets, firstRow, rows, stream);
        } catch (RuntimeException e) {
            failure = e;
        }
        failure = join(running, failure);
        if (failure != null) {
            throw failure;
        }
        long t1 = System.nanoTime();
        double[] weights = Shards.weights(rows, shards);
        Shards.weightedSum(Arrays.asList(shardGradients), weights, sum);
        float loss = Shards.weightedSum(shardLosses, weights);
        lead.executor().setForwardCount(stream + shards);
        try {
            return leader.apply(sum, loss);
        } finally {
            steps++;
            computeNanos += t1 - t0;
            reduceNanos += System.nanoTime() - t1;
        }
    }

    /** Worker {@code w}'s shards: forward, backward and gradient download each. */
    private void work(int w, float[] x, float[] targets, int firstRow, int rows, long stream) {
        Replica r = replicas.get(w);
        int end = Shards.firstShardOf(shards, replicas.size(), w + 1);
        for (int s = Shards.firstShardOf(shards, replicas.size(), w); s < end; s++) {
            int from = Shards.start(rows, shards, s);
            int to = Shards.start(rows, shards, s + 1);
            shardLosses[s] = r.gradient(x, targets, firstRow + from, to - from, stream + s, shardGradients[s]);
        }
    }

    /** Waits for every worker; the first failure (the caller's, then in worker order) is the one reported. */
    private static RuntimeException join(List<Future<?>> running, RuntimeException failure) {
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the workers use this step's arrays: wait for them all the same
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (failure == null) {
                        failure = cause instanceof RuntimeException re ? re
                                : new IllegalStateException("data parallel: a worker failed: " + cause, cause);
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

    /** Stops the threads and closes every replica's model (the leader's included); the backends stay open. */
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
        replicas.forEach(Replica::close);
    }
}
