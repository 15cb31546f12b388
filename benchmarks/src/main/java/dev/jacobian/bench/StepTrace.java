package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.util.Arrays;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;

/**
 * Runs {@link TrainingStepBenchmark}'s step (the 784-256-128-10 MLP, SGD with momentum 0.9 and clipping at 5,
 * {@link Trainer#step}: upload, forward, backward, update, one blocking read) on a backend and marks each step
 * for the OpenCL call counter {@code ../shared/device/tools/cltrace.c}, whose report then gives per step the
 * launches, argument sets, transfers and, with {@code CLTRACE_PROFILE=1}, the device time of every kernel and
 * the device's idle time between them. The one-shot GPU check ({@code benchmarks/gpu/run-on-device.sh}) runs it
 * under the counter:
 * <pre>
 *   CLTRACE_OUT=/tmp/step.tl CLTRACE_PROFILE=1 LD_LIBRARY_PATH=/tmp/cltrace \
 *       java -cp benchmarks/target/benchmarks.jar dev.jacobian.bench.StepTrace opencl 300 32,128,512
 *   python3 ../shared/device/tools/cltrace_report.py /tmp/step.tl --list
 * </pre>
 * Arguments: backend (default {@code opencl}), measured steps per batch size (default 300, after 100 unmarked
 * warm-up steps), batch sizes (default {@code 128}). It prints the median and mean step time per batch size
 * beside the same run's median: ratios only between lines of one run. A mark is a {@code clGetPlatformInfo} call
 * with a made-up parameter ({@code 0x7ACE0000 + n}); without the counter the loader refuses it, which is ignored.
 */
public final class StepTrace {
    private static final int MARK_BASE = 0x7ACE0000;
    private static final int MARK_STEP = 0xFFFE;
    private static final int MARK_END = 0xFFF0;
    private static final int WARMUP = 100;

    private StepTrace() {
    }

    /**
     * Runs the marked steps.
     *
     * @param args backend, steps, comma-separated batch sizes (all optional)
     */
    public static void main(String[] args) {
        String backend = args.length > 0 ? args[0] : "opencl";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        int[] batches = Arrays.stream((args.length > 2 ? args[2] : "128").split(","))
                .mapToInt(Integer::parseInt).toArray();
        for (int batch : batches) {
            try (Backend be = BenchSupport.backend(backend)) {
                Model model = BenchSupport.mlp(be);
                Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build();
                try (Trainer trainer = new Trainer(model, sgd)) {
                    int nb = TrainingStepBenchmark.BATCHES;
                    float[] images = BenchSupport.uniform(7, nb * batch * TrainingStepBenchmark.INPUTS, 0f, 1f);
                    float[] targets = model.encodeTargets(
                            BenchSupport.labels(8, nb * batch, TrainingStepBenchmark.CLASSES));
                    for (int i = 0; i < WARMUP; i++) {
                        trainer.step(images, targets, (i % nb) * batch, batch);
                    }
                    long[] t = new long[steps];
                    mark(batch);
                    for (int i = 0; i < steps; i++) {
                        mark(MARK_STEP);
                        long s = System.nanoTime();
                        trainer.step(images, targets, (i % nb) * batch, batch);
                        t[i] = System.nanoTime() - s;
                    }
                    mark(MARK_END);
                    long[] sorted = t.clone();
                    Arrays.sort(sorted);
                    System.out.printf(Locale.ROOT, "steptrace %s batch %d steps %d median_us %.1f mean_us %.1f%n",
                            be.name(), batch, steps, sorted[steps / 2] / 1e3,
                            Arrays.stream(t).average().orElse(0) / 1e3);
                } finally {
                    sgd.close();
                    model.close();
                }
            }
        }
    }

    private static void mark(int n) {
        try {
            CL.clGetPlatformInfo(null, MARK_BASE + n, 0, null, null);
        } catch (CLException e) {
            // not under the counter: the loader refuses the made-up parameter
        }
    }
}
