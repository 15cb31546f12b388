package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.data.IdxFiles;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.training.Plots;
import dev.jacobian.samples.training.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end, in-process, on a slice of the shipped Fashion-MNIST. */
class EndToEndTest {
    /** Two epochs on 3000 samples reach well above chance (10%) on the full test set. */
    private static final double MIN_ACCURACY = 0.6;
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path tmp;

    @Test
    void trainWritesMetricsPlotsAndCheckpointsThenEvalAndPredictUseThem() throws Exception {
        Path out = tmp.resolve("run");
        CliRun train = CliRun.of("train", "--limit", "3000", "--epochs", "2", "--layers", "64,32", "--backend", "cpu",
                "--clip-norm", "1", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());

        JsonNode m = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertTrue(m.get("test_accuracy").asDouble() > MIN_ACCURACY, m.get("test_accuracy").toString());
        assertEquals("cpu", m.get("backend").asText());
        assertFalse(m.get("device").asText().isBlank());
        assertEquals("completed", m.get("status").asText());
        assertEquals(2, m.get("epochs").size());
        for (String field : new String[] {"epoch", "train_loss", "train_accuracy", "val_accuracy", "seconds", "grad_norm",
                "clipped_steps", "layers"}) {
            assertTrue(m.get("epochs").get(0).has(field), field);
        }
        assertTrue(m.get("epochs").get(1).get("clipped_steps").asInt() > 0, "clip-norm 1 fires on some steps");
        JsonNode layer = m.get("epochs").get(0).get("layers").get(0);
        assertEquals("dense1", layer.get("layer").asText());
        assertTrue(layer.get("grad_norm").asDouble() > 0);
        assertTrue(layer.has("dead_fraction"));
        assertEquals("T-shirt/top", m.get("class_names").get(0).asText());
        assertEquals(10, m.get("confusion_matrix").size());
        int total = 0;
        for (JsonNode row : m.get("confusion_matrix")) {
            for (JsonNode c : row) {
                total += c.asInt();
            }
        }
        assertEquals(10_000, total);
        for (String png : new String[] {Plots.LOSS, Plots.ACCURACY, Plots.GRAD_NORMS}) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(out.resolve(png)), PNG_MAGIC.length);
            assertArrayEquals(PNG_MAGIC, head, png);
        }
        assertTrue(Files.exists(out.resolve("checkpoint-epoch-0002.safetensors")));

        CliRun eval = CliRun.of("eval", "--checkpoint", out.toString(), "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        String expected = String.format("test accuracy %.2f%%", 100 * m.get("test_accuracy").asDouble());
        assertTrue(eval.out().contains(expected), eval.out());
        assertTrue(eval.out().contains("Ankle boot"), eval.out());

        CliRun predict = CliRun.of("predict", "--checkpoint", out.toString(), "--from", "5", "--count", "3",
                "--backend", "reference");
        assertEquals(0, predict.code(), predict.err());
        assertEquals(3, predict.out().lines().count(), predict.out());
        assertTrue(predict.out().startsWith("#5 "), predict.out());
        assertTrue(predict.out().contains("%") && predict.out().contains("(true: "), predict.out());
    }

    /** AdamW, dropout and batch norm from the command line; eval and predict rebuild that model from the checkpoint. */
    @Test
    void adaptiveOptimizerDropoutAndBatchNormTrainAndEvaluate() throws Exception {
        Path out = tmp.resolve("adamw");
        CliRun train = CliRun.of("train", "--limit", "3000", "--epochs", "2", "--layers", "64,32", "--backend", "cpu",
                "--optimizer", "adamw", "--dropout", "0.2", "--batch-norm", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());
        JsonNode m = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertTrue(m.get("test_accuracy").asDouble() > MIN_ACCURACY, m.get("test_accuracy").toString());
        CliRun eval = CliRun.of("eval", "--checkpoint", out.toString(), "--backend", "reference");
        assertEquals(0, eval.code(), eval.err());
        String expected = String.format("test accuracy %.2f%%", 100 * m.get("test_accuracy").asDouble());
        assertTrue(eval.out().contains(expected), "eval runs in evaluation mode, as the test after training did: "
                + eval.out() + " vs " + expected);
        CliRun both = CliRun.of("train", "--batch-norm", "--layer-norm", "--out", tmp.resolve("x").toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--batch-norm and --layer-norm exclude each other"), both.err());
    }

    /**
     * {@code --model cnn}: convolution blocks train past the floor in two short epochs; eval and predict rebuild the
     * CNN from its checkpoint (the input shape recorded there) and agree with the run's test accuracy; images of
     * another size are refused with one line.
     */
    @Test
    void convolutionalNetworkTrainsAndEvalAndPredictRebuildIt() throws Exception {
        Path out = tmp.resolve("cnn");
        CliRun train = CliRun.of("train", "--model", "cnn", "--channels", "8,16", "--layers", "32", "--limit", "3000",
                "--epochs", "2", "--backend", "cpu", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());
        JsonNode m = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertTrue(m.get("test_accuracy").asDouble() > MIN_ACCURACY, m.get("test_accuracy").toString());
        var loaded = CheckpointStore.load(out, dev.jacobian.samples.training.TrainingState.class);
        assertEquals("cnn", loaded.state().config().model());
        assertEquals(List.of(1, 28, 28), loaded.state().inputShape());
        assertArrayEquals(new int[] {8, 1, 3, 3}, loaded.tensors().get("conv1.weight").shape());
        assertArrayEquals(new int[] {16, 8, 3, 3}, loaded.tensors().get("conv2.weight").shape());
        assertArrayEquals(new int[] {32, 16 * 7 * 7}, loaded.tensors().get("dense1.weight").shape()); // nn.Linear: [out, in]
        assertTrue(loaded.tensors().containsKey("bn2.running_var"), loaded.tensors().keySet().toString());

        CliRun eval = CliRun.of("eval", "--checkpoint", out.toString(), "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        String expected = String.format("test accuracy %.2f%%", 100 * m.get("test_accuracy").asDouble());
        assertTrue(eval.out().contains(expected), eval.out() + " vs " + expected);
        CliRun predict = CliRun.of("predict", "--checkpoint", out.toString(), "--count", "2", "--backend", "reference");
        assertEquals(0, predict.code(), predict.err());
        assertEquals(2, predict.out().lines().count(), predict.out());

        Path small = tmp.resolve("small-images-idx3-ubyte");
        Files.write(small, IdxFiles.images(3, 14, 56));
        CliRun wrongSize = CliRun.of("predict", "--checkpoint", out.toString(), "--images", small.toString(), "--count", "1");
        assertEquals(2, wrongSize.code(), wrongSize.out());
        assertTrue(wrongSize.err().contains("images of 14x56 (1 channel) do not fit the model") && wrongSize.err().contains("28x28"),
                wrongSize.err());

        CliRun deep = CliRun.of("train", "--model", "cnn", "--channels", "2,2,2,2,2", "--limit", "100", "--out",
                tmp.resolve("deep").toString(), "--no-progress");
        assertEquals(2, deep.code(), deep.err());
        assertTrue(deep.err().contains("images of 28x28 are too small for 5 2x2 pooling stages"), deep.err());

        CliRun prelu = CliRun.of("train", "--model", "cnn", "--activation", "maxout", "--out", tmp.resolve("y").toString());
        assertEquals(2, prelu.code());
        assertTrue(prelu.err().contains("--model cnn takes --activation"), prelu.err());
    }

    @Test
    void infoListsBackendsAndTheAutoChoice() {
        CliRun info = CliRun.of("info");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("reference"), info.out());
        assertTrue(info.out().contains("auto picks: "), info.out());
        assertTrue(info.out().contains("Devices (what each backend would run on):"), info.out());
        assertTrue(info.out().contains("  opencl"), "the OpenCL provider is listed through the SPI:\n" + info.out());
        assertTrue(info.out().contains("thread(s)"), "the CPU provider describes its threads:\n" + info.out());
    }

    @Test
    void badDataGivesOneLineAndExitCodeTwo() throws Exception {
        Path data = IdxFiles.directory(tmp.resolve("bad"), 30, 10, false);
        Path images = data.resolve("train-images-idx3-ubyte");
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(bytes, bytes.length - 100));
        CliRun run = CliRun.of("train", "--data", data.toString(), "--out", tmp.resolve("o").toString(), "--no-progress");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, run.code());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains(images.toString()) && run.err().contains("truncated"), run.err());

        CliRun verbose = CliRun.of("train", "--data", data.toString(), "--out", tmp.resolve("o").toString(),
                "--no-progress", "--verbose");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, verbose.code());
        assertTrue(verbose.err().contains("\tat "), "--verbose adds the stack trace");

        CliRun missing = CliRun.of("eval", "--checkpoint", tmp.resolve("nowhere").toString());
        assertEquals(JacobianCli.EXIT_BAD_INPUT, missing.code());
        assertEquals(1, missing.err().lines().count(), missing.err());
    }

    /** Files the IDX fuzzer found (a huge or overflowing header, a label out of range, no samples) exit 2 with one line. */
    @Test
    void corruptOrEmptyIdxFilesGiveOneLineNamingTheFileAndExitCodeTwo() throws Exception {
        Path data = IdxFiles.directory(tmp.resolve("fuzzed"), 30, 10, false);
        Path trainImages = data.resolve("train-images-idx3-ubyte");
        Path testLabels = data.resolve("t10k-labels-idx1-ubyte");
        byte[] good = Files.readAllBytes(trainImages);
        byte[] goodLabels = Files.readAllBytes(data.resolve("train-labels-idx1-ubyte"));
        Path out = tmp.resolve("o");
        for (int[] dims : new int[][] {{1, 46340, 46340}, {1 << 21, 1 << 21, 1 << 22}, {1, 20000, 20000}}) {
            Files.write(trainImages, IdxFiles.idx(dims, new byte[0]));
            CliRun run = CliRun.of("train", "--data", data.toString(), "--out", out.toString(), "--no-progress");
            assertEquals(JacobianCli.EXIT_BAD_INPUT, run.code(), Arrays.toString(dims) + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().startsWith("jacobian: " + trainImages + ": "), run.err());
        }
        Files.write(trainImages, IdxFiles.idx(new int[] {0, 4, 4}, new byte[0]));
        Files.write(data.resolve("train-labels-idx1-ubyte"), IdxFiles.idx(new int[] {0}, new byte[0]));
        CliRun empty = CliRun.of("train", "--data", data.toString(), "--out", out.toString(), "--no-progress");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, empty.code(), empty.err());
        assertEquals("jacobian: " + trainImages + ": holds no images (dimensions [0, 4, 4]), nothing to train on",
                empty.err().strip());
        Files.write(trainImages, good);
        Files.write(data.resolve("train-labels-idx1-ubyte"), goodLabels);
        // eval opens the checkpoint first (a bad one is reported before any data is read): give it a good one
        Path checkpoint = tmp.resolve("good");
        CliRun trained = CliRun.of("train", "--data", data.toString(), "--out", checkpoint.toString(), "--epochs", "1",
                "--layers", "8", "--validation", "0", "--backend", "cpu", "--no-progress");
        assertEquals(0, trained.code(), trained.err());

        byte[] labels = IdxFiles.labels(10);
        labels[8 + 3] = (byte) 0xC8;
        Files.write(testLabels, labels);
        CliRun eval = CliRun.of("eval", "--data", data.toString(), "--checkpoint", checkpoint.toString());
        assertEquals(JacobianCli.EXIT_BAD_INPUT, eval.code(), eval.err());
        assertEquals(1, eval.err().lines().count(), eval.err());
        assertTrue(eval.err().contains(testLabels + ": label 200 of sample 3"), eval.err());

        Files.write(data.resolve("t10k-images-idx3-ubyte"), IdxFiles.idx(new int[] {0, 4, 4}, new byte[0]));
        Files.write(testLabels, IdxFiles.idx(new int[] {0}, new byte[0]));
        CliRun emptyEval = CliRun.of("eval", "--data", data.toString(), "--checkpoint", checkpoint.toString());
        assertEquals(JacobianCli.EXIT_BAD_INPUT, emptyEval.code(), emptyEval.err());
        assertTrue(emptyEval.err().contains("t10k-images-idx3-ubyte: holds no images"), emptyEval.err());
    }

    @Test
    void badOptionValuesGiveUsageAndExitCodeTwo() {
        CliRun notANumber = CliRun.of("train", "--epochs", "ten");
        assertEquals(2, notANumber.code());
        assertTrue(notANumber.err().contains("--epochs") && notANumber.err().contains("Usage:"), notANumber.err());
        CliRun badActivation = CliRun.of("train", "--activation", "swish", "--no-progress");
        assertEquals(2, badActivation.code());
        assertTrue(badActivation.err().contains("--activation must be one of"), badActivation.err());
        assertTrue(badActivation.err().contains("Usage:"), badActivation.err());
        CliRun noWorkers = CliRun.of("train", "--workers", "0", "--no-progress");
        assertEquals(2, noWorkers.code());
        assertTrue(noWorkers.err().contains("--workers must be between 1 and --batch (64): 0"), noWorkers.err());
        CliRun tooFar = CliRun.of("train", "--prefetch", "9", "--no-progress");
        assertEquals(2, tooFar.code());
        assertTrue(tooFar.err().contains("--prefetch must be between 0 and 8: 9"), tooFar.err());
    }
}
