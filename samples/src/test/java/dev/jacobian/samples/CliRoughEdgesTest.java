package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.training.SavedModel;
import dev.jacobian.samples.training.TrainingRun;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The command line's rough edges of issue 8, each as users met it. */
class CliRoughEdgesTest {
    @TempDir
    Path tmp;

    /** An unknown backend is a bad option value: exit 2, a line naming it and the backends there are, no exception name. */
    @Test
    void unknownBackendIsABadOptionValue() {
        // the backends found on the class path (tests may add some), then 'auto'
        java.util.regex.Pattern line = java.util.regex.Pattern.compile(
                "--backend: unknown backend 'nope'; found: [a-z-]+(, [a-z-]+)* \\(or 'auto'\\)");
        CliRun train = CliRun.of("train", "--backend", "nope", "--limit", "200", "--epochs", "1", "--out",
                tmp.resolve("run").toString(), "--no-progress");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, train.code(), train.err());
        assertTrue(line.matcher(train.err().lines().findFirst().orElse("")).matches(), train.err());
        assertTrue(train.err().contains(" cpu, "), train.err());
        assertFalse(train.err().contains("Exception"), train.err());
        assertFalse(tmp.resolve("run").toFile().exists(), "nothing is written before the options are checked");
        for (String command : new String[] {"eval", "predict"}) {
            CliRun run = CliRun.of(command, "--backend", "nope", "--checkpoint", tmp.resolve("nowhere").toString());
            assertEquals(JacobianCli.EXIT_BAD_INPUT, run.code(), command + ": " + run.err());
            assertTrue(line.matcher(run.err().lines().findFirst().orElse("")).matches(), command + ": " + run.err());
            assertFalse(run.err().contains("Exception"), run.err());
        }
    }

    /**
     * {@code --validation 0}: there is no validation accuracy, so the epoch line says n/a and metrics.json has no
     * {@code val_accuracy} (nor {@code val_loss}) instead of 0 (the plot leaves the series out: PlotsTest).
     */
    @Test
    void noValidationSetReportsNoValidationAccuracy() throws Exception {
        Path out = tmp.resolve("noval");
        Logger log = (Logger) LoggerFactory.getLogger(TrainingRun.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        log.addAppender(lines);
        CliRun train;
        try {
            train = CliRun.of("train", "--validation", "0", "--limit", "640", "--epochs", "1", "--layers", "16",
                    "--backend", "cpu", "--out", out.toString(), "--no-progress");
        } finally {
            log.detachAppender(lines);
        }
        assertEquals(0, train.code(), train.err());
        List<String> epochLines = lines.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith("epoch 1/1")).toList();
        assertEquals(1, epochLines.size(), lines.list.toString());
        assertTrue(epochLines.get(0).contains("val acc n/a  val loss n/a"), epochLines.get(0));
        JsonNode epoch = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile()).get("epochs").get(0);
        assertTrue(epoch.has("train_accuracy"), epoch.toString());
        assertFalse(epoch.has("val_accuracy"), epoch.toString());
        assertFalse(epoch.has("val_loss"), epoch.toString());
        // the step times add up to the time samples_per_second counts: 640 samples, 10 steps of 64
        JsonNode steps = epoch.get("step_times");
        assertEquals(10, steps.get("tenths_ms").size(), steps.toString());
        double sum = 0;
        for (JsonNode tenth : steps.get("tenths_ms")) {
            sum += tenth.asDouble();
        }
        double stepSeconds = 640 / epoch.get("samples_per_second").asDouble();
        assertEquals(stepSeconds, sum / 1e3, 10 * 1e-6 + 1e-9 * 640, steps.toString()); // rounded to the microsecond
        assertTrue(steps.get("median_ms").asDouble() <= steps.get("p90_ms").asDouble(), steps.toString());
        assertTrue(steps.get("p90_ms").asDouble() <= steps.get("max_ms").asDouble(), steps.toString());
        assertTrue(steps.get("waiting_ms").asDouble() <= sum, steps.toString());
    }

    /** A model of --loss {@code loss} after a few steps (enough for what predict prints), in {@code tmp/<loss>}. */
    private Path tinyRun(String loss) {
        Path out = tmp.resolve(loss);
        CliRun train = CliRun.of("train", "--loss", loss, "--limit", "320", "--epochs", "1", "--layers", "8", "--validation",
                "0", "--backend", "cpu", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), loss + ": " + train.err());
        return out;
    }

    /**
     * predict prints a probability only where the loss defines one: softmax for softmax-ce, the class's sigmoid for
     * bce (offered by train now), and for svm and mse the score itself, never as a percentage.
     */
    @Test
    void predictPrintsProbabilitiesOnlyWhereTheLossDefinesThem() throws Exception {
        ImageDataset test = new DataDirectory(DataDirectory.defaultDirectory()).test();
        for (Map.Entry<String, String> e : Map.of("softmax-ce", "softmax", "bce", "sigmoid", "svm", "score", "mse", "score")
                .entrySet()) {
            Path run = tinyRun(e.getKey());
            CliRun predict = CliRun.of("predict", "--checkpoint", run.toString(), "--count", "3", "--backend", "cpu");
            assertEquals(0, predict.code(), predict.err());
            List<String> lines = predict.out().lines().toList();
            assertEquals(3, lines.size(), predict.out());
            try (SavedModel saved = SavedModel.open(run, "cpu")) {
                float[] scores = saved.model().predictScores(test.floats(0, 3), 0, 3);
                int c = saved.model().outputSize();
                for (int i = 0; i < 3; i++) {
                    double top = Double.NEGATIVE_INFINITY;
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        top = Math.max(top, scores[i * c + j]);
                    }
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(scores[i * c + j] - top);
                    }
                    String shown = switch (e.getValue()) {
                        case "softmax" -> String.format(Locale.ROOT, "%6.2f%% (softmax)", 100 / sum);
                        case "sigmoid" -> String.format(Locale.ROOT, "%6.2f%% (sigmoid)", 100 / (1 + Math.exp(-top)));
                        default -> String.format(Locale.ROOT, "score %.4f", top);
                    };
                    assertTrue(lines.get(i).contains(shown), e.getKey() + ": '" + shown + "' in " + lines.get(i));
                    assertTrue(e.getValue().equals("score") != lines.get(i).contains("%"), e.getKey() + ": " + lines.get(i));
                }
            }
        }
    }

    /**
     * predict takes PNG and JPEG files and makes them look like the IDX images: a Fashion-MNIST test image saved as a
     * 28x28 grey PNG gives the IDX image's class and probability; so does one shown the way a photo shows it — dark on
     * a white page with margins, twice as large, in colour — once inverted, trimmed to the object and scaled down
     * (test image 126, whose object spans its whole 28x28 frame, so the trimmed photo is the image again); a JPEG of that
     * photo is read too; a file that only looks like a PNG, or a missing one, is bad input, in one line.
     */
    @Test
    void predictReadsPngAndJpegImagesAsTheTrainingImages() throws Exception {
        Path run = tinyRun("softmax-ce");
        ImageDataset test = new DataDirectory(DataDirectory.defaultDirectory()).test();
        int spanning = 126;
        Path grey = tmp.resolve("grey.png");
        Path photo = tmp.resolve("photo.png");
        Path jpeg = tmp.resolve("photo.jpg");
        BufferedImage g = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage rgb = new BufferedImage(70, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 70; x++) {
                if (y < 28 && x < 28) {
                    g.getRaster().setSample(x, y, 0, test.pixel(0, y * 28 + x));
                }
                boolean object = y >= 4 && y < 60 && x >= 6 && x < 62; // 56x56 at (6, 4) on white
                int v = object ? 255 - test.pixel(spanning, ((y - 4) / 2) * 28 + (x - 6) / 2) : 255;
                rgb.setRGB(x, y, v << 16 | v << 8 | v);
            }
        }
        assertTrue(ImageIO.write(g, "png", grey.toFile()));
        assertTrue(ImageIO.write(rgb, "png", photo.toFile()));
        assertTrue(ImageIO.write(rgb, "jpeg", jpeg.toFile()));
        List<String> fromIdx = new java.util.ArrayList<>();
        for (int index : new int[] {0, spanning}) {
            CliRun idx = CliRun.of("predict", "--checkpoint", run.toString(), "--from", Integer.toString(index), "--count",
                    "1", "--backend", "cpu");
            assertEquals(0, idx.code(), idx.err());
            String line = idx.out().strip();
            fromIdx.add(line.substring(line.indexOf(' ')).replaceAll("  \\(true: .*", "").strip().replaceAll(" +", " "));
        }
        CliRun images = CliRun.of("predict", "--checkpoint", run.toString(), "--images", grey.toString(), photo.toString(),
                jpeg.toString(), "--backend", "cpu");
        assertEquals(0, images.code(), images.err());
        List<String> fromImages = images.out().lines().toList();
        assertEquals(3, fromImages.size(), images.out());
        assertEquals(grey + " " + fromIdx.get(0), fromImages.get(0).replaceAll(" +", " "), fromIdx + images.out());
        assertEquals(photo + " " + fromIdx.get(1), fromImages.get(1).replaceAll(" +", " "), fromIdx + images.out());
        assertTrue(fromImages.get(2).startsWith(jpeg + " ") && fromImages.get(2).endsWith("% (softmax)"), fromImages.get(2));

        Path fake = tmp.resolve("fake.png");
        Files.write(fake, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0});
        CliRun bad = CliRun.of("predict", "--checkpoint", run.toString(), "--images", fake.toString(), "--backend", "cpu");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, bad.code(), bad.err());
        assertEquals(1, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().startsWith("jacobian: " + fake + ": "), bad.err());
        CliRun missing = CliRun.of("predict", "--checkpoint", run.toString(), "--images", grey.toString(),
                tmp.resolve("missing.png").toString());
        assertEquals(JacobianCli.EXIT_BAD_INPUT, missing.code(), missing.err());
        assertEquals("jacobian: " + tmp.resolve("missing.png") + ": cannot be read (no such file)", missing.err().strip());
    }

    /**
     * A maxout run's checkpoints load: eval, predict and --resume (their check of the tensor shapes expected
     * {@code [in, units]} where maxout's weights are {@code [in, units * 2]}, so a maxout run could not be used).
     */
    @Test
    void maxoutCheckpointsEvaluatePredictAndResume() {
        Path out = tmp.resolve("maxout");
        CliRun train = CliRun.of("train", "--activation", "maxout", "--limit", "320", "--epochs", "1", "--layers", "8,4",
                "--validation", "0", "--backend", "cpu", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());
        CliRun eval = CliRun.of("eval", "--checkpoint", out.toString(), "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        CliRun predict = CliRun.of("predict", "--checkpoint", out.toString(), "--count", "1", "--backend", "cpu");
        assertEquals(0, predict.code(), predict.err());
        CliRun resume = CliRun.of("train", "--resume", "--epochs", "2", "--backend", "cpu", "--out", out.toString(),
                "--no-progress");
        assertEquals(0, resume.code(), resume.err());
    }

    /**
     * Every file a run writes gets the permissions of any file the process creates (the umask's, e.g. 644), as the
     * atomic writes now create their temporary files normally (they were 600, {@code Files.createTempFile}'s).
     */
    @Test
    void runFilesGetTheUmasksPermissions() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.FileSystems.getDefault().supportedFileAttributeViews()
                .contains("posix"), "POSIX permissions");
        String usual = java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(Files.createFile(tmp.resolve("plain"))));
        Path run = tinyRun("softmax-ce");
        List<Path> files;
        try (var s = Files.list(run)) {
            files = s.sorted().toList();
        }
        assertTrue(files.stream().anyMatch(p -> p.toString().endsWith(".safetensors")), files.toString());
        assertTrue(files.contains(run.resolve(TrainingRun.METRICS)) && files.contains(run.resolve("accuracy.png")),
                files.toString());
        for (Path f : files) {
            assertEquals(usual, java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
                    f.toString());
        }
    }
}
