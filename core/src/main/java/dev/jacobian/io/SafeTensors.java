package dev.jacobian.io;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The <a href="https://github.com/huggingface/safetensors">safetensors</a> format: an 8-byte little-endian
 * unsigned header length {@code N}; {@code N} bytes of UTF-8 JSON {@code {"name": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}}, padded with spaces so the data starts at a
 * multiple of 8; then the tensors' little-endian bytes, back to back, with offsets relative to the start of the
 * data. PyTorch's {@code safetensors.torch.load_file} reads what {@link #write} writes.
 *
 * <p>Tensors are held as floats. The writer writes {@link DType#F32}, or {@link DType#I64} for integer tensors such
 * as batch norm's {@code num_batches_tracked} (PyTorch's type for it). The reader also takes the files PyTorch
 * writes in other types ({@code F64}, {@code F16}, {@code BF16}, {@code I64}, {@code I32}, {@code I16}, {@code I8},
 * {@code U8}, {@code BOOL}) and converts their values to float (rounding to nearest; integers beyond 2^24 lose
 * their low bits).
 */
public final class SafeTensors {
    /** The key of the string-to-string metadata map in the header. */
    public static final String METADATA_KEY = "__metadata__";
    /** Header alignment of the data section, as the reference implementation writes it. */
    public static final int ALIGNMENT = 8;
    /** Largest header accepted by the reader (the reference implementation's limit). */
    public static final long MAX_HEADER = 100_000_000L;
    /** Largest safetensors file the reader accepts (it is read into one array). */
    public static final long MAX_FILE = Integer.MAX_VALUE - 64L;
    /** Most dimensions a tensor may have. */
    public static final int MAX_RANK = 8;

    private SafeTensors() {
    }

    /** Element types of a safetensors file, with their size in bytes. */
    public enum DType {
        /** 32-bit IEEE float. */
        F32(4),
        /** 64-bit IEEE float (read only). */
        F64(8),
        /** 16-bit IEEE float (read only). */
        F16(2),
        /** bfloat16, the upper half of a float (read only). */
        BF16(2),
        /** 64-bit signed integer. */
        I64(8),
        /** 32-bit signed integer (read only). */
        I32(4),
        /** 16-bit signed integer (read only). */
        I16(2),
        /** 8-bit signed integer (read only). */
        I8(1),
        /** 8-bit unsigned integer (read only). */
        U8(1),
        /** A byte, 0 or 1 (read only). */
        BOOL(1);

        private final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }
    }

    /**
     * One tensor: its shape, row-major values and the type it is (or was) stored as.
     *
     * @param shape the dimensions, each non-negative; {@code []} is a scalar
     * @param data  the values, as many as the dimensions' product
     * @param dtype {@link DType#F32} or {@link DType#I64} to write; what the file held, when read
     */
    public record Entry(int[] shape, float[] data, DType dtype) {
        /**
         * Checks that the shape is non-negative and holds exactly {@code data.length} values, and that an
         * {@link DType#I64} tensor holds integers.
         */
        public Entry {
            if (shape == null || data == null || dtype == null) {
                throw new IllegalArgumentException("a tensor needs a shape, values and a dtype");
            }
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

        /** An {@link DType#F32} tensor. */
        public Entry(int[] shape, float[] data) {
            this(shape, data, DType.F32);
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
        Map<String, Object> header = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : metadata.entrySet()) { // the reader takes string-to-string metadata only
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("metadata '" + e.getKey() + "' has a null "
                        + (e.getKey() == null ? "key" : "value") + "; metadata values are strings");
            }
        }
        if (!metadata.isEmpty()) {
            header.put(METADATA_KEY, new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException(METADATA_KEY + " is reserved");
            }
            DType type = e.getValue().dtype();
            if (type != DType.F32 && type != DType.I64) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "': only F32 and I64 are written, not " + type);
            }
            List<Object> shape = new ArrayList<>();
            for (int d : e.getValue().shape()) {
                shape.add(d);
            }
            long bytes = (long) type.bytes() * e.getValue().data().length;
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", type.name());
            t.put("shape", shape);
            t.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), t);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
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
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            float[] values = e.getValue().data();
            if (e.getValue().dtype() == DType.F32) {
                data.asFloatBuffer().put(values);
                data.position(data.position() + 4 * values.length);
            } else {
                for (float v : values) {
                    if (v != Math.rint(v) || Math.abs(v) > 0x1p62) {
                        throw new IllegalArgumentException("tensor '" + e.getKey() + "' is I64 but holds " + v);
                    }
                    data.putLong((long) v);
                }
            }
        }
        data.flip();
        return new ByteBuffer[] {head, data};
    }

    /** Writes a safetensors file atomically (see {@link AtomicFiles}). */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        AtomicFiles.write(file, encode(tensors, metadata));
    }

    /** Reads and validates a safetensors file (at most {@link #MAX_FILE} bytes). */
    public static Contents read(Path file) throws ModelFormatException {
        return decode(file, readFile(file, MAX_FILE, ""));
    }

    /**
     * The bytes of {@code file}, which must be a regular file (not a directory or device) of at most {@code max}
     * bytes that fits the heap twice over; its size is checked before anything is read, and no more than
     * {@code max + 1} bytes are ever read (a file growing meanwhile is reported, not read to its end). A symbolic
     * link is followed: the caller named the file.
     *
     * @param note added to the messages, e.g. which file named this one
     */
    public static byte[] readFile(Path file, long max, String note) throws ModelFormatException {
        return readFile(file, max, note, true);
    }

    /**
     * As {@link #readFile(Path, long, String)}; when {@code followLinks} is false, {@code file} must itself be the
     * regular file, not a symbolic link (a file that another file named, which must not lead the reader elsewhere).
     */
    public static byte[] readFile(Path file, long max, String note, boolean followLinks) throws ModelFormatException {
        LinkOption[] links = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, links);
            if (!a.isRegularFile()) {
                throw new ModelFormatException(file, "is not a regular file ("
                        + (a.isDirectory() ? "a directory" : a.isSymbolicLink() ? "a symbolic link" : "a device or special file")
                        + ")" + note);
            }
            if (a.size() > max) {
                throw new ModelFormatException(file, "is " + a.size() + " bytes, more than the " + max
                        + " such a file may have" + note);
            }
            if (a.size() * 2 > Runtime.getRuntime().maxMemory()) {
                throw new ModelFormatException(file, "is " + a.size() + " bytes, too large for this JVM's heap of "
                        + Runtime.getRuntime().maxMemory() + " bytes (-Xmx)" + note);
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file, links)) {
                bytes = in.readNBytes((int) Math.min(max + 1, a.size() + 1));
            }
            if (bytes.length > a.size()) {
                throw new ModelFormatException(file, "grew while it was read" + note);
            }
            return bytes;
        } catch (ModelFormatException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found" + note, e);
        } catch (IOException | InvalidPathException | UnsupportedOperationException | SecurityException e) {
            throw new ModelFormatException(file, "cannot be read (" + e.getClass().getSimpleName() + ")" + note, e);
        }
    }

    /**
     * Decodes the bytes of a safetensors file; {@code file} only names it in errors. Everything is checked before
     * anything is allocated, with exact arithmetic: the header length against the file, the header's JSON (strict:
     * duplicate names and trailing content are errors), each tensor's dtype (one of {@link DType}), rank (at most
     * {@value #MAX_RANK}), dimensions (non-negative ints) and element count, its {@code data_offsets} (integers
     * within the data section, {@code end - begin} equal to the element count times the type's size), and that the
     * tensors, ordered by offset, cover the data section exactly, without gaps or overlaps.
     */
    public static Contents decode(Path file, byte[] bytes) throws ModelFormatException {
        if (bytes.length < 8) {
            throw new ModelFormatException(file, "truncated: " + bytes.length
                    + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER || n > bytes.length - 8L) {
            throw new ModelFormatException(file, "header length " + Long.toUnsignedString(n)
                    + " does not fit a file of " + bytes.length + " bytes (truncated or not safetensors)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "header is not valid UTF-8", e);
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.Syntax e) {
            throw new ModelFormatException(file, "header is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (!(parsed instanceof Map<?, ?> header)) {
            throw new ModelFormatException(file, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        record Raw(String name, int[] shape, DType dtype, long begin, long end) {
        }
        List<Raw> raws = new ArrayList<>();
        for (Map.Entry<?, ?> f : header.entrySet()) {
            String name = (String) f.getKey();
            Object v = f.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!(v instanceof Map<?, ?> meta)) {
                    throw new ModelFormatException(file, METADATA_KEY + " is not an object");
                }
                for (Map.Entry<?, ?> kv : meta.entrySet()) {
                    if (!(kv.getValue() instanceof String s)) {
                        throw new ModelFormatException(file, "metadata value of " + quote((String) kv.getKey())
                                + " is not a string");
                    }
                    metadata.put((String) kv.getKey(), s);
                }
                continue;
            }
            String q = "tensor " + quote(name);
            if (!(v instanceof Map<?, ?> t) || !(t.get("dtype") instanceof String dtypeName)
                    || !(t.get("shape") instanceof List<?> dims) || !(t.get("data_offsets") instanceof List<?> offsets)
                    || offsets.size() != 2) {
                throw new ModelFormatException(file, q + " lacks dtype, shape or data_offsets");
            }
            DType dtype = dtypeOf(dtypeName);
            if (dtype == null) {
                throw new ModelFormatException(file, q + " has dtype " + quote(dtypeName) + "; supported: "
                        + Arrays.toString(DType.values()));
            }
            if (dims.size() > MAX_RANK) {
                throw new ModelFormatException(file, q + " has " + dims.size() + " dimensions, more than " + MAX_RANK);
            }
            int[] shape = new int[dims.size()];
            boolean empty = false;
            for (int i = 0; i < shape.length; i++) {
                if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                    throw new ModelFormatException(file, q + " has an invalid shape " + Json.write(dims));
                }
                shape[i] = (int) (long) d;
                empty |= shape[i] == 0;
            }
            long count = empty ? 0 : 1;
            for (int i = 0; i < shape.length && !empty; i++) {
                // count <= dataLength < 2^31 and a dimension < 2^31 before each step: the product is exact
                count *= shape[i];
                if (count > dataLength / dtype.bytes()) {
                    throw new ModelFormatException(file, q + " has data_offsets " + Json.write(offsets)
                            + " that do not match its shape " + Json.write(dims) + " of " + dtype
                            + " (it needs more than the " + dataLength + " data bytes of the file)");
                }
            }
            if (!(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
                throw new ModelFormatException(file, q + " has data_offsets " + Json.write(offsets)
                        + " that are not integers");
            }
            if (begin < 0 || end < begin || end > dataLength) {
                throw new ModelFormatException(file, q + " has data_offsets [" + begin + ", " + end
                        + "] outside the " + dataLength + " data bytes of the file (truncated or corrupt)");
            }
            if (end - begin != count * dtype.bytes()) { // count <= dataLength / bytes: no overflow
                throw new ModelFormatException(file, q + " has data_offsets [" + begin + ", " + end
                        + "] that do not match its shape " + Arrays.toString(shape) + " of " + dtype);
            }
            raws.add(new Raw(name, shape, dtype, begin, end));
        }
        List<Raw> byOffset = new ArrayList<>(raws);
        byOffset.sort(Comparator.comparingLong(Raw::begin).thenComparingLong(Raw::end));
        long expected = 0;
        for (Raw r : byOffset) {
            if (r.begin() != expected) {
                throw new ModelFormatException(file, "tensor " + quote(r.name()) + " starts at data byte " + r.begin()
                        + ", expected " + expected + " (tensors must be contiguous, without gaps or overlaps)");
            }
            expected = r.end();
        }
        if (expected != dataLength) {
            throw new ModelFormatException(file, "holds " + dataLength + " data bytes but its tensors cover " + expected);
        }
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Raw r : raws) {
            int count = (int) ((r.end() - r.begin()) / r.dtype().bytes());
            ByteBuffer slice = ByteBuffer.wrap(bytes, (int) (dataStart + r.begin()), (int) (r.end() - r.begin()))
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            tensors.put(r.name(), new Entry(r.shape(), values(slice, r.dtype(), count), r.dtype()));
        }
        return new Contents(tensors, metadata);
    }

    private static DType dtypeOf(String name) {
        for (DType t : DType.values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    private static float[] values(ByteBuffer b, DType type, int count) {
        float[] out = new float[count];
        switch (type) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) b.getDouble(8 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.float16ToFloat(b.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                }
            }
            case I64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) b.getLong(8 * i);
                }
            }
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) b.getInt(4 * i);
                }
            }
            case I16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = b.getShort(2 * i);
                }
            }
            case I8 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = b.get(i);
                }
            }
            case U8, BOOL -> {
                for (int i = 0; i < count; i++) {
                    out[i] = b.get(i) & 0xff;
                }
            }
            default -> throw new IllegalStateException("unhandled " + type);
        }
        return out;
    }

    private static String quote(String s) {
        return ModelFormatException.quote(s);
    }
}
