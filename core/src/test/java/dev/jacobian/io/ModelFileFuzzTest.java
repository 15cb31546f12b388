package dev.jacobian.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model-file reader ({@link ModelFile#read}, {@link ModelFile#decode}, then {@link ModelFile#model},
 * {@link ModelFile#loadOptimizer}) against corrupt and hostile files: the checked-in MLP (with SGD state) and CNN of
 * {@code src/test/resources/models} are mutated from a fixed seed — raw bit flips, byte overwrites, digit edits,
 * truncations and extensions, the header-length field, and edits of the header's structure with the length fixed up
 * (a tensor's dtype, shape or offsets, a dropped, renamed or duplicated tensor, numbers and words of the
 * architecture, the optimizer's metadata, the format version) — and every case must either load into a model whose
 * predictions have the right size, or throw a {@link ModelFormatException} whose message is one line starting with
 * the file. Nothing else may happen: no other exception, no error, no allocation beyond what the file holds.
 *
 * <p>{@value #DEFAULT_CASES} cases in CI; {@code -Djacobian.modelfuzz.cases=N} and {@code -Djacobian.modelfuzz.seed=S}
 * for a long run, or {@code cases=1} and a failing case's seed to replay it.
 */
class ModelFileFuzzTest {
    static final int DEFAULT_CASES = 4000;
    private static final String JSON_CHARS = "{}[]\",:0123456789-e.\\ tn\u0000";
    private static final Pattern DTYPE = Pattern.compile("\"dtype\":\"[^\"]*\"");
    private static final Pattern SHAPE = Pattern.compile("\"shape\":\\[[^\\]]*\\]");
    private static final Pattern OFFSETS = Pattern.compile("\"data_offsets\":\\[[^\\]]*\\]");
    private static final Pattern NAME = Pattern.compile("\"([a-z0-9_.]+)\":\\{\"dtype\"");
    private static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
    private static final Pattern WORD = Pattern.compile("\\\\\"([A-Za-z_-]+)\\\\\"");
    private static final String[] DTYPES = {"F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3",
        "f32", "", "F32 ", "U64", "C64"};
    private static final String[] SHAPES = {"[]", "[0]", "[-1]", "[1]", "[2147483647]", "[2147483647,2147483647]",
        "[4294967296]", "[9223372036854775807]", "[1,1,1,1,1,1,1,1,1]", "[1,1,1,1,1,1,1,1]", "[3,\"a\"]", "[1.5]",
        "[1e3]", "[null]", "{}", "\"x\"", "[65536,65536]", "[0,1000000000]"};
    private static final String[] NUMBERS = {"0", "-1", "1", "2", "3", "1.5", "-0", "1e309", "-1e309", "2147483647",
        "2147483648", "-2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e-400",
        "0.0", "1e9", "65536", "46341", "NaN", "Infinity"};
    private static final String[] WORDS = {"relu", "prelu", "maxout", "tanh", "sigmoid", "gelu", "elu", "leaky-relu",
        "linear", "softmax", "MSE", "SVM_HINGE", "SOFTMAX_CROSS_ENTROPY", "SIGMOID_BINARY_CROSS_ENTROPY", "mlp", "model",
        "sequential", "linear", "conv2d", "batch_norm", "layer_norm", "dropout", "custom", "HE", "XAVIER", "bn", "ln",
        "max", "avg", "", "x", "type", "options", "children", "units", "activation"};
    private static final String[] OPTIMIZER = {"{}", "[]", "1", "\"Sgd\"", "{\"class\":\"Sgd\"}",
        "{\"class\":\"Adam\",\"learning_rate\":0.1,\"steps\":1,\"forward_count\":1}",
        "{\"class\":\"Sgd\",\"learning_rate\":-1,\"steps\":-5,\"forward_count\":-1}",
        "{\"class\":\"Sgd\",\"learning_rate\":1e309,\"steps\":1e30,\"forward_count\":9223372036854775807}",
        "{\"class\":\"Sgd\",\"learning_rate\":\"x\",\"steps\":[],\"forward_count\":{}}", "{\"class\":null}", "not json"};

    @TempDir
    Path dir;

    @Test
    void mutatedModelFilesLoadOrAreReportedInOneLine() throws Exception {
        Path models = ModelFileFixturesTest.DIR;
        byte[][] seeds = {Files.readAllBytes(models.resolve("mlp.safetensors")),
            Files.readAllBytes(models.resolve("cnn.safetensors"))};
        int cases = Integer.getInteger("jacobian.modelfuzz.cases", DEFAULT_CASES);
        long seed0 = Long.getLong("jacobian.modelfuzz.seed", 0x40DE1L);
        Path file = dir.resolve("mutant.safetensors");
        int built = 0;
        int readButNotBuilt = 0;
        int rejected = 0;
        int optimizerLoaded = 0;
        long t0 = System.nanoTime();
        try (ReferenceBackend b = new ReferenceBackend()) {
            for (int i = 0; i < cases; i++) {
                long seed = seed0 + i;
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder what = new StringBuilder();
                byte[] bytes = mutate(seeds[r.nextInt(seeds.length)], r, what);
                ModelFile mf;
                try {
                    if (r.nextInt(16) == 0) { // through the file system now and then: readFile's checks too
                        Files.write(file, bytes);
                        mf = ModelFile.read(file);
                    } else {
                        mf = ModelFile.decode(file, bytes);
                    }
                } catch (ModelFormatException e) {
                    rejected++;
                    checkMessage(e, file, seed, what);
                    continue;
                } catch (Throwable t) {
                    throw new AssertionError("case seed " + seed + " (" + what + "): reading threw " + t, t);
                }
                for (var e : mf.tensors().entrySet()) {
                    long n = 1;
                    for (int d : e.getValue().shape()) {
                        n *= d;
                    }
                    assertEquals(n, e.getValue().data().length, "case seed " + seed + " (" + what + "): " + e.getKey());
                }
                try (Model m = mf.model(b)) {
                    built++;
                    int rows = 2;
                    float[] scores = m.predictScores(new float[rows * m.inputSize()], 0, rows);
                    assertTrue(scores.length > 0 && scores.length % rows == 0, "case seed " + seed + " (" + what + ")");
                    if (mf.hasOptimizerState()) {
                        try (Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
                            mf.loadOptimizer(m, sgd);
                            optimizerLoaded++;
                        } catch (ModelFormatException e) {
                            checkMessage(e, file, seed, what);
                        }
                    }
                } catch (ModelFormatException e) {
                    readButNotBuilt++;
                    checkMessage(e, file, seed, what);
                } catch (Throwable t) {
                    throw new AssertionError("case seed " + seed + " (" + what + "): building threw " + t, t);
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("model-file fuzz: %d cases from seed %d in %.1f s: %d built (%d with optimizer state loaded), "
                + "%d read but refused when built, %d rejected when read%n", cases, seed0, seconds, built,
                optimizerLoaded, readButNotBuilt, rejected);
        assertEquals(cases, built + readButNotBuilt + rejected);
        assertTrue(cases < 1000 || built > cases / 20 && rejected > cases / 4 && readButNotBuilt > 0,
                "the mutations reach every outcome: " + built + " / " + readButNotBuilt + " / " + rejected);
    }

    private static void checkMessage(ModelFormatException e, Path file, long seed, CharSequence what) {
        String m = e.getMessage();
        if (m == null || m.contains("\n") || m.contains("\r") || !m.startsWith(file + ": ")) {
            throw new AssertionError("case seed " + seed + " (" + what + "): not one line naming the file: " + m, e);
        }
    }

    /** One to three mutations of {@code seed}, described in {@code what}. */
    static byte[] mutate(byte[] seed, SplittableRandom r, StringBuilder what) {
        byte[] bytes = seed;
        int count = r.nextInt(4) == 0 ? 2 + r.nextInt(2) : 1;
        for (int k = 0; k < count; k++) {
            if (what.length() > 0) {
                what.append("; ");
            }
            bytes = mutateOnce(bytes, r, what);
        }
        return bytes;
    }

    private static byte[] mutateOnce(byte[] seed, SplittableRandom r, StringBuilder what) {
        byte[] bytes = seed.clone();
        long declared = bytes.length >= 8 ? ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : 0;
        int headerEnd = (int) Math.max(Math.min(bytes.length, 8 + Math.max(0, declared)), Math.min(8, bytes.length));
        int kind = r.nextInt(12);
        switch (kind) {
            case 0 -> { // bit flips, mostly in the header
                int flips = 1 + r.nextInt(6);
                for (int i = 0; i < flips && bytes.length > 0; i++) {
                    int at = r.nextInt(4) != 0 ? r.nextInt(Math.max(1, headerEnd)) : r.nextInt(bytes.length);
                    bytes[Math.min(at, bytes.length - 1)] ^= (byte) (1 << r.nextInt(8));
                }
                what.append(flips).append(" bit flips");
                return bytes;
            }
            case 1 -> { // a header byte becomes a JSON character
                if (headerEnd > 8) {
                    bytes[8 + r.nextInt(headerEnd - 8)] = (byte) JSON_CHARS.charAt(r.nextInt(JSON_CHARS.length()));
                }
                what.append("header byte overwritten");
                return bytes;
            }
            case 2 -> { // a digit of the header
                if (headerEnd > 8) {
                    int at = 8 + r.nextInt(headerEnd - 8);
                    while (at < headerEnd && !Character.isDigit(bytes[at])) {
                        at++;
                    }
                    if (at < headerEnd) {
                        bytes[at] = (byte) ('0' + r.nextInt(10));
                    }
                }
                what.append("header digit changed");
                return bytes;
            }
            case 3 -> { // truncated, or extended with junk
                if (r.nextBoolean()) {
                    int n = r.nextInt(bytes.length + 1);
                    what.append("truncated to ").append(n);
                    return Arrays.copyOf(bytes, n);
                }
                int extra = 1 + r.nextInt(64);
                byte[] longer = Arrays.copyOf(bytes, bytes.length + extra);
                for (int i = bytes.length; i < longer.length; i++) {
                    longer[i] = (byte) r.nextInt(256);
                }
                what.append(extra).append(" junk bytes appended");
                return longer;
            }
            case 4 -> { // the header length
                long[] choices = {0, 1, 2, 7, 8, declared - 1, declared + 1, declared + 8, bytes.length,
                    bytes.length - 8, Long.MAX_VALUE, Long.MIN_VALUE, -1, 1L << 31, 1L << 32, SafeTensors.MAX_HEADER + 1,
                    r.nextLong()};
                long v = choices[r.nextInt(choices.length)];
                if (bytes.length >= 8) {
                    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
                }
                what.append("header length ").append(v);
                return bytes;
            }
            default -> {
                return editHeader(bytes, r, what);
            }
        }
    }

    /** An edit of the header's JSON text, the header length and padding fixed up so that it still frames the data. */
    private static byte[] editHeader(byte[] bytes, SplittableRandom r, StringBuilder what) {
        if (bytes.length < 8) {
            what.append("(too short for a header edit)");
            return bytes;
        }
        long declared = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (declared < 2 || declared > bytes.length - 8) {
            what.append("(no header to edit)");
            return bytes;
        }
        int n = (int) declared;
        String header = new String(bytes, 8, n, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(bytes, 8 + n, bytes.length);
        String edited = switch (r.nextInt(8)) {
            case 0 -> {
                what.append("a dtype");
                yield replaceOne(header, DTYPE, r, "\"dtype\":\"" + DTYPES[r.nextInt(DTYPES.length)] + "\"");
            }
            case 1 -> {
                what.append("a shape");
                yield replaceOne(header, SHAPE, r, "\"shape\":" + SHAPES[r.nextInt(SHAPES.length)]);
            }
            case 2 -> {
                long a = pick(r, data.length);
                long z = r.nextBoolean() ? a + 4L * r.nextInt(64) : pick(r, data.length);
                what.append("offsets [").append(a).append(", ").append(z).append("]");
                yield replaceOne(header, OFFSETS, r, "\"data_offsets\":[" + a + "," + z + "]");
            }
            case 3 -> { // a tensor renamed: to another tensor's name (a duplicate key), an unknown one, or ""
                List<String> names = all(header, NAME, 1);
                if (names.isEmpty()) {
                    yield header;
                }
                String from = names.get(r.nextInt(names.size()));
                String[] to = {names.get(r.nextInt(names.size())), "unknown.weight", "", "optimizer." + from,
                    "extra." + from, from + ".x", "optimizer.nothing.momentum_buffer", "__metadata__"};
                String t = to[r.nextInt(to.length)];
                what.append("tensor ").append(from).append(" renamed ").append(t);
                yield header.replace("\"" + from + "\":{", "\"" + t + "\":{");
            }
            case 4 -> { // a number of the architecture (sizes, options) or of another metadata value
                int start = Math.max(0, header.indexOf("__metadata__"));
                List<int[]> spans = new ArrayList<>();
                Matcher m = NUMBER.matcher(header).region(start, header.length());
                while (m.find()) {
                    spans.add(new int[] {m.start(), m.end()});
                }
                if (spans.isEmpty()) {
                    yield header;
                }
                int[] s = spans.get(r.nextInt(spans.size()));
                String v = NUMBERS[r.nextInt(NUMBERS.length)];
                what.append("metadata number ").append(header, s[0], s[1]).append(" -> ").append(v);
                yield header.substring(0, s[0]) + v + header.substring(s[1]);
            }
            case 5 -> { // a word of the architecture (types, activations, losses, keys)
                List<int[]> spans = new ArrayList<>();
                Matcher m = WORD.matcher(header);
                while (m.find()) {
                    spans.add(new int[] {m.start(1), m.end(1)});
                }
                if (spans.isEmpty()) {
                    yield header;
                }
                int[] s = spans.get(r.nextInt(spans.size()));
                String v = WORDS[r.nextInt(WORDS.length)];
                what.append("architecture word ").append(header, s[0], s[1]).append(" -> ").append(v);
                yield header.substring(0, s[0]) + v + header.substring(s[1]);
            }
            case 6 -> { // the optimizer's metadata or the format version
                if (r.nextBoolean()) {
                    String v = OPTIMIZER[r.nextInt(OPTIMIZER.length)];
                    what.append("optimizer metadata ").append(v);
                    yield header.replaceFirst("\"jacobian\\.optimizer\":\"(\\\\.|[^\"\\\\])*\"",
                            Matcher.quoteReplacement("\"jacobian.optimizer\":" + jsonString(v)));
                }
                String[] versions = {"0", "2", "", "1.0", " 1", "x"};
                String v = versions[r.nextInt(versions.length)];
                what.append("format version ").append(v);
                yield header.replace("\"jacobian.format\":\"1\"", "\"jacobian.format\":\"" + v + "\"");
            }
            default -> { // a whole tensor entry removed, or the metadata removed
                if (r.nextInt(4) == 0) {
                    what.append("metadata removed");
                    yield header.replaceFirst("\"__metadata__\":\\{[^}]*\\},?", "");
                }
                List<String> names = all(header, NAME, 1);
                if (names.isEmpty()) {
                    yield header;
                }
                String name = names.get(r.nextInt(names.size()));
                what.append("tensor ").append(name).append(" removed");
                yield header.replaceFirst("\"" + Pattern.quote(name) + "\":\\{[^}]*\\},?", "").replace(",}", "}");
            }
        };
        byte[] h = edited.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(data);
        return out.array();
    }

    private static long pick(SplittableRandom r, int length) {
        long[] choices = {0, 4, length, length - 4L, length + 4L, -4, Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE,
            4L * r.nextInt(Math.max(1, length / 4 + 1)), 1 + 4L * r.nextInt(Math.max(1, length / 4))};
        return choices[r.nextInt(choices.length)];
    }

    private static String replaceOne(String header, Pattern p, SplittableRandom r, String with) {
        List<int[]> spans = new ArrayList<>();
        Matcher m = p.matcher(header);
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return header;
        }
        int[] s = spans.get(r.nextInt(spans.size()));
        return header.substring(0, s[0]) + with + header.substring(s[1]);
    }

    private static List<String> all(String header, Pattern p, int group) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(header);
        while (m.find()) {
            out.add(m.group(group));
        }
        return out;
    }

    private static String jsonString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
