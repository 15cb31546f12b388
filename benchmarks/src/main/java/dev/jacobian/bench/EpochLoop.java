package dev.jacobian.bench;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.data.Batch;
import dev.jacobian.data.DataLoader;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.IdxFormatException;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Training epochs the way {@code bin/jacobian train} runs them, without its bookkeeping, for several configurations in
 * one process, alternating: each configuration ({@code threads:prefetch}, e.g. {@code 2:1} for a CPU backend of 2
 * threads fed by a loader with one batch of prefetch, {@code 2:0} for batches gathered on the training thread,
 * {@code 2:P} for batches gathered between the steps on the backend's threads, {@link DataLoader.Builder#gatherOn}) has
 * its own backend, 784-256-128-10 MLP (He init, seed 42; SGD lr 0.05, momentum 0.9, clipping at 5) and
 * {@link DataLoader} over the Fashion-MNIST training set, and the configurations take turns, one epoch each, after
 * {@code warm} epochs each that are not counted. Alternating keeps a machine whose speed drifts, and the JIT, from
 * favouring one configuration; timing after the warm epochs leaves out the JIT's compiling, which a fresh
 * {@code bin/jacobian train} pays during its first epochs (on 2 cores, from the compute threads).
 *
 * <p>Prints, per configuration, the median over the rounds of its epoch time against the first configuration's in the
 * same round, and the share of its epochs spent waiting for a batch (the loader's fill, or the hand-over from its
 * thread). System properties: {@code configs} ({@code 1:8,2:P,2:1}: {@code bin/jacobian train}'s loaders on 1 and
 * 2 threads of a 2-core machine, and a loader's thread one batch ahead on 2), {@code batch} (128), {@code rounds} (5),
 * {@code warm} (2), {@code pause} (milliseconds between two epochs, 300: longer than the CPU backend's workers spin
 * after a call, so that no configuration's epoch shares the cores with the previous one's workers), {@code data} (the
 * directory with {@code train-images-idx3-ubyte.gz} and
 * {@code train-labels-idx1-ubyte.gz}; {@code samples/data/fashion-mnist}). {@code benchmarks/run-epoch-loop.sh} runs
 * it with the machine's peak beside it.
 */
public final class EpochLoop {
    private EpochLoop() {
    }

    /**
     * Runs the comparison.
     *
     * @param args none
     * @throws IdxFormatException   when the data files cannot be read
     * @throws InterruptedException when interrupted between two epochs
     */
    public static void main(String[] args) throws IdxFormatException, InterruptedException {
        String[] configs = System.getProperty("configs", "1:8,2:P,2:1").split(",");
        int batch = Integer.getInteger("batch", 128);
        int rounds = Integer.getInteger("rounds", 5);
        int warm = Integer.getInteger("warm", 2);
        long pauseMillis = Long.getLong("pause", 300);
        Path dir = Path.of(System.getProperty("data", "samples/data/fashion-mnist"));
        ImageDataset train = IdxReader.load(dir.resolve("train-images-idx3-ubyte.gz"),
                dir.resolve("train-labels-idx1-ubyte.gz"));
        int n = configs.length;
        CpuBackend[] backends = new CpuBackend[n];
        Trainer[] trainers = new Trainer[n];
        DataLoader[] loaders = new DataLoader[n];
        for (int i = 0; i < n; i++) {
            String[] c = configs[i].split(":");
            backends[i] = new CpuBackend(Integer.parseInt(c[0].trim()));
            Model model = BenchSupport.mlp(backends[i]);
            trainers[i] = new Trainer(model, Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build());
            trainers[i].trackPredictions(true); // as bin/jacobian train does
            DataLoader.Builder loader = DataLoader.builder(train).batchSize(batch).shuffle(1).dropLast(true)
                    .targets(model::encodeTargets);
            if (c[1].trim().equalsIgnoreCase("P")) {
                CpuBackend backend = backends[i];
                loader.prefetch(0).gatherOn(backend.hostThreads(), backend::runOnHostThreads);
            } else {
                loader.prefetch(Integer.parseInt(c[1].trim()));
            }
            loaders[i] = loader.build();
        }
        double[][] seconds = new double[n][rounds];
        double[][] waiting = new double[n][rounds];
        for (int r = -warm; r < rounds; r++) {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                long waited = 0;
                try (DataLoader.Epoch epoch = loaders[i].epoch(r + warm + 1)) {
                    while (epoch.hasNext()) {
                        long a = System.nanoTime();
                        Batch b = epoch.next();
                        waited += System.nanoTime() - a;
                        trainers[i].step(b.features(), b.targets(), 0, b.rows());
                    }
                }
                if (r >= 0) {
                    seconds[i][r] = (System.nanoTime() - t0) / 1e9;
                    waiting[i][r] = waited / 1e9 / seconds[i][r];
                }
                // the backend's workers spin for up to 200 ms after their last call (Parallel's window), and would
                // take a core from the next configuration's epoch (from one that follows a 2-thread one, not from one
                // that follows a 1-thread one)
                Thread.sleep(pauseMillis);
            }
        }
        System.out.printf(Locale.ROOT, "batch %d, %d rounds after %d warm epochs each; epoch time against %s's "
                + "(median and quartiles of the per-round ratios), share of the epoch waiting for a batch (median):%n",
                batch, rounds, warm, configs[0]);
        for (int i = 0; i < n; i++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = seconds[i][r] / seconds[0][r];
            }
            Arrays.sort(ratio);
            double[] w = waiting[i].clone();
            Arrays.sort(w);
            System.out.printf(Locale.ROOT, "  threads:prefetch %-5s %.2fx [%.2f-%.2f]  waiting %.1f%%%n", configs[i],
                    ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4], 100 * w[rounds / 2]);
        }
        for (int i = 0; i < n; i++) {
            loaders[i].close();
            trainers[i].close();
            backends[i].close();
        }
    }
}
