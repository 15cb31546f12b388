package dev.jacobian.samples.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The <a href="https://github.com/huggingface/safetensors">safetensors</a> format, F32 tensors only:
 * an 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__":
 * {string: string}}}, padded with spaces so the data starts at a multiple of 8; then the tensors'
 * little-endian bytes, back to back, with offsets relative to the start of the data. PyTorch's
 * {@code safetensors.torch.load_file} reads what {@link #write} writes.
 */
public final class SafeTensors {
    /** The key of the string-to-string metadata map in the header. */
    public static final String METADATA_KEY = "__metadata__";
    /** Header alignment of the data section, as the reference implementation writes it. */
    public static final int ALIGNMENT = 8;
    /** Largest header accepted by the reader (the reference implementation's limit). */
    static final long MAX_HEADER = 100_000_000L;
    /** Largest safetensors file the reader accepts (it is read into one array). */
    public static final long MAX_FILE = Integer.MAX_VALUE - 64L;
    /** Most dimensions a tensor may have (the writer writes at most 2). */
    public static final int MAX_RANK = 8;
    /** Strict JSON: duplicate names and anything after the header object are errors, as in the reference reader. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private SafeTensors() {
    }

    /**
     * One F32 tensor: its shape and row-major values.
     *
     * @param shape the dimensions, each non-negative; {@code []} is a scalar
     * @param data  the values, as many as the dimensions' product
     */
    public record Entry(int[] shape, float[] data) {
        /** Checks that the shape is non-negative and holds exactly {@code data.length} values. */
        public Entry {
            long n = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
                }
            }
            for (int d : shape) {
                // n <= 2^31 and d < 2^31 before each step: exact; past an int it can never equal data.length
                n = d == 0 ? 0 : n > Integer.MAX_VALUE ? n : n * d;
                if (d == 0) {
                    break;
                }
            }
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n
                        + " values, got " + data.length);
            }
        }
    }

    /**
     * What a file holds: tensors by name (in file order) and the metadata.
     *
     * @param tensors  the tensors by name, in header order
     * @param metadata the {@value #METADATA_KEY} map (empty when absent)
     */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
    }

    /** Encodes tensors (in iteration order) and metadata into the header and data buffers. */
    public static ByteBuffer[] encode(Map<String, Entry> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException(METADATA_KEY + " is reserved");
            }
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode shape = t.putArray("shape");
            for (int d : e.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a safetensors header", e);
        }
        int padded = (8 + json.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT - 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        if (offset > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensors of " + offset + " bytes do not fit one buffer");
        }
        ByteBuffer data = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : tensors.values()) {
            data.asFloatBuffer().put(e.data());
            data.position(data.position() + 4 * e.data().length);
        }
        data.flip();
        return new ByteBuffer[] {head, data};
    }

    /** Writes a safetensors file atomically (see {@link AtomicFiles}). */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        AtomicFiles.write(file, encode(tensors, metadata));
    }

    /** Reads and validates a safetensors file of F32 tensors (at most {@link #MAX_FILE} bytes). */
    public static Contents read(Path file) throws CheckpointFormatException {
        return decode(file, readFile(file, MAX_FILE, "", true));
    }

    /**
     * The bytes of {@code file}, which must be a regular file (not a directory, device or symbolic link) of at
     * most {@code max} bytes; its size is checked before anything is read, and no more than {@code max + 1}
     * bytes are ever read (a file growing meanwhile is reported, not read to its end).
     *
     * @param note        added to the messages, e.g. which file named this one
     * @param followLinks whether {@code file} may be a symbolic link (a file the user named), or must itself be the
     *                    regular file (a file another file named)
     */
    static byte[] readFile(Path file, long max, String note, boolean followLinks) throws CheckpointFormatException {
        LinkOption[] links = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, links);
            if (!a.isRegularFile()) {
                throw new CheckpointFormatException(file, "is not a regular file ("
                        + (a.isDirectory() ? "a directory" : a.isSymbolicLink() ? "a symbolic link" : "a device or special file")
                        + ")" + note);
            }
            if (a.size() > max) {
                throw new CheckpointFormatException(file, "is " + a.size() + " bytes, more than the " + max
                        + " a checkpoint file may have" + note);
            }
            if (a.size() * 2 > Runtime.getRuntime().maxMemory()) {
                throw new CheckpointFormatException(file, "is " + a.size() + " bytes, too large for this JVM's heap of "
                        + Runtime.getRuntime().maxMemory() + " bytes (-Xmx)" + note);
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file, links)) {
                bytes = in.readNBytes((int) Math.min(max + 1, a.size() + 1));
            }
            if (bytes.length > a.size()) {
                throw new CheckpointFormatException(file, "grew while it was read" + note);
            }
            return bytes;
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file, "file not found" + note, e);
        } catch (IOException | InvalidPathException | UnsupportedOperationException e) {
            throw new CheckpointFormatException(file, "cannot be read (" + e.getClass().getSimpleName() + ")" + note, e);
        }
    }

    /**
     * Decodes the bytes of a safetensors file; {@code file} only names it in errors. Everything is checked before
     * anything is allocated, with exact arithmetic: the header length against the file, each tensor's dtype
     * (F32 only), rank (at most {@value #MAX_RANK}), dimensions (non-negative ints) and element count, its
     * {@code data_offsets} (integers within the data section, {@code end - begin} equal to 4 bytes per element),
     * and that the tensors, ordered by offset, cover the data section exactly, without gaps or overlaps.
     */
    public static Contents decode(Path file, byte[] bytes) throws CheckpointFormatException {
        if (bytes.length < 8) {
            throw new CheckpointFormatException(file, "truncated: " + bytes.length + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER || n > bytes.length - 8L) {
            throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(n)
                    + " does not fit a file of " + bytes.length + " bytes (truncated or not safetensors)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(file, "header is not valid UTF-8", e);
        }
        JsonNode header;
        try {
            header = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "header is not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointFormatException(file, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        record Raw(String name, int[] shape, long begin, long end) {
        }
        List<Raw> raws = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (f.getKey().equals(METADATA_KEY)) {
                if (!v.isObject()) {
                    throw new CheckpointFormatException(file, METADATA_KEY + " is not an object");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new CheckpointFormatException(file, "metadata value of " + quote(kv.getKey()) + " is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String name = f.getKey();
            String q = "tensor " + quote(name);
            if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
                    || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
                throw new CheckpointFormatException(file, q + " lacks dtype, shape or data_offsets");
            }
            String dtype = v.path("dtype").asText();
            if (!dtype.equals("F32")) {
                throw new CheckpointFormatException(file, q + " has dtype " + quote(dtype) + "; only F32 is supported");
            }
            JsonNode dims = v.get("shape");
            if (dims.size() > MAX_RANK) {
                throw new CheckpointFormatException(file, q + " has " + dims.size() + " dimensions, more than " + MAX_RANK);
            }
            int[] shape = new int[dims.size()];
            boolean empty = false;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = dims.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                    throw new CheckpointFormatException(file, q + " has an invalid shape " + dims);
                }
                shape[i] = d.asInt();
                empty |= shape[i] == 0;
            }
            long count = empty ? 0 : 1;
            for (int i = 0; i < shape.length && !empty; i++) {
                // count <= dataLength / 4 < 2^29 (a byte[]) and a dimension < 2^31 before each step: the product is exact
                count *= shape[i];
                if (count > dataLength / 4) {
                    throw new CheckpointFormatException(file, q + " has data_offsets " + v.get("data_offsets")
                            + " that do not match its shape " + dims + " of F32 (it needs more than the "
                            + dataLength + " data bytes of the file)");
                }
            }
            JsonNode b0 = v.get("data_offsets").get(0);
            JsonNode b1 = v.get("data_offsets").get(1);
            if (!b0.isIntegralNumber() || !b1.isIntegralNumber() || !b0.canConvertToLong() || !b1.canConvertToLong()) {
                throw new CheckpointFormatException(file, q + " has data_offsets " + v.get("data_offsets")
                        + " that are not integers");
            }
            long begin = b0.asLong();
            long end = b1.asLong();
            if (begin < 0 || end < begin || end > dataLength) {
                throw new CheckpointFormatException(file, q + " has data_offsets [" + begin + ", " + end
                        + "] outside the " + dataLength + " data bytes of the file (truncated or corrupt)");
            }
            if (end - begin != 4 * count) { // count <= dataLength / 4: no overflow
                throw new CheckpointFormatException(file, q + " has data_offsets [" + begin + ", " + end
                        + "] that do not match its shape " + Arrays.toString(shape) + " of F32");
            }
            raws.add(new Raw(name, shape, begin, end));
        }
        List<Raw> byOffset = new ArrayList<>(raws);
        byOffset.sort(Comparator.comparingLong(Raw::begin).thenComparingLong(Raw::end));
        long expected = 0;
        for (Raw r : byOffset) {
            if (r.begin() != expected) {
                throw new CheckpointFormatException(file, "tensor " + quote(r.name()) + " starts at data byte " + r.begin()
                        + ", expected " + expected + " (tensors must be contiguous, without gaps or overlaps)");
            }
            expected = r.end();
        }
        if (expected != dataLength) {
            throw new CheckpointFormatException(file, "holds " + dataLength + " data bytes but its tensors cover " + expected);
        }
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Raw r : raws) {
            float[] data = new float[(int) ((r.end() - r.begin()) / 4)];
            ByteBuffer slice = ByteBuffer.wrap(bytes, (int) (dataStart + r.begin()), (int) (r.end() - r.begin()))
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            slice.asFloatBuffer().get(data);
            tensors.put(r.name(), new Entry(r.shape(), data));
        }
        return new Contents(tensors, metadata);
    }

    private static String quote(String s) {
        return CheckpointFormatException.quote(s);
    }
}
