package dev.jacobian.samples.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {
    }

    /** One F32 tensor: its shape and row-major values. */
    public record Entry(int[] shape, float[] data) {
        public Entry {
            long n = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
                }
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n
                        + " values, got " + data.length);
            }
        }
    }

    /** What a file holds: tensors by name (in file order) and the metadata. */
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

    /** Reads and validates a safetensors file of F32 tensors. */
    public static Contents read(Path file) throws CheckpointFormatException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file, "file not found", e);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "cannot be read (" + e + ")", e);
        }
        return decode(file, bytes);
    }

    /** Decodes the bytes of a safetensors file; {@code file} only names it in errors. */
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
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
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
                        throw new CheckpointFormatException(file, "metadata value of '" + kv.getKey() + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String name = f.getKey();
            if (!v.isObject() || !v.path("shape").isArray() || !v.path("data_offsets").isArray()
                    || v.path("data_offsets").size() != 2) {
                throw new CheckpointFormatException(file, "tensor '" + name + "' lacks dtype, shape or data_offsets");
            }
            String dtype = v.path("dtype").asText();
            if (!dtype.equals("F32")) {
                throw new CheckpointFormatException(file, "tensor '" + name + "' has dtype " + dtype + "; only F32 is supported");
            }
            int[] shape = new int[v.get("shape").size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = v.get("shape").get(i);
                if (!d.canConvertToInt() || d.asInt() < 0) {
                    throw new CheckpointFormatException(file, "tensor '" + name + "' has an invalid shape " + v.get("shape"));
                }
                shape[i] = d.asInt();
                count *= shape[i];
            }
            long begin = v.get("data_offsets").get(0).asLong(-1);
            long end = v.get("data_offsets").get(1).asLong(-1);
            if (begin < 0 || end < begin || end - begin != 4 * count) {
                throw new CheckpointFormatException(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                        + "] that do not match its shape " + Arrays.toString(shape) + " of F32");
            }
            if (end > dataLength) {
                throw new CheckpointFormatException(file, "truncated: tensor '" + name + "' ends at data byte " + end
                        + " but the file holds " + dataLength + " data bytes");
            }
            raws.add(new Raw(name, shape, begin, end));
        }
        List<Raw> byOffset = new ArrayList<>(raws);
        byOffset.sort(Comparator.comparingLong(Raw::begin));
        long expected = 0;
        for (Raw r : byOffset) {
            if (r.begin() != expected) {
                throw new CheckpointFormatException(file, "tensor '" + r.name() + "' starts at data byte " + r.begin()
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
}
