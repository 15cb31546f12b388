package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.IdxFiles;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.training.TrainingRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Edge cases of the command line: run directories, predict's default count, the help text. */
class CliEdgeCasesTest {
    @TempDir
    static Path dir;
    /** A run of two epochs of a tiny MLP. */
    static Path run;

    private static String[] train(Path out, String layers, int epochs, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--backend", "cpu", "--limit", "200", "--layers",
                layers, "--batch", "50", "--validation", "50", "--epochs", Integer.toString(epochs), "--out",
                out.toString(), "--no-progress", "--no-warm-up"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @BeforeAll
    static void setUp() {
        run = dir.resolve("run");
        CliRun r = CliRun.of(train(run, "8", 2));
        assertEquals(0, r.code(), r.err());
    }

    private static Map<String, byte[]> files(Path d) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(d)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    /**
     * A new run (no --resume) into a directory holding another run's checkpoints is refused before anything is
     * written: it used to prune its own checkpoints as it wrote them (they sort below the other run's newer epochs),
     * so that eval, predict, a rollback or --resume then took the other run's model for its own.
     */
    @Test
    void aNewRunIntoADirectoryWithCheckpointsIsRefusedAndChangesNothing() throws Exception {
        Path other = dir.resolve("other");
        assertEquals(0, CliRun.of(train(other, "8", 2)).code());
        Map<String, byte[]> before = files(other);
        CliRun r = CliRun.of(train(other, "16", 1));
        assertEquals(JacobianCli.EXIT_BAD_INPUT, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains("--out") && first.contains("other") && first.contains("--resume"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        Map<String, byte[]> after = files(other);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " changed"));
        // --resume still goes on with it
        CliRun resumed = CliRun.of(train(other, "8", 3, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(new CheckpointStore(other).latest().orElseThrow().getFileName().toString().contains("0003"));
    }

    /** An IDX file of fewer than 10 images is classified whole when --count is not given. */
    @Test
    void predictWithoutCountTakesTheImagesASmallIdxFileHolds() throws Exception {
        Path five = Files.write(dir.resolve("five-images-idx3-ubyte"), IdxFiles.images(5, 28, 28));
        CliRun r = CliRun.of("predict", "--backend", "cpu", "--checkpoint", run.toString(), "--images",
                five.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(5, r.out().lines().count(), r.out());
        CliRun tail = CliRun.of("predict", "--backend", "cpu", "--checkpoint", run.toString(), "--images",
                five.toString(), "--from", "3");
        assertEquals(0, tail.code(), tail.err());
        assertEquals(2, tail.out().lines().count(), tail.out());
        CliRun beyond = CliRun.of("predict", "--backend", "cpu", "--checkpoint", run.toString(), "--images",
                five.toString(), "--from", "5");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, beyond.code(), beyond.err());
        assertTrue(beyond.err().lines().findFirst().orElse("").contains("--from 5 is outside the 5 images"),
                beyond.err());
    }

    /** A copy of {@link #run}'s files but its metrics.json, in a new directory {@code name}. */
    private static Path copyOfRunWithoutMetrics(String name) throws Exception {
        Path copy = Files.createDirectory(dir.resolve(name));
        try (Stream<Path> s = Files.list(run)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().equals(TrainingRun.METRICS)) {
                    Files.copy(p, copy.resolve(p.getFileName()));
                }
            }
        }
        return copy;
    }

    /** {@code predict --images one.png} with the checkpoint of {@code runDir}. */
    private static CliRun predictPicture(Path runDir) throws Exception {
        Path png = dir.resolve("one.png");
        if (!Files.exists(png)) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(28, 28,
                    java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png", bytes);
            Files.write(png, bytes.toByteArray());
        }
        return CliRun.of("predict", "--backend", "cpu", "--checkpoint", runDir.toString(), "--images", png.toString());
    }

    /** metrics.json of ten class names {@code prefix + i}, after {@code padding} bytes of a string. */
    private static byte[] metricsNaming(String prefix, int padding) {
        StringBuilder json = new StringBuilder("{\"pad\": \"").append("x".repeat(padding))
                .append("\", \"class_names\": [");
        for (int i = 0; i < 10; i++) {
            json.append(i == 0 ? "" : ", ").append('"').append(prefix).append(i).append('"');
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Before: predict opened a named pipe called metrics.json and waited for a writer for ever. */
    @Test
    void predictIgnoresAMetricsJsonThatIsAPipe() throws Exception {
        Path copy = copyOfRunWithoutMetrics("fifo-metrics");
        Path fifo = copy.resolve(TrainingRun.METRICS);
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no mkfifo here: " + e.getMessage());
            return;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "mkfifo failed");
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<CliRun> f = pool.submit(() -> predictPicture(copy));
            CliRun r;
            try {
                r = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                new java.io.FileOutputStream(fifo.toFile()).close(); // the blocked reader gets an end of file
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                throw new AssertionError("predict waited on the pipe metrics.json", e);
            }
            assertEquals(0, r.code(), r.err());
            assertEquals(1, r.out().lines().count(), r.out());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Before: a metrics.json of any size was read whole for its class names; one over 16 MiB is now ignored. */
    @Test
    void predictIgnoresAMetricsJsonOverSixteenMegabytes() throws Exception {
        Path copy = copyOfRunWithoutMetrics("huge-metrics");
        Files.write(copy.resolve(TrainingRun.METRICS), metricsNaming("huge-", 17 << 20));
        CliRun r = predictPicture(copy);
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("huge-"), r.out()); // the data directory's names, as without metrics.json
        Path small = copyOfRunWithoutMetrics("small-metrics");
        Files.write(small.resolve(TrainingRun.METRICS), metricsNaming("small-", 1000));
        CliRun named = predictPicture(small);
        assertEquals(0, named.code(), named.err());
        assertTrue(named.out().contains("small-"), named.out()); // a sane one is still read
    }

    /** Before: control characters in metrics.json's class names (an escape sequence) reached the terminal. */
    @Test
    void predictStripsControlCharactersFromClassNames() throws Exception {
        Path copy = copyOfRunWithoutMetrics("control-metrics");
        Files.write(copy.resolve(TrainingRun.METRICS), metricsNaming("a\\u001b[2Jb\\u0007c\\n\\u009bd-", 0));
        CliRun r = predictPicture(copy);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a[2Jbcd-"), r.out());
        assertEquals(1, r.out().lines().count(), r.out());
        assertFalse(r.out().chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\r'), r.out());
    }

    /** The help and usage texts format: a bare '%' in a description made picocli print warnings to stderr. */
    @Test
    void helpTextsFormatWithoutWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            r = CliRun.of("predict", "--help");
            for (String command : new String[] {"train", "eval", "info"}) {
                assertEquals(0, CliRun.of(command, "--help").code());
            }
        } finally {
            System.setErr(saved);
        }
        String err = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, r.code(), r.err());
        assertFalse(err.contains("picocli WARN") || err.contains("Could not format"), err);
        assertTrue(r.out().contains("100%)") && r.out().contains("50% grey"), r.out());
    }

    /**
     * A file in the run directory named like a checkpoint of an epoch beyond an int is no checkpoint: it failed every
     * listing with a NumberFormatException (train --resume: exit 1 and the exception's name).
     */
    @Test
    void aCheckpointNameBeyondAnIntIsIgnored() throws Exception {
        Path odd = dir.resolve("odd");
        assertEquals(0, CliRun.of(train(odd, "8", 1)).code());
        Files.write(odd.resolve("checkpoint-epoch-99999999999.json"), new byte[0]);
        assertTrue(new CheckpointStore(odd).latest().orElseThrow().getFileName().toString().contains("0001"));
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--checkpoint", odd.toString());
        assertEquals(0, eval.code(), eval.err());
        CliRun resumed = CliRun.of(train(odd, "8", 2, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
    }

    /**
     * Values in range as doubles but not as the 32-bit floats the optimizer, the model and the checkpoints take:
     * each exited 1 with a library exception's name (--l2 1e300 only when the first checkpoint was written).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"--lr, 1e300", "--lr, 1e-300", "--weight-decay, 1e300",
        "--weight-decay, Infinity", "--l2, 1e300", "--l2, Infinity", "--momentum, 0.99999999999",
        "--dropout, 0.99999999999", "--lr-gamma, 1e300"})
    void optionValuesOutOfAFloatsRangeAreBadOptionValues(String option, String value) {
        Path out = dir.resolve("float" + option + value);
        CliRun r = CliRun.of(train(out, "8", 1, option, value));
        assertEquals(JacobianCli.EXIT_BAD_INPUT, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains(option + " must"), r.err());
        assertFalse(first.contains("Exception"), r.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    /**
     * More --workers than a batch holds once --limit has cut the training set below --batch: exit 1 with the name of
     * the data-parallel step's exception before.
     */
    @Test
    void moreWorkersThanABatchHoldsIsBadInput() {
        CliRun r = CliRun.of("train", "--backend", "cpu", "--limit", "4", "--validation", "0", "--batch", "8",
                "--workers", "8", "--layers", "8", "--epochs", "1", "--out", dir.resolve("workers").toString(),
                "--no-progress", "--no-warm-up");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains("--workers 8") && first.contains("4 samples"), r.err());
        assertFalse(first.contains("Exception"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    /**
     * A checkpoint whose model has more outputs (12) than the data has classes (10): eval exited 1 with the confusion
     * matrix's exception ("predicted[1] must be a class in [0, 10): 11"); resume already reported it.
     */
    @Test
    void evalOfAModelWithMoreOutputsThanClassesIsBadInput() throws Exception {
        var loaded = CheckpointStore.load(run, dev.jacobian.samples.training.TrainingState.class);
        Path twelve = dir.resolve("twelve");
        try (dev.jacobian.backend.Backend b = dev.jacobian.backend.Backends.create("cpu");
             dev.jacobian.nn.Model model = dev.jacobian.samples.training.Networks.model(loaded.state().config(),
                     dev.jacobian.tensor.Shape.of(1, 28, 28), 12, b);
             dev.jacobian.optim.Optimizer opt = dev.jacobian.samples.training.Networks.optimizer(
                     loaded.state().config(), 0.05)) {
            new CheckpointStore(twelve).save(1, dev.jacobian.samples.training.Networks.tensors(model, opt, null),
                    dev.jacobian.io.ModelFile.metadata(model, opt, new java.util.LinkedHashMap<>()), loaded.state());
        }
        CliRun r = CliRun.of("eval", "--backend", "cpu", "--checkpoint", twelve.toString());
        assertEquals(JacobianCli.EXIT_BAD_INPUT, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains("checkpoint-epoch-0001.json") && first.contains("12 outputs"), r.err());
        assertFalse(first.contains("Exception"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void runsStartedInTheSameSecondGetDirectoriesOfTheirOwn(@TempDir Path tmp) throws java.io.IOException {
        Path runs = tmp.resolve("runs");
        Path first = TrainCommand.newRunDir(runs, "20261205-170000");
        Path second = TrainCommand.newRunDir(runs, "20261205-170000");
        Path third = TrainCommand.newRunDir(runs, "20261205-170000");
        assertEquals(List.of("20261205-170000", "20261205-170000-2", "20261205-170000-3"),
                Stream.of(first, second, third).map(p -> p.getFileName().toString()).toList());
        assertTrue(Files.isDirectory(first) && Files.isDirectory(second) && Files.isDirectory(third));
        assertEquals(runs.resolve("20261205-170001"), TrainCommand.newRunDir(runs, "20261205-170001"));
    }
}
