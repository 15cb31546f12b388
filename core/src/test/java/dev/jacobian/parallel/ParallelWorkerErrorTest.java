package dev.jacobian.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A worker's Error (not only a RuntimeException) still lets every worker finish before the step fails. */
class ParallelWorkerErrorTest {
    private static Model mlp(Backend b) {
        return Sequential.builder(4).hidden(3, "relu").output(2, LossKind.SOFTMAX_CROSS_ENTROPY).build(b);
    }

    /** A backend that runs {@code hook} before each {@code readLater} (a shard's loss read) once {@code armed}. */
    private static Backend hooked(Backend real, AtomicBoolean armed, Runnable hook) {
        InvocationHandler h = (proxy, method, args) -> {
            if (armed.get() && method.getName().equals("readLater")) {
                hook.run();
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    /**
     * Before: an Error on worker 0 (the caller's thread) escaped inParallel at once, while worker 1 still computed
     * its shard into the shared gradient arrays (and could overlap the next step).
     */
    @Test
    @Timeout(60)
    void anErrorOnTheCallersWorkerWaitsForTheOthers() {
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean otherFinished = new AtomicBoolean();
        AssertionError boom = new AssertionError("boom on worker 0");
        try (ReferenceBackend r0 = new ReferenceBackend(); ReferenceBackend r1 = new ReferenceBackend();
             Sgd sgd = Sgd.builder().build()) {
            Backend b0 = hooked(r0, armed, () -> {
                throw boom;
            });
            Backend b1 = hooked(r1, armed, () -> {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                otherFinished.set(true);
            });
            try (DataParallel dp = DataParallel.create(List.of(b0, b1), 2, ParallelWorkerErrorTest::mlp, sgd)) {
                float[] x = new float[4 * 4];
                float[] t = dp.model().encodeTargets(new int[] {0, 1, 0, 1});
                long stream = dp.model().executor().forwardCount();
                armed.set(true);
                AssertionError e = assertThrows(AssertionError.class, () -> dp.step(x, t, 0, 4));
                assertSame(boom, e);
                assertTrue(otherFinished.get(), "the step failed before worker 1 finished its shard");
                assertEquals(stream, dp.model().executor().forwardCount(), "a failed step draws nothing");
                armed.set(false);
                dp.step(x, t, 0, 4); // the next step works
            }
        }
    }

    /** An Error on another worker is rethrown as that Error, not wrapped. */
    @Test
    @Timeout(60)
    void anErrorOnAnotherWorkerIsRethrownAsIs() {
        AtomicBoolean armed = new AtomicBoolean();
        AssertionError boom = new AssertionError("boom on worker 1");
        try (ReferenceBackend r0 = new ReferenceBackend(); ReferenceBackend r1 = new ReferenceBackend();
             Sgd sgd = Sgd.builder().build()) {
            Backend b1 = hooked(r1, armed, () -> {
                throw boom;
            });
            try (DataParallel dp = DataParallel.create(List.of(r0, b1), 2, ParallelWorkerErrorTest::mlp, sgd)) {
                float[] x = new float[4 * 4];
                float[] t = dp.model().encodeTargets(new int[] {0, 1, 0, 1});
                armed.set(true);
                assertSame(boom, assertThrows(AssertionError.class, () -> dp.step(x, t, 0, 4)));
            }
        }
    }
}
