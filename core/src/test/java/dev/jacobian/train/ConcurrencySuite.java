package dev.jacobian.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Threads and backends: two threads training two models on one shared backend get, bit for bit, what each gets
 * alone (the backend serializes their calls); two threads with a backend each (the data-parallel case) are fully
 * independent. Each backend extends it.
 */
public abstract class ConcurrencySuite {
    private static final int STEPS = 40;

    /** A new backend for each call (the suite closes it). */
    protected abstract Backend createBackend();

    /** Synthetic 3-class data: {@code n} samples of 24 features. */
    private static float[] features(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n * 24];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Trains a 24-64-32-3 MLP (seed {@code seed}) for {@link #STEPS} steps on {@code b}; the final parameters. */
    private static float[] train(Backend b, long seed) {
        float[] x = features(256, seed);
        int[] y = new int[256];
        for (int i = 0; i < y.length; i++) {
            y[i] = (x[i * 24] > 0 ? 1 : 0) + (x[i * 24 + 1] > 0.5f ? 1 : 0);
        }
        try (Model m = Sequential.builder(24).hidden(64, "relu").hidden(32, "tanh").batchNorm().dropout(0.1)
                .output(3, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(seed).build(b);
             Adam adam = Adam.builder().learningRate(1e-2).clipNorm(5).build();
             Trainer t = new Trainer(m, adam)) {
            float[] targets = m.encodeTargets(y);
            for (int s = 0; s < STEPS; s++) {
                t.step(x, targets, (s % 8) * 32, 32);
            }
            return m.executor().parameterArena().download();
        }
    }

    private static List<float[]> inParallel(List<Callable<float[]>> jobs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(jobs.size());
        try {
            List<Future<float[]>> futures = pool.invokeAll(jobs);
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** Two threads, two models, one backend: each model ends exactly where it ends when trained alone. */
    @Test
    @Timeout(300)
    void twoThreadsSharingABackendGetWhatEachGetsAlone() throws Exception {
        float[] aloneA;
        float[] aloneB;
        try (Backend b = createBackend()) {
            aloneA = train(b, 1);
            aloneB = train(b, 2);
        }
        for (int round = 0; round < 3; round++) {
            try (Backend b = createBackend()) {
                List<float[]> both = inParallel(List.of(() -> train(b, 1), () -> train(b, 2)));
                assertArrayEquals(aloneA, both.get(0), "model 1, round " + round);
                assertArrayEquals(aloneB, both.get(1), "model 2, round " + round);
            }
        }
    }

    /** Two threads with a backend each (the data-parallel case) share nothing. */
    @Test
    @Timeout(300)
    void twoThreadsWithABackendEachAreIndependent() throws Exception {
        float[] alone;
        try (Backend b = createBackend()) {
            alone = train(b, 3);
        }
        List<float[]> both = inParallel(List.<Callable<float[]>>of(() -> {
            try (Backend b = createBackend()) {
                return train(b, 3);
            }
        }, () -> {
            try (Backend b = createBackend()) {
                return train(b, 3);
            }
        }));
        assertArrayEquals(alone, both.get(0), "replica 1");
        assertArrayEquals(alone, both.get(1), "replica 2");
    }
}
