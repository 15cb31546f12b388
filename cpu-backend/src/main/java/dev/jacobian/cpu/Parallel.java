package dev.jacobian.cpu;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The only place the CPU backend uses threads: {@code threads - 1} persistent daemon workers owned by one
 * backend instance (the calling thread is the last worker). Work is split into a few coarse tasks, each of
 * which runs whole SIMD loops; no lock or task boundary ever sits inside a SIMD loop.
 *
 * <p>Hand-off: a step of the MLP makes a dozen parallel calls of 20-500 us each, so waking a worker must cost
 * microseconds, not the tens of microseconds of an executor's queue, park and unpark. A worker that has
 * finished a task spins (with {@link Thread#onSpinWait()}, yielding to any other thread that is ready once it has
 * waited {@link #YIELD_AFTER_NANOS}, and as often after) for up to {@link #SPIN_NANOS} (or the window the pool was
 * made with) waiting for the next, then parks; the caller publishes a call with one volatile write and unparks only
 * the workers that parked. Completion works the same way the other way round; every waiter yields so, so that a thread
 * that shares its core (the other threads of a call among them) runs meanwhile. The spinning is bounded, so an idle
 * backend costs nothing once it has parked.
 *
 * <p>Tasks are claimed, not dealt: the caller and each worker that joins the call take the next task until none is
 * left, and the caller, once every task is taken, waits only for the workers that joined; a worker that comes later
 * finds the call closed and skips it. A worker that is not running when a call starts (the system ran something
 * else on its core, or the host took the virtual CPU) therefore delays nothing: its tasks run on the threads that
 * are there. Measured in a training step of the 784-256-128-10 MLP on 2 threads (an AMD EPYC of family 25, 2 vCPUs
 * under KVM), with one task per thread dealt to each: in 15,000 parallel products the worker started its task within
 * 2 us in 71% of the calls and within 50 us in 98%, but 1% waited 1 ms or more (3 ms on average), which made up 85%
 * of the time the caller spent waiting for it. Against dealt tasks, the training step in one process
 * ({@code benchmarks/compare-in-process.sh}, batch 128, 2 threads, medians of 30-40 rounds) ran 0.99-1.00x as fast on
 * its own, 0.98-1.03x beside a thread busy 0.5-1 ms at a time (a quarter of a core), and 1.02-1.19x beside one busy
 * 2 ms of every 4 (as a batch loader or the JIT compiler may be). A task may therefore run on any thread of the call,
 * and several tasks may run one after the other on one thread: a task must never wait for another task of its call
 * (only for work another task has taken, as {@link #awaitCount} does).
 *
 * <p>Call order: {@link #run} from one thread at a time (the backend's lock); {@link #close()} once, from
 * {@link CpuBackend#close()}.
 */
final class Parallel implements AutoCloseable {

    /** System property: microseconds of {@link #SPIN_NANOS}, for tuning (default 200000). */
    static final String SPIN_PROPERTY = "jacobian.cpu.spinMicros";

    /** System property: microseconds of {@link #YIELD_AFTER_NANOS}, for tuning (default 5). */
    static final String YIELD_PROPERTY = "jacobian.cpu.yieldMicros";

    /**
     * How long a worker, the caller or a barrier spins before it parks by default: 200 ms, as long as Intel's OpenMP
     * runtime keeps its threads awake after a parallel region ({@code KMP_BLOCKTIME}). A training run's threads then
     * never park between its steps, and park only when the run pauses (an evaluation, a checkpoint).
     *
     * <p>Why so long: a thread that parks and is woken is placed anew by the operating system, which, when the other
     * core is busy at that moment (a data loader, the JIT compiler), often puts it on the core of the thread that woke
     * it; the two threads of a product then take turns on one core, and stay there while both keep running. With a
     * 1 ms window, sampling the threads of a 2-thread training run every 50 ms found the caller and the worker both
     * ready on one core in 46-59 of 60-72 samples, with 200 ms in 4-11 of 73-88. {@code bin/jacobian train} on 2
     * threads (the 784-256-128-10 MLP), against the 1 ms window with a caller that did not yield, in samples per second
     * (processes alternating, four per side at batch 128, three at batch 64): epoch 1 1.07x and 1.23x as fast, epoch 2
     * 1.10x and 1.18x, the median of epochs 2-5 1.05x and 1.08x (Intel Xeon family 6 model 207, 2 vCPUs). With 50 us
     * the workers parked in a step's serial stretches even without other threads about: 2 threads against 1 on the
     * step went from 0.91-1.08x to 1.21-1.41x with 1 ms.
     */
    static final long SPIN_NANOS = 1000L * Long.getLong(SPIN_PROPERTY, 200_000);

    /**
     * How long a wait spins before it first yields its core, and then between yields (5 us). The hand-offs within a
     * step (a worker waiting for the next call while the caller runs a short serial op, the caller waiting for the
     * worker's last task) are over before; a longer wait (the training loop's host work between steps) still lets a
     * ready thread (the data loader, the JIT) have the core within microseconds. Yielding every 64 spins from the
     * start of each wait, as before, slowed the threads' work between waits on an AMD EPYC of family 26 (Zen 5, 2
     * vCPUs under KVM on two dies, 'Mitigation; PTI', no PCID): an SGD update of 235,146 parameters split into halves,
     * called back to back on 2 threads, took 0.67-0.69x as long with 5 us and 0.53-0.57x with 100 us (processes
     * alternating). A likely cause, not measured: each yield is a system call, which there flushes the translation
     * buffers of the core that then runs the next task. In whole runs ({@code bin/jacobian train}, batch 128, 2 threads,
     * 5 epochs) the loader's thread needs a core once per step: with 100 us the caller waited 1.8-2.8x as long for its
     * batches, and epochs 2-5 ran 0.98x as fast as yielding every 64 spins (the median ratio of 7 pairs of processes,
     * alternating); with 5 us, 1.04x (8 pairs).
     * {@link #YIELD_PROPERTY} sets it (0: every 64 spins).
     */
    static final long YIELD_AFTER_NANOS = 1000L * Long.getLong(YIELD_PROPERTY, 5);

    /**
     * The unit of an array whose home is one thread, in floats (512 bytes): chunk {@code j}, the floats
     * {@code [j * HOME_CHUNK, (j + 1) * HOME_CHUNK)} of the array, lives with thread {@link #home home(j * HOME_CHUNK)}.
     * Work split by homes ({@link #runHomed}) touches each chunk from that thread whenever it is there.
     */
    static final int HOME_CHUNK = 128;

    /** The home thread, in {@code [0, threads)}, of the chunk that holds index {@code index} of an array. */
    static int home(int index, int threads) {
        return index / HOME_CHUNK % threads;
    }

    /** Body of one task: {@code task} in {@code [0, tasks)}. */
    @FunctionalInterface
    interface Task extends ThreadTask {
        void run(int task);

        /** Runs {@code task}, whichever thread runs it. */
        @Override
        default void run(int task, int self) {
            run(task);
        }
    }

    /**
     * Body of one task that needs to know which thread runs it: {@code self} is 0 for the caller, {@code i} for the
     * worker of index i; no two tasks that run at one time share a {@code self} (a per-thread workspace may be
     * {@code self}'s). A {@link Task} is one that does not ask.
     */
    @FunctionalInterface
    interface ThreadTask {
        void run(int task, int self);
    }

    /**
     * Which thread works on which half of a layer's weights ({@link CpuMatmul}'s depth halves), for the updates that
     * follow ({@link CpuOptimizer}); used on the calling thread only.
     */
    final Homes homes = new Homes();

    private final int threads;
    private final CompilerLoad compilerLoad;
    private final long spinNanos;
    private final Worker[] workers;
    private final Thread[] threadsOf;

    /**
     * One call: its tasks and their body, and its number (workers look at each number once); {@code next} is the next
     * task to take, {@code joined} the workers in the call that have not left it, {@code closed} set by the caller
     * once every task is taken (a worker that joins later leaves at once).
     */
    private static final class Call {
        final long number;
        final ThreadTask body;
        final int tasks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger joined = new AtomicInteger();
        /** For a call with homes ({@link #runHomed}): which tasks are taken (1); null otherwise. */
        final AtomicIntegerArray taken;
        /**
         * While a recording takes {@link ParallelCallEvent}s: per thread (0 the caller), the nanoseconds it spent in
         * tasks; null otherwise. Each slot is written by its thread only, before it leaves the call, and read by the
         * caller after.
         */
        final long[] busy;
        /** As {@link #busy}: when each worker joined the call ({@link System#nanoTime}), or 0. */
        final long[] joinedAt;
        volatile boolean closed;

        Call(long number, ThreadTask body, int tasks, boolean homed, int threads, boolean timed) {
            this.number = number;
            this.body = body;
            this.tasks = tasks;
            this.taken = homed ? new AtomicIntegerArray(tasks) : null;
            this.busy = timed ? new long[threads] : null;
            this.joinedAt = timed ? new long[threads] : null;
        }
    }

    private volatile Call call = new Call(0, null, 0, false, 0, false);
    /** Task body classes this pool has recorded a {@link ParallelSiteEvent} for (the calling thread's only). */
    private final Set<Class<?>> sitesRecorded = new HashSet<>();
    private volatile boolean closed;
    private volatile Thread parkedCaller;
    private volatile boolean inCall;
    private volatile boolean wakeWorkers = true;
    private Throwable failure; // guarded by this

    /**
     * A pool with {@code threads} workers in all (1 runs everything on the caller), spinning {@link #SPIN_NANOS}, that
     * keeps them all at work.
     */
    Parallel(int threads) {
        this(threads, SPIN_NANOS);
    }

    /** A pool with {@code threads} workers in all whose waits spin {@code spinNanos} before they park. */
    Parallel(int threads, long spinNanos) {
        this(threads, spinNanos, CompilerLoad.never());
    }

    /**
     * A pool with {@code threads} workers in all whose waits spin {@code spinNanos} before they park, whose
     * {@link #threads()} lends {@code compilerLoad}'s share of them to the JIT compiler.
     */
    Parallel(int threads, long spinNanos, CompilerLoad compilerLoad) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        this.threads = threads;
        this.compilerLoad = compilerLoad;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
        this.threadsOf = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            Thread t = new Thread(workers[i], "jacobian-cpu-" + (i + 1));
            t.setDaemon(true);
            threadsOf[i] = t;
            workers[i].thread = t;
            t.start();
        }
    }

    /** What {@link #threads()} lends the JIT compiler by (tests). */
    CompilerLoad compilerLoad() {
        return compilerLoad;
    }

    /** Number of workers, the caller included: the most threads a call can run on. */
    int size() {
        return threads;
    }

    /**
     * The threads a kernel should split its work into now: {@link #size()}, less any the pool lends the JIT compiler
     * while it is busy ({@link CompilerLoad}); at least 1. Any count gives the same bits, so a kernel reads it once per
     * call and splits by it.
     */
    int threads() {
        return threads == 1 ? 1 : compilerLoad.threads(threads);
    }

    /**
     * Runs {@code body} for every task in {@code [0, tasks)}, each once, on the caller and up to {@code size() - 1}
     * workers, and returns when all have run; the first failure of a task is rethrown (the tasks not yet taken then
     * still run). Tasks may run in any order and on any of these threads, several on one (see the class comment).
     */
    void run(int tasks, Task body) {
        run(tasks, body, false);
    }

    /**
     * As {@link #run}, but task {@code t} has a home: the thread {@code t % size()} (0 is the caller, {@code i} the
     * worker of index i), which takes its own tasks first, in ascending order, and then any task still left; so a
     * thread that is there runs its home tasks, and a thread that is not (see the class comment) delays nothing, as its
     * tasks are taken by the others. For work whose data should stay with one thread from call to call: when the two
     * vCPUs of a virtual machine sit on different dies (an AMD EPYC of family 26 whose two vCPUs answered a round trip
     * through memory in 450 ns, against 70 ns on a family-25 EPYC whose two shared a die), a cache line that one core
     * wrote and the other then reads crosses between the dies' caches at a cost (see {@link CpuMatmul}'s homed bands).
     */
    void runHomed(int tasks, Task body) {
        run(tasks, body, true);
    }

    /** As {@link #runHomed(int, Task)}, for a body that is told which thread runs each task. */
    void runHomed(int tasks, ThreadTask body) {
        run(tasks, body, true);
    }

    private void run(int tasks, ThreadTask body, boolean homed) {
        if (tasks <= 1 || workers.length == 0) {
            for (int t = 0; t < tasks; t++) {
                body.run(t, 0);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("the CPU backend's workers are stopped");
        }
        if (inCall) { // a task that starts another call would wait for workers that are busy with its own
            throw new IllegalStateException("Parallel.run is not reentrant: a task started another call");
        }
        inCall = true;
        try {
            runCall(tasks, body, homed);
        } finally {
            inCall = false;
        }
    }

    private void runCall(int tasks, ThreadTask body, boolean homed) {
        int helpers = Math.min(tasks, threads) - 1;
        synchronized (this) {
            failure = null;
        }
        // the probe event only answers isEnabled and escapes nowhere, so C2 allocates nothing for it; the event that
        // is recorded is made only when a recording takes it
        boolean timed = new ParallelCallEvent().isEnabled();
        ParallelCallEvent event = null;
        long published = 0;
        if (timed) {
            event = new ParallelCallEvent();
            event.begin();
            published = System.nanoTime();
        }
        Call c = new Call(call.number + 1, body, tasks, homed, threads, timed);
        call = c;
        for (int i = 0; i < helpers; i++) {
            if (workers[i].parked && wakeWorkers) {
                LockSupport.unpark(workers[i].thread);
            }
        }
        runTasks(c, 0);
        // every task is taken: close the call, then wait for the workers that joined it (a worker joins, then looks
        // at closed; the caller closes, then looks at joined: one of the two sees the other)
        c.closed = true;
        long callerDone = timed ? System.nanoTime() : 0;
        awaitJoined(c);
        if (timed) {
            record(event, c, published, callerDone);
        }
        call = new Call(c.number, null, 0, false, 0, false); // keeps nothing of the call alive (workers skip it)
        Throwable f;
        synchronized (this) {
            f = failure;
            failure = null;
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        if (f != null) {
            throw new IllegalStateException("CPU backend task failed", f);
        }
    }

    /** Fills and commits a timed call's {@link ParallelCallEvent}, and a {@link ParallelSiteEvent} for a new site. */
    private void record(ParallelCallEvent event, Call c, long published, long callerDone) {
        event.end();
        if (!event.shouldCommit()) {
            return;
        }
        Class<?> site = c.body.getClass();
        event.site = site.getName();
        event.tasks = c.tasks;
        event.threads = Math.min(c.tasks, threads);
        event.callerBusy = c.busy[0];
        event.callerWait = System.nanoTime() - callerDone;
        int worked = c.busy[0] > 0 ? 1 : 0;
        long firstJoin = Long.MAX_VALUE;
        for (int i = 1; i < threads; i++) {
            worked += c.busy[i] > 0 ? 1 : 0;
            event.workerBusy = Math.max(event.workerBusy, c.busy[i]);
            if (c.joinedAt[i] != 0) {
                firstJoin = Math.min(firstJoin, c.joinedAt[i]);
            }
        }
        event.worked = worked;
        event.joinLatency = firstJoin == Long.MAX_VALUE ? 0 : Math.max(0, firstJoin - published);
        event.commit();
        if (sitesRecorded.add(site)) {
            ParallelSiteEvent named = new ParallelSiteEvent();
            named.site = event.site;
            named.commit();
        }
    }

    /**
     * Takes and runs the call's next task until none is left (in a call with homes, first the tasks whose home is
     * {@code self}, then any other); a task's failure is recorded for the caller.
     */
    private void runTasks(Call c, int self) {
        if (c.taken != null) {
            for (int t = self; t < c.tasks; t += threads) {
                runIfFree(c, t, self);
            }
            for (int t = 0; t < c.tasks; t++) {
                runIfFree(c, t, self);
            }
            return;
        }
        for (int t = c.next.getAndIncrement(); t < c.tasks; t = c.next.getAndIncrement()) {
            runTask(c, t, self);
        }
    }

    private void runIfFree(Call c, int t, int self) {
        if (c.taken.get(t) == 0 && c.taken.compareAndSet(t, 0, 1)) {
            runTask(c, t, self);
        }
    }

    private void runTask(Call c, int t, int self) {
        long start = c.busy != null ? System.nanoTime() : 0;
        try {
            c.body.run(t, self);
        } catch (Throwable e) { // reported to the caller, who rethrows it
            addFailure(e);
        }
        if (c.busy != null) {
            c.busy[self] += System.nanoTime() - start;
        }
    }

    /** Waits (spinning, then parked until the last worker leaves) for the workers that joined {@code c}. */
    private void awaitJoined(Call c) {
        Backoff backoff = new Backoff(spinNanos);
        while (c.joined.get() != 0) {
            if (backoff.spunOut()) {
                parkedCaller = Thread.currentThread();
                if (c.joined.get() != 0) {
                    LockSupport.park(this);
                }
                parkedCaller = null;
            }
        }
    }

    /**
     * Tests: with {@code false}, a call no longer unparks workers that have parked, which then sleep through it, as a
     * worker does whose core the system gave to another thread; {@code true} restores the default and wakes them.
     */
    void wakeWorkers(boolean wake) {
        wakeWorkers = wake;
        if (wake) {
            for (Worker w : workers) {
                LockSupport.unpark(w.thread);
            }
        }
    }

    /** Whether every worker has parked (tests). */
    boolean allParked() {
        for (Worker w : workers) {
            if (!w.parked) {
                return false;
            }
        }
        return true;
    }

    /**
     * One wait's spinning: {@link #spunOut()}, called while the awaited condition is still false, spins (with
     * {@link Thread#onSpinWait()}, yielding the core now and then) and says when its window has passed, after which
     * the waiter parks.
     */
    private static final class Backoff {
        private final long window;
        private long start;
        private int spins;
        private long lastYield;

        /** A wait that spins for {@code window} nanoseconds. */
        Backoff(long window) {
            this.window = window;
        }

        boolean spunOut() {
            if (++spins < 64) {
                Thread.onSpinWait();
                return false;
            }
            spins = 0;
            long now = System.nanoTime();
            if (start == 0) {
                start = now;
                lastYield = now;
            } else if (now - start > window) {
                start = 0; // spin again after a wake-up
                return true;
            }
            if (now - lastYield >= YIELD_AFTER_NANOS) {
                // lets a thread that is ready have this core meanwhile: a data loader, the JIT, or the very thread
                // this one waits for, when the two have been put on one core
                lastYield = now;
                Thread.yield();
            }
            return false;
        }
    }

    /**
     * Spins (yielding now and then) until {@code counters[i]} reaches {@code target}, for a task that needs what other
     * threads of its call have taken and are doing: it never waits for work nobody has taken. Parks in short naps once
     * the spinning is over; throws {@link BrokenCallException} once {@code broken} is set (a task that failed sets it,
     * and what it had taken will never be done).
     */
    static void awaitCount(AtomicIntegerArray counters, int i, int target, AtomicBoolean broken) {
        Backoff backoff = new Backoff(SPIN_NANOS);
        while (counters.get(i) < target) {
            if (broken.get()) {
                throw new BrokenCallException();
            }
            if (backoff.spunOut()) {
                LockSupport.parkNanos(counters, 20_000);
            }
        }
    }

    /** Keeps the first failure, others suppressed; a broken call's wait only stands in until the cause arrives. */
    private synchronized void addFailure(Throwable next) {
        if (failure == null || failure instanceof BrokenCallException && !(next instanceof BrokenCallException)) {
            failure = next;
        } else if (failure != next && !(next instanceof BrokenCallException)) {
            failure.addSuppressed(next);
        }
    }

    /** What a task waiting in {@link #awaitCount} throws once another task failed; {@link #run} rethrows that failure. */
    static final class BrokenCallException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        BrokenCallException() {
            super("another task of this call failed");
        }
    }

    /** One persistent helper thread: waits for a new call, joins it, takes its tasks until none is left, leaves. */
    private final class Worker implements Runnable {
        private final int index;
        volatile boolean parked;
        Thread thread;
        private long seen;

        Worker(int index) {
            this.index = index;
        }

        @Override
        public void run() {
            while (true) {
                Call c = awaitCall();
                if (c == null) {
                    return;
                }
                seen = c.number;
                if (index < Math.min(c.tasks, threads)) {
                    c.joined.incrementAndGet();
                    if (!c.closed) { // else the caller may have stopped waiting: this thread writes nothing of c
                        if (c.joinedAt != null) {
                            c.joinedAt[index] = System.nanoTime();
                        }
                        runTasks(c, index);
                    }
                    if (c.joined.decrementAndGet() == 0) {
                        Thread caller = parkedCaller;
                        if (caller != null) {
                            LockSupport.unpark(caller);
                        }
                    }
                }
            }
        }

        private Call awaitCall() {
            Backoff backoff = new Backoff(spinNanos);
            while (true) {
                Call c = call;
                if (c.number != seen) {
                    return c;
                }
                if (closed) {
                    return null;
                }
                if (backoff.spunOut()) {
                    parked = true;
                    if (call.number == seen && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }

    /** Worker threads still alive (tests: close() stops them all). */
    int liveWorkers() {
        int n = 0;
        for (Thread t : threadsOf) {
            n += t.isAlive() ? 1 : 0;
        }
        return n;
    }

    /** Stops the workers; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Thread t : threadsOf) {
            LockSupport.unpark(t);
        }
        for (Thread t : threadsOf) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
