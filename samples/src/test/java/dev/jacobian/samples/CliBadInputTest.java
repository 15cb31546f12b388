package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.IdxFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input through the command line, in one table (issue 13): unusable data directories and IDX files, checkpoints and
 * image files, and bad option values. Each must exit with 2 ({@link JacobianCli#EXIT_BAD_INPUT}) and a short error: a
 * first line that names the file or option and what is wrong with it; no stack trace. An option error may be followed
 * by picocli's usage text; any other error is that one line alone.
 */
class CliBadInputTest {
    @TempDir
    static Path dir;
    /** A run of one epoch of a tiny MLP on 28x28 images. */
    static Path run;

    @BeforeAll
    static void setUp() throws IOException {
        run = dir.resolve("run");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--limit", "200", "--layers", "8", "--batch", "50",
                "--validation", "50", "--epochs", "1", "--out", run.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());
    }

    /** One row: what it is, the command line (made when the row runs), and what the first error line must contain. */
    record Row(String name, Supplier<String[]> args, String... expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Row row(String name, Supplier<String[]> args, String... expected) {
        return new Row(name, args, expected);
    }

    private static String[] args(Object... parts) {
        return Arrays.stream(parts).map(String::valueOf).toArray(String[]::new);
    }

    // ---------------------------------------------------------------- the files the rows use, written when first used

    /** An MNIST-format directory {@code name} whose t10k and train images are {@code images} and labels {@code labels}. */
    private static Path data(String name, byte[] images, byte[] labels) {
        return data(name, images, labels, "");
    }

    private static Path data(String name, byte[] images, byte[] labels, String suffix) {
        try {
            Path d = Files.createDirectories(dir.resolve("data-" + name));
            for (String split : new String[] {"train", "t10k"}) {
                Files.write(d.resolve(split + "-images-idx3-ubyte" + suffix), images);
                Files.write(d.resolve(split + "-labels-idx1-ubyte"), labels);
            }
            return d;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path file(String name, byte[] bytes) {
        try {
            Path f = dir.resolve(name);
            Files.createDirectories(f.getParent());
            Files.write(f, bytes);
            return f;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path directory(String name) {
        try {
            return Files.createDirectories(dir.resolve(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] gzip(byte[] bytes) {
        try {
            return IdxFiles.gzip(bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The run's checkpoint copied to {@code name}, its JSON and tensors edited. */
    private static Path checkpoint(String name, java.util.function.UnaryOperator<byte[]> json,
                                   java.util.function.UnaryOperator<byte[]> tensors) {
        try {
            Path d = Files.createDirectories(dir.resolve(name));
            Path j = run.resolve("checkpoint-epoch-0001.json");
            Path t = run.resolve("checkpoint-epoch-0001.safetensors");
            Files.write(d.resolve(j.getFileName()), json.apply(Files.readAllBytes(j)));
            Files.write(d.resolve(t.getFileName()), tensors.apply(Files.readAllBytes(t)));
            return d.resolve(j.getFileName());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] image(String format, int w, int h) {
        try {
            BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(image, format, out));
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A grey PNG whose IHDR says {@code w x h} (its CRC recomputed), with a tiny image data chunk. */
    private static byte[] pngDeclaring(int w, int h) {
        byte[] png = image("png", 2, 2);
        ByteBuffer b = ByteBuffer.wrap(png);
        b.putInt(16, w).putInt(20, h);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return png;
    }

    private static String ckpt() {
        return run.toString();
    }

    private static byte[] idx28(int count) {
        return IdxFiles.images(count, 28, 28);
    }

    // ---------------------------------------------------------------- the table

    static Stream<Arguments> table() {
        List<Row> rows = new ArrayList<>();
        byte[] labels = IdxFiles.labels(20);
        // data directories and IDX files (train --data, eval --data)
        rows.add(row("train: data directory missing", () -> args("train", "--data", dir.resolve("nowhere"), "--out",
                dir.resolve("o1")), "nowhere", "data directory not found"));
        rows.add(row("train: data directory without files", () -> args("train", "--data", directory("nofiles"), "--out",
                dir.resolve("o2")), "nofiles", "file not found"));
        rows.add(row("train: --data is a regular file", () -> args("train", "--data", file("plain.txt", bytes("x")),
                "--out", dir.resolve("o3")), "plain.txt", "is not a directory"));
        rows.add(row("eval: empty images file", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("emptyfile", new byte[0], labels)), "data-emptyfile", "t10k-images"));
        rows.add(row("eval: truncated images file", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("truncated", Arrays.copyOf(idx28(20), 5000), labels)), "data-truncated", "truncated"));
        rows.add(row("eval: images file of the wrong magic", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("magic", bytes("this is not an IDX file at all"), labels)), "data-magic", "t10k-images"));
        rows.add(row("eval: gzip junk", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("gzjunk", bytes("not gzip, only named so"), labels, ".gz")), "data-gzjunk", "t10k-images"));
        rows.add(row("eval: truncated gzip", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("gztrunc", Arrays.copyOf(gzip(idx28(20)), 300), labels, ".gz")), "data-gztrunc", "t10k-images"));
        rows.add(row("eval: images and labels disagree in count", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("count", idx28(20), IdxFiles.labels(19))), "data-count"));
        rows.add(row("eval: an empty [0, 28, 28] set", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("empty", IdxFiles.idx(new int[] {0, 28, 28}, new byte[0]), IdxFiles.idx(new int[] {0}, new byte[0]))),
                "data-empty", "no images"));
        rows.add(row("train: an empty [0, 28, 28] set", () -> args("train", "--data",
                data("empty", IdxFiles.idx(new int[] {0, 28, 28}, new byte[0]), IdxFiles.idx(new int[] {0}, new byte[0])),
                "--out", dir.resolve("o4"), "--backend", "cpu", "--no-progress"), "data-empty", "no images"));
        rows.add(row("predict: an empty [0, 28, 28] file", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("empty-images-idx3-ubyte", IdxFiles.idx(new int[] {0, 28, 28}, new byte[0]))),
                "empty-images-idx3-ubyte", "holds no images", "nothing to classify"));
        rows.add(row("eval: a label beyond the classes", () -> {
            byte[] l = IdxFiles.labels(20);
            l[l.length - 1] = 10;
            return args("eval", "--checkpoint", ckpt(), "--data", data("label10", idx28(20), l));
        }, "data-label10", "label 10"));
        rows.add(row("eval: huge dimensions in a 16-byte header", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("huge", IdxFiles.idx(new int[] {1, 65536, 65536}, new byte[0]), labels)), "data-huge"));
        rows.add(row("eval: a 28x28 checkpoint on 4x4 images", () -> args("eval", "--checkpoint", ckpt(), "--data",
                data("small", IdxFiles.images(20, 4, 4), labels)), "data-small", "4x4", "do not fit"));
        rows.add(row("predict: a 28x28 checkpoint on 4x4 images", () -> args("predict", "--checkpoint", ckpt(),
                "--images", file("small-images-idx3-ubyte", IdxFiles.images(20, 4, 4))), "small-images-idx3-ubyte",
                "do not fit"));
        rows.add(row("predict: IDX images file missing", () -> args("predict", "--checkpoint", ckpt(), "--images",
                dir.resolve("missing-idx3-ubyte")), "missing-idx3-ubyte"));
        rows.add(row("predict: IDX images file is a directory", () -> args("predict", "--checkpoint", ckpt(), "--images",
                directory("images-dir")), "images-dir", "is a directory"));
        rows.add(row("predict: labels file of the wrong count", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("p-images-idx3-ubyte", idx28(20)), "--labels", file("p-labels-idx1-ubyte", IdxFiles.labels(3))),
                "p-"));
        // checkpoints
        rows.add(row("eval: checkpoint missing", () -> args("eval", "--checkpoint", dir.resolve("no-checkpoint.json")),
                "no-checkpoint.json"));
        rows.add(row("eval: run directory without checkpoints", () -> args("eval", "--checkpoint",
                directory("empty-run")), "empty-run"));
        rows.add(row("eval: checkpoint JSON that is no JSON", () -> args("eval", "--checkpoint",
                checkpoint("ck-garbage", j -> bytes("not json {"), t -> t)), "ck-garbage"));
        rows.add(row("eval: truncated checkpoint JSON", () -> args("eval", "--checkpoint",
                checkpoint("ck-truncated", j -> Arrays.copyOf(j, j.length / 2), t -> t)), "ck-truncated"));
        rows.add(row("eval: foreign JSON object", () -> args("eval", "--checkpoint",
                checkpoint("ck-foreign", j -> bytes("{\"hello\": \"world\"}"), t -> t)), "ck-foreign"));
        rows.add(row("eval: a JSON array", () -> args("eval", "--checkpoint",
                checkpoint("ck-array", j -> bytes("[1, 2, 3]"), t -> t)), "ck-array"));
        rows.add(row("eval: truncated safetensors", () -> args("eval", "--checkpoint",
                checkpoint("ck-st-truncated", j -> j, t -> Arrays.copyOf(t, t.length / 2))), "ck-st-truncated"));
        rows.add(row("eval: safetensors of junk", () -> args("eval", "--checkpoint",
                checkpoint("ck-st-junk", j -> j, t -> bytes("junk junk junk junk"))), "ck-st-junk"));
        rows.add(row("eval: tensors file outside the checkpoint's directory", () -> args("eval", "--checkpoint",
                checkpoint("ck-escape", j -> new String(j, StandardCharsets.UTF_8).replace(
                        "\"checkpoint-epoch-0001.safetensors\"", "\"../run/checkpoint-epoch-0001.safetensors\"")
                        .getBytes(StandardCharsets.UTF_8), t -> t)), "ck-escape", "tensors_file"));
        rows.add(row("predict: --checkpoint names a safetensors file", () -> args("predict", "--checkpoint",
                run.resolve("checkpoint-epoch-0001.safetensors")), "checkpoint-epoch-0001.safetensors"));
        // images for predict
        if (Files.exists(Path.of("/dev/null"))) {
            rows.add(row("predict: a device, not a regular file", () -> args("predict", "--checkpoint", ckpt(), "--images",
                    "/dev/null"), "/dev/null", "is not a regular file"));
        }
        rows.add(row("predict: a text file named .png", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("text.png", bytes("just some text\n"))), "text.png"));
        rows.add(row("predict: an empty .png", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("empty.png", new byte[0])), "empty.png"));
        rows.add(row("predict: a directory named .png", () -> args("predict", "--checkpoint", ckpt(), "--images",
                directory("folder.png")), "folder.png", "is a directory"));
        rows.add(row("predict: a corrupt PNG", () -> {
            byte[] png = image("png", 28, 28);
            Arrays.fill(png, 40, png.length - 12, (byte) 0x5a);
            return args("predict", "--checkpoint", ckpt(), "--images", file("corrupt.png", png));
        }, "corrupt.png", "PNG"));
        rows.add(row("predict: a PNG declaring 65535x65535 pixels", () -> args("predict", "--checkpoint", ckpt(),
                "--images", file("huge.png", pngDeclaring(65535, 65535))), "huge.png", "65535x65535"));
        rows.add(row("predict: a PNG declaring 0x7fffffff pixels a side", () -> args("predict", "--checkpoint", ckpt(),
                "--images", file("huge2.png", pngDeclaring(0x7fffffff, 1))), "huge2.png", "2147483647x1"));
        rows.add(row("predict: a truncated JPEG", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("truncated.jpg", Arrays.copyOf(image("jpeg", 28, 28), 100))), "truncated.jpg"));
        rows.add(row("predict: a JPEG of 0x0 pixels", () -> {
            byte[] jpeg = image("jpeg", 28, 28);
            for (int k = 0; k + 8 < jpeg.length; k++) {
                if ((jpeg[k] & 0xff) == 0xff && (jpeg[k + 1] & 0xff) == 0xc0) {
                    Arrays.fill(jpeg, k + 5, k + 9, (byte) 0);
                    break;
                }
            }
            return args("predict", "--checkpoint", ckpt(), "--images", file("zero.jpg", jpeg));
        }, "zero.jpg", "0x0"));
        rows.add(row("predict: a good PNG and a missing one", () -> args("predict", "--checkpoint", ckpt(), "--images",
                file("good.png", image("png", 28, 28)), dir.resolve("gone.png")), "gone.png", "no such file"));
        // option values
        rows.add(row("train --batch 0", () -> args("train", "--batch", "0", "--out", dir.resolve("o5")),
                "--batch must be at least 1, got 0"));
        rows.add(row("train --lr -1", () -> args("train", "--lr", "-1", "--out", dir.resolve("o6")), "--lr"));
        rows.add(row("train --lr nan", () -> args("train", "--lr", "nan", "--out", dir.resolve("o7")), "--lr"));
        rows.add(row("train --lr NaN", () -> args("train", "--lr", "NaN", "--out", dir.resolve("o7b")),
                "--lr must be positive, got NaN"));
        rows.add(row("train --epochs -1", () -> args("train", "--epochs", "-1", "--out", dir.resolve("o8")), "--epochs"));
        rows.add(row("train --validation 1.5", () -> args("train", "--validation", "1.5", "--out", dir.resolve("o9")),
                "--validation", "1.5"));
        rows.add(row("train --threads 0 (no such option)", () -> args("train", "--threads", "0", "--out",
                dir.resolve("o10")), "--threads"));
        rows.add(row("train --dropout 1", () -> args("train", "--dropout", "1", "--out", dir.resolve("o11")), "--dropout"));
        rows.add(row("train --activation nope", () -> args("train", "--activation", "nope", "--out", dir.resolve("o12")),
                "--activation"));
        rows.add(row("train --backend nope", () -> args("train", "--backend", "nope", "--out", dir.resolve("o13")),
                "--backend", "nope"));
        rows.add(row("train --layers 0", () -> args("train", "--layers", "0", "--out", dir.resolve("o14")), "--layers"));
        rows.add(row("train --workers 0", () -> args("train", "--workers", "0", "--out", dir.resolve("o15")), "--workers"));
        // before: bounded by --batch alone, so 100000 CPU backends were to be started (here --limit stopped it later)
        rows.add(row("train --workers 100000 --batch 100000", () -> args("train", "--workers", "100000", "--batch",
                "100000", "--limit", "200", "--validation", "50", "--epochs", "1", "--no-progress", "--out",
                dir.resolve("o15b")), "--workers must be at most " + TrainCommand.MAX_WORKERS + ": 100000"));
        rows.add(row("train --limit -5", () -> args("train", "--limit", "-5", "--out", dir.resolve("o16")), "--limit"));
        rows.add(row("train --epochs abc", () -> args("train", "--epochs", "abc"), "--epochs", "abc"));
        rows.add(row("train --out a regular file", () -> args("train", "--out", file("out-file", bytes("x")), "--backend",
                "cpu", "--limit", "200", "--validation", "50", "--epochs", "1", "--no-progress"), "--out", "out-file", "is a file, not a directory"));
        rows.add(row("train --out under a regular file", () -> args("train", "--out",
                file("out-parent", bytes("x")).resolve("run"), "--backend", "cpu", "--limit", "200", "--validation", "50",
                "--epochs", "1", "--no-progress"), "--out", "out-parent", "cannot be created"));
        rows.add(row("train --resume of a directory without checkpoints", () -> args("train", "--resume", "--out",
                directory("no-checkpoints"), "--backend", "cpu", "--no-progress"), "no-checkpoints", "--resume"));
        rows.add(row("train --resume of a missing directory", () -> args("train", "--resume", "--out",
                dir.resolve("no-such-run"), "--backend", "cpu", "--no-progress"), "no-such-run", "--resume"));
        rows.add(row("eval --batch 0", () -> args("eval", "--checkpoint", ckpt(), "--batch", "0"), "--batch must be at least 1"));
        rows.add(row("predict --count 0", () -> args("predict", "--checkpoint", ckpt(), "--count", "0"), "--count"));
        rows.add(row("predict --from -1", () -> args("predict", "--checkpoint", ckpt(), "--from", "-1"), "--from"));
        rows.add(row("predict --invert maybe", () -> args("predict", "--checkpoint", ckpt(), "--invert", "maybe"),
                "--invert"));
        return rows.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void badInputExitsWithTwoAndOneLineNamingIt(Row row) {
        String[] args = row.args().get();
        if (!Arrays.asList(args).contains("--backend")) { // the CPU backend: no device is looked for
            args = Stream.concat(Arrays.stream(args), Stream.of("--backend", "cpu")).toArray(String[]::new);
        }
        CliRun r = CliRun.of(args);
        String what = String.join(" ", args) + "\nexit " + r.code() + "\nstderr:\n" + r.err();
        assertEquals(JacobianCli.EXIT_BAD_INPUT, r.code(), what);
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception in thread"), "a stack trace: " + what);
        List<String> lines = r.err().strip().lines().toList();
        assertFalse(lines.isEmpty(), what);
        String first = lines.get(0);
        System.out.println(row + ": exit " + r.code() + ": " + first);
        for (String part : row.expected()) {
            assertTrue(first.contains(part), "'" + part + "' in the first line: " + what);
        }
        boolean optionError = lines.size() > 1 && r.err().contains("Usage: jacobian");
        assertTrue(lines.size() == 1 || optionError, "one line (or an option error and the usage): " + what);
        assertTrue(first.length() < 400, "a short line: " + what);
        assertFalse(first.contains("Exception:") || first.contains("Exception ("), "no exception's name: " + what);
    }

    /** The table holds at least 40 bad inputs. */
    @org.junit.jupiter.api.Test
    void theTableHoldsAtLeastFortyCases() {
        assertTrue(table().count() >= 40, "" + table().count());
    }
}
