package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.data.DataLoader;
import dev.jacobian.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The training loader's prefetch when the command line names none: the most batches ahead while the steps leave a core
 * free for the loader's thread, none (gathered between the steps) when they keep every core busy; the backends say how
 * many cores they keep busy, and run tasks on their threads.
 */
class LoaderPrefetchTest {
    @Test
    void theMostBatchesAheadOnlyWhileACoreIsFree() {
        assertEquals(DataLoader.MAX_PREFETCH, TrainingRun.defaultPrefetch(1, 2));
        assertEquals(DataLoader.MAX_PREFETCH, TrainingRun.defaultPrefetch(3, 16));
        assertEquals(0, TrainingRun.defaultPrefetch(2, 2));
        assertEquals(0, TrainingRun.defaultPrefetch(4, 2), "more threads than cores (several workers' backends)");
        assertEquals(0, TrainingRun.defaultPrefetch(1, 1));
    }

    @Test
    void backendsCountTheCoresTheyKeepBusy() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend three = new CpuBackend(3);
             ReferenceBackend reference = new ReferenceBackend()) {
            assertEquals(1, one.hostThreads());
            assertEquals(3, three.hostThreads());
            assertEquals(1, reference.hostThreads(), "the default: the calling thread");
        }
    }

    /** Every task runs once, on the backend's threads or in order on the caller; a failure reaches the caller. */
    @Test
    void backendsRunTasksOnTheirThreads() {
        try (CpuBackend two = new CpuBackend(2); ReferenceBackend reference = new ReferenceBackend()) {
            for (Backend b : List.of(two, reference)) {
                for (int tasks : new int[] {0, 1, 2, 7}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, tasks));
                    b.runOnHostThreads(tasks, runs::incrementAndGet);
                    for (int t = 0; t < tasks; t++) {
                        assertEquals(1, runs.get(t), b.name() + ": task " + t + " of " + tasks);
                    }
                }
                IllegalStateException failure = new IllegalStateException("task 3 failed");
                IllegalStateException thrown = assertThrows(IllegalStateException.class,
                        () -> b.runOnHostThreads(5, t -> {
                            if (t == 3) {
                                throw failure;
                            }
                        }));
                assertSame(failure, thrown, b.name());
                assertThrows(IllegalArgumentException.class, () -> b.runOnHostThreads(-1, t -> { }));
            }
            List<Integer> order = new ArrayList<>();
            reference.runOnHostThreads(4, order::add);
            assertEquals(List.of(0, 1, 2, 3), order, "the default runs them in order on the caller");
        }
    }
}
