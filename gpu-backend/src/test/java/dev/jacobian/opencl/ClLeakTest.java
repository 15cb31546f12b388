package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** 10,000 training steps leave the live device buffers and the process RSS flat. */
class ClLeakTest {
    static final int STEPS = 10_000;
    /** RSS may grow this much between the warm-up and the end (JIT, allocator arenas), not per step. */
    static final long RSS_SLACK_BYTES = 48L << 20;

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** RSS after a collection, so that garbage waiting in the Java heap is not mistaken for a leak. */
    static long settledRss() throws IOException {
        System.gc();
        return rssBytes();
    }

    @Test
    void tenThousandStepsLeaveBuffersAndRssFlat() throws IOException {
        int n = 64;
        int features = 16;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[n * features];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(4);
        }
        try (Backend b = OpenClTestSupport.openOrSkip();
             Model mlp = Sequential.builder(features).hidden(32, "relu").output(4, LossKind.SOFTMAX_CROSS_ENTROPY).build(b);
             Sgd sgd = Sgd.builder().learningRate(0.01).momentum(0.9).clipNorm(1).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(y);
            for (int i = 0; i < 500; i++) {
                t.step(x, targets, (i * 16) % n, 16);
            }
            long buffers = b.stats().liveBuffers();
            long allocations = b.stats().allocations();
            long rss = settledRss();
            long[] window = new long[4];
            for (int w = 0; w < window.length; w++) {
                for (int i = 0; i < STEPS / window.length; i++) {
                    t.step(x, targets, (i * 16) % n, 16);
                }
                window[w] = settledRss();
            }
            assertEquals(buffers, b.stats().liveBuffers(), "live device buffers after " + STEPS + " steps");
            assertEquals(allocations, b.stats().allocations(), "device allocations after " + STEPS + " steps");
            long grown = window[window.length - 1] - rss;
            assertTrue(grown < RSS_SLACK_BYTES, "RSS grew by " + (grown >> 20) + " MiB over " + STEPS + " steps (start "
                    + (rss >> 20) + " MiB, after each quarter " + java.util.Arrays.toString(
                    java.util.Arrays.stream(window).map(v -> v >> 20).toArray()) + " MiB)");
        }
    }
}
