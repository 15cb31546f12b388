package dev.jacobian.samples.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jacobian.io.AtomicFiles;
import dev.jacobian.io.ModelFormatException;
import dev.jacobian.io.SafeTensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    private static Map<String, SafeTensors.Entry> sample() {
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>();
        t.put("dense1.weight", new SafeTensors.Entry(new int[] {3, 2}, new float[] {1f, -2.5f, 3e-8f, Float.MAX_VALUE, 0f, -0f}));
        t.put("dense1.bias", new SafeTensors.Entry(new int[] {1, 2}, new float[] {0.125f, Float.MIN_VALUE}));
        t.put("scalar", new SafeTensors.Entry(new int[] {}, new float[] {7f}));
        return t;
    }

    @Test
    void roundTripIsBitExact() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "pt", "epoch", "3"));
        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(List.copyOf(sample().keySet()), List.copyOf(c.tensors().keySet()));
        for (var e : sample().entrySet()) {
            assertArrayEquals(e.getValue().shape(), c.tensors().get(e.getKey()).shape());
            // bit-identity is the claim: Arrays.equals on float[] compares bit patterns
            assertTrue(Arrays.equals(e.getValue().data(), c.tensors().get(e.getKey()).data()), e.getKey());
        }
        assertEquals(Map.of("format", "pt", "epoch", "3"), c.metadata());
    }

    @Test
    void headerLayoutMatchesTheSpecification() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % SafeTensors.ALIGNMENT, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        String json = header.stripTrailing();
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        assertTrue(json.endsWith("}"), json);
        JsonNode parsed = new ObjectMapper().readTree(header);
        assertEquals("pt", parsed.get("__metadata__").get("format").asText());
        JsonNode w = parsed.get("dense1.weight");
        assertEquals("F32", w.get("dtype").asText());
        assertEquals("[3,2]", w.get("shape").toString());
        assertEquals("[0,24]", w.get("data_offsets").toString());
        assertEquals("[24,32]", parsed.get("dense1.bias").get("data_offsets").toString());
        assertEquals("[32,36]", parsed.get("scalar").get("data_offsets").toString());
        assertEquals(8 + n + 36, bytes.length, "data section is exactly the tensors");
        // little-endian F32: dense1.weight[0][1] = -2.5
        assertEquals(Float.floatToIntBits(-2.5f),
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt((int) (8 + n + 4)));
    }

    @Test
    void atomicWriteLeavesNoTemporaryFile() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        SafeTensors.write(f, sample(), Map.of("again", "yes"));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(f), s.toList());
        }
        assertEquals("yes", SafeTensors.read(f).metadata().get("again"));
    }

    @Test
    void failedWriteLeavesTargetAndNoTemporaryFile() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("version", "1"));
        Path dirAsTarget = tmp.resolve("sub");
        Files.createDirectories(dirAsTarget.resolve("occupied"));
        // renaming a file over a non-empty directory fails: the temp file must be cleaned up
        assertThrows(IOException.class, () -> AtomicFiles.write(dirAsTarget, new byte[] {1, 2, 3}));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(AtomicFiles.TEMP_SUFFIX)).toList());
        }
        assertEquals("1", SafeTensors.read(f).metadata().get("version"));
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(bytes, bytes.length - 4));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        Files.write(f, Arrays.copyOf(bytes, 5));
        e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptHeaderIsReported() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        bytes[8] = 'x';
        Files.write(f, bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(f, bytes);
        e = assertThrows(ModelFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void gapsAndWrongShapesAreReported() throws ModelFormatException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        ModelFormatException gap = assertThrows(ModelFormatException.class,
                () -> SafeTensors.decode(Path.of("x"), file(header, 12)));
        assertTrue(gap.getMessage().contains("contiguous"), gap.getMessage());
        String shape = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        ModelFormatException bad = assertThrows(ModelFormatException.class,
                () -> SafeTensors.decode(Path.of("x"), file(shape, 8)));
        assertTrue(bad.getMessage().contains("do not match its shape"), bad.getMessage());
        String dtype = "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        ModelFormatException f8 = assertThrows(ModelFormatException.class,
                () -> SafeTensors.decode(Path.of("x"), file(dtype, 2)));
        assertTrue(f8.getMessage().contains("has dtype 'F8_E4M3'; supported: [F32, F64, F16, BF16, I64"), f8.getMessage());
        String f16 = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}";
        byte[] half = file(f16, 4);
        int at = half.length - 4;
        half[at + 1] = 0x3c; // 1.0 in IEEE half precision, little-endian
        half[at + 3] = (byte) 0xc0; // -2.0
        assertArrayEquals(new float[] {1f, -2f}, SafeTensors.decode(Path.of("x"), half).tensors().get("a").data());
    }

    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    /** A small state object for the store. */
    record State(int epoch, String note) {
    }

    @Test
    void storeKeepsTheNewestAndDetectsReplacedTensors() throws IOException {
        CheckpointStore store = new CheckpointStore(tmp);
        for (int e = 0; e <= 3; e++) {
            store.save(e, sample(), Map.of(), new State(e, "n" + e));
        }
        assertEquals(CheckpointStore.KEEP, store.list().size());
        CheckpointStore.Loaded<State> last = CheckpointStore.load(tmp, State.class);
        assertEquals(new State(3, "n3"), last.state());
        assertTrue(last.file().getFileName().toString().equals("checkpoint-epoch-0003.json"));
        // a tensors file without its JSON (a crash between the two renames) is not a checkpoint
        SafeTensors.write(tmp.resolve("checkpoint-epoch-0004.safetensors"), sample(), Map.of());
        assertEquals(3, CheckpointStore.load(tmp, State.class).state().epoch());
        // a tensors file that does not match the recorded hash is reported
        Path t3 = tmp.resolve("checkpoint-epoch-0003.safetensors");
        byte[] bytes = Files.readAllBytes(t3);
        bytes[bytes.length - 1] ^= 1;
        Files.write(t3, bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> CheckpointStore.load(tmp, State.class));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(AtomicFiles.TEMP_SUFFIX)));
        }
    }
}
