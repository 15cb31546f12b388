package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.data.DataLoader;
import dev.jacobian.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/**
 * The training loader's prefetch when the command line names none: the most batches ahead while the steps leave a core
 * free for the loader's thread, one when they keep every core busy; and the backends say how many cores they keep busy.
 */
class LoaderPrefetchTest {
    @Test
    void theMostBatchesAheadOnlyWhileACoreIsFree() {
        assertEquals(DataLoader.MAX_PREFETCH, TrainingRun.defaultPrefetch(1, 2));
        assertEquals(DataLoader.MAX_PREFETCH, TrainingRun.defaultPrefetch(3, 16));
        assertEquals(1, TrainingRun.defaultPrefetch(2, 2));
        assertEquals(1, TrainingRun.defaultPrefetch(4, 2), "more threads than cores (several workers' backends)");
        assertEquals(1, TrainingRun.defaultPrefetch(1, 1));
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
}
