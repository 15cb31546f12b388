package dev.jacobian.bench;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.train.Trainer;
import java.util.concurrent.locks.LockSupport;

/**
 * What splitting the batch between two threads could give the training step at best, on this machine at this moment:
 * two copies of {@link StepTimer#trainer}'s MLP on two CPU backends of one thread each train a half batch each, side by
 * side, the calling thread one and a helper thread the other, and meet after every step; nothing else passes between
 * them (no gradient is summed, no weight shared). A real split of the batch must also add the two halves' weight
 * gradients and hand the updated weights back, so it can only be slower; a 2-thread step that splits each product
 * instead is not bound by it, but it tells how much of a second core the step's shape leaves to be had: the half
 * batch's products are smaller, and their per-sample cost higher, than the whole batch's.
 *
 * <p>{@link StepThreads} times it in each round beside the 1-thread and the 2-thread step. The helper spins only while
 * a timing runs and parks between them, so that it takes no core from the other steps' threads.
 */
final class BatchSplitCeiling implements AutoCloseable {
    private final int half;
    private final CpuBackend[] backends = {new CpuBackend(1), new CpuBackend(1)};
    private final Trainer[] trainers = new Trainer[2];
    private final float[] x;
    private final float[] y;
    private final Thread helper;
    /** Steps the helper is asked to run in this timing (it counts them up to this, meeting the caller after each). */
    private volatile int target;
    /** Steps the helper has finished. */
    private volatile int done;
    /** Steps the caller has finished. */
    private volatile int started;
    private volatile boolean closed;

    /**
     * Builds the two half-batch trainers and starts the (parked) helper.
     *
     * @param batch the whole batch: each half trains {@code batch / 2} samples (at least 1)
     */
    BatchSplitCeiling(int batch) {
        this.half = Math.max(1, batch / 2);
        for (int i = 0; i < 2; i++) {
            trainers[i] = StepTimer.trainer(backends[i]);
        }
        this.x = StepTimer.inputs(half);
        this.y = StepTimer.targets(trainers[0], half);
        helper = new Thread(this::helperLoop, "batch-split-ceiling");
        helper.setDaemon(true);
        helper.start();
    }

    /**
     * Runs {@code steps} steps of both halves side by side, each pair ending when both are done.
     *
     * @param steps how many (at least 1)
     * @return the wall time per step of the whole batch (a pair of half steps), in microseconds
     */
    double microsPerStep(int steps) {
        int base = done;
        started = base;
        target = base + steps;
        LockSupport.unpark(helper);
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            trainers[0].step(x, y, (s % StepTimer.BATCHES) * half, half);
            started = base + s + 1;
            while (done < base + s + 1) {
                Thread.onSpinWait();
            }
        }
        return (System.nanoTime() - t0) / 1e3 / steps;
    }

    private void helperLoop() {
        int s = 0;
        while (!closed) {
            if (done == target) {
                LockSupport.park(this);
                continue;
            }
            int next = done + 1;
            // the caller starts step next - 1 of its own at the same time: wait for it to have finished the previous
            while (started < next - 1 && !closed) {
                Thread.onSpinWait();
            }
            trainers[1].step(x, y, (s++ % StepTimer.BATCHES) * half, half);
            done = next;
        }
    }

    /** Stops the helper and closes the backends. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(helper);
        try {
            helper.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (CpuBackend b : backends) {
            b.close();
        }
    }
}
