package dev.jacobian.spark.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.spark.ShardedData;
import dev.jacobian.spark.SparkDataParallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Seconds per epoch of data-parallel training in Spark's local mode against {@link DataParallel} on the same
 * machine, in one run: the 784-256-128-10 MLP (SGD, momentum 0.9, clipping at 5) on synthetic 28x28 samples, CPU
 * backends of one thread per worker. Prints one table row per configuration: per-step mode with 1 and 2 tasks,
 * averaging every k steps, and the local trainer with 1 and 2 workers; the Spark rows also give the exchange's cost
 * per step (the job's wall time minus its slowest task). Run by {@code benchmarks/run-spark.sh}; not a test.
 */
public final class SparkEpochBenchmark {
    private static final int INPUTS = 784;
    private static final int CLASSES = 10;

    private SparkEpochBenchmark() {
    }

    static Model mlp(Backend b) {
        return Sequential.builder(INPUTS).hidden(256, "relu").hidden(128, "relu")
                .output(CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(42).build(b);
    }

    static Optimizer sgd() {
        return Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build();
    }

    /** Args: samples per epoch, global batch, epochs (the first is a warm-up and not counted). */
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 12800;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        SplittableRandom r = new SplittableRandom(7);
        float[] x = new float[n * INPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(CLASSES);
        }
        List<String> rows = new ArrayList<>();
        rows.add("| trainer | workers | global batch | s/epoch (mean of " + (epochs - 1) + " after a warm-up) | samples/s "
                + "| exchange cost per step (job wall − slowest task) | exchanges |");
        rows.add("| --- | --- | --- | --- | --- | --- | --- |");
        for (int workers : new int[] {1, 2}) {
            rows.add(local(x, labels, n, batch, epochs, workers));
        }
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("bench")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"))) {
            sc.setLogLevel("WARN");
            for (int workers : new int[] {1, 2}) {
                rows.add(spark(sc, x, labels, batch, epochs, workers, 0));
            }
            for (int every : new int[] {8, 32}) {
                rows.add(spark(sc, x, labels, batch, epochs, 2, every));
            }
        }
        rows.forEach(System.out::println);
    }

    private static String local(float[] x, int[] labels, int n, int batch, int epochs, int workers) {
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            backends.add(new CpuBackend(1));
        }
        try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(backends, SparkEpochBenchmark::mlp, opt)) {
            float[] t = dp.model().encodeTargets(labels);
            double seconds = 0;
            for (int e = 0; e < epochs; e++) {
                long t0 = System.nanoTime();
                for (int s = 0; s + batch <= n; s += batch) {
                    dp.step(x, t, s, batch);
                }
                if (e > 0) {
                    seconds += (System.nanoTime() - t0) / 1e9;
                }
            }
            seconds /= epochs - 1;
            int used = n / batch * batch;
            return String.format(Locale.ROOT, "| DataParallel (threads) | %d | %d | %.3f | %.0f | — | %d |", workers, batch,
                    seconds, used / seconds, n / batch);
        } finally {
            backends.forEach(Backend::close);
        }
    }

    private static String spark(JavaSparkContext sc, float[] x, int[] labels, int batch, int epochs, int workers,
                                int every) {
        int local = batch / workers;
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd();
             SparkDataParallel sdp = SparkDataParallel.create(sc, workers, leader, opt, () -> new CpuBackend(1),
                     SparkEpochBenchmark::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(labels), INPUTS, 1, workers)) {
            double seconds = 0;
            long jobs = 0;
            long tasks = 0;
            long exchanges = 0;
            for (int e = 1; e <= epochs; e++) {
                long j0 = sdp.jobNanos();
                long k0 = sdp.taskNanos();
                long x0 = sdp.exchanges();
                long t0 = System.nanoTime();
                if (every == 0) {
                    sdp.fitPerStep(data, 1, local, e, null);
                } else {
                    sdp.fitAveraging(data, 1, local, every, e, SparkEpochBenchmark::sgd, null);
                }
                if (e > 1) {
                    seconds += (System.nanoTime() - t0) / 1e9;
                    jobs += sdp.jobNanos() - j0;
                    tasks += sdp.taskNanos() - k0;
                    exchanges += sdp.exchanges() - x0;
                }
            }
            seconds /= epochs - 1;
            int steps = data.minRows() / local;
            int used = steps * local * workers;
            String name = every == 0 ? "Spark local[2], per step" : "Spark local[2], average every " + every;
            String cost = every == 0 ? String.format(Locale.ROOT, "%.2f ms", (jobs - tasks) / 1e6 / exchanges) : String.format(
                    Locale.ROOT, "%.2f ms per exchange (a task runs %d steps)",
                    (jobs - tasks) / 1e6 / exchanges, every);
            return String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.0f | %s | %d |", name, workers, batch, seconds,
                    used / seconds, cost, exchanges / (epochs - 1));
        }
    }
}
