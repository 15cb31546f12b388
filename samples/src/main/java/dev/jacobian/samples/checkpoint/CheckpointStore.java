package dev.jacobian.samples.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jacobian.io.AtomicFiles;
import dev.jacobian.io.ModelFile;
import dev.jacobian.io.ModelFormatException;
import dev.jacobian.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints of one run directory: per epoch a pair {@code checkpoint-epoch-NNNN.safetensors}
 * (a model file of the library, {@link ModelFile}: the architecture, the weights in PyTorch's layouts, the optimizer's
 * state, loadable with {@code Model.load}) and {@code checkpoint-epoch-NNNN.json} (the run's state), both written
 * atomically, the JSON last. The
 * JSON names its tensor file and records its SHA-256, so a pair torn by a crash between the two writes
 * (tensors without JSON) is simply not a checkpoint, and a tensor file that does not match is reported.
 * The last {@value #KEEP} checkpoints are kept; older ones are deleted.
 *
 * <p>The JSON is {@code {"format": 2, "tensors_file": .., "sha256": .., "state": {...}}}, with the state
 * a caller-defined Jackson-serializable object (snake_case names). Checkpoints of format {@value #LEGACY_FORMAT}
 * (Jacobian 0.1 to 0.3: tensors under the model's own names and layouts, {@code [in, out]} weights, no architecture)
 * still load: their {@link Loaded#model()} is null.
 */
public final class CheckpointStore {
    /** How many of the newest checkpoints stay on disk. */
    public static final int KEEP = 2;
    /** Version of the JSON layout: 2, the tensor file a {@link ModelFile}. */
    public static final int FORMAT = 2;
    /** The format before the tensor file was a {@link ModelFile}, which still loads. */
    public static final int LEGACY_FORMAT = 1;
    /** Largest checkpoint JSON file the loader reads. */
    public static final long MAX_JSON = 16L << 20;
    private static final Pattern NAME = Pattern.compile("checkpoint-epoch-(\\d{4,})\\.json");
    private static final Pattern TENSORS = Pattern.compile("checkpoint-epoch-(\\d{4,})\\.safetensors");
    /**
     * Temporary files of the run's atomic writes ({@link AtomicFiles}: {@code .<target>.<digits>.tmp}) whose target is
     * one of the run's own files: a checkpoint's two files, {@code metrics.json} or a plot.
     */
    private static final Pattern TEMP = Pattern.compile(
            "\\.(checkpoint-epoch-\\d{4,}\\.(json|safetensors)|metrics\\.json|[A-Za-z0-9_-]+\\.png)\\.\\d+\\.tmp");
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    private final Path dir;
    private final ObjectMapper json;

    /** The checkpoints of run directory {@code dir} (created on the first save). */
    public CheckpointStore(Path dir) {
        this.dir = dir;
        this.json = mapper();
    }

    /** The JSON mapper of checkpoints and metrics: snake_case, indented, tolerant of unknown fields. */
    public static ObjectMapper mapper() {
        return new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** The run directory. */
    public Path directory() {
        return dir;
    }

    /**
     * A loaded checkpoint: where its JSON is, its state, and its tensors.
     *
     * @param file     the checkpoint JSON file
     * @param state    its state, bound to the caller's type
     * @param tensors  the tensors of its safetensors file, by name
     * @param metadata the safetensors file's metadata
     * @param <T>      the state's type
     */
    public record Loaded<T>(Path file, T state, Map<String, SafeTensors.Entry> tensors, Map<String, String> metadata,
                            ModelFile model) {
    }

    /**
     * Saves the checkpoint of {@code epoch}: {@code tensors} and {@code metadata} (a {@link ModelFile}'s, see
     * {@link ModelFile#tensors} and {@link ModelFile#metadata}) and the caller's state; returns the JSON file's path.
     */
    public Path save(int epoch, Map<String, SafeTensors.Entry> tensors, Map<String, String> metadata, Object state)
            throws IOException {
        String base = String.format("checkpoint-epoch-%04d", epoch);
        Path tensorsFile = dir.resolve(base + ".safetensors");
        var buffers = SafeTensors.encode(tensors, metadata);
        MessageDigest sha = sha256();
        for (var b : buffers) {
            sha.update(b.duplicate());
        }
        Path jsonFile = dir.resolve(base + ".json");
        // a checkpoint written again under its epoch (early stopping's last one): its old JSON goes first, so that no
        // JSON ever names a tensor file it does not match if this save stops between its two writes (the previous
        // checkpoint is then the newest, and the new tensor file an orphan the next run removes)
        Files.deleteIfExists(jsonFile);
        AtomicFiles.write(tensorsFile, buffers);
        ObjectNode root = json.createObjectNode();
        root.put("format", FORMAT);
        root.put("tensors_file", tensorsFile.getFileName().toString());
        root.put("sha256", HexFormat.of().formatHex(sha.digest()));
        root.set("state", json.valueToTree(state));
        AtomicFiles.write(jsonFile, json.writeValueAsBytes(root));
        prune();
        return jsonFile;
    }

    /** The newest checkpoint's JSON file, if any. */
    public Optional<Path> latest() throws IOException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Checkpoint JSON files, oldest first. */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            // a name whose number is no int (checkpoint-epoch-99999999999.json) is not a checkpoint this code wrote
            s.filter(p -> epochOf(p) >= 0).forEach(out::add);
        }
        out.sort((a, b) -> Integer.compare(epochOf(a), epochOf(b)));
        return out;
    }

    /**
     * Deletes what an interrupted run left in the run directory, and only the run's own files: checkpoints older than
     * the {@value #KEEP} newest (a kill between a save and its prune), temporary files of its atomic writes (a kill
     * between the write and the rename), and tensor files without their JSON (a kill between a checkpoint's two
     * writes, or between a prune's two deletes), which are never a checkpoint. Call it before a run writes into the
     * directory; it is not safe while another run writes there.
     *
     * @return the files deleted
     */
    public List<Path> removeLeftovers() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> gone = new ArrayList<>();
        List<Path> all = list();
        for (int i = 0; i < all.size() - KEEP; i++) {
            Files.deleteIfExists(all.get(i)); // its tensor file, an orphan now, goes below
            gone.add(all.get(i));
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                Matcher tensors = TENSORS.matcher(name);
                boolean orphan = tensors.matches()
                        && !Files.exists(p.resolveSibling("checkpoint-epoch-" + tensors.group(1) + ".json"));
                if ((orphan || TEMP.matcher(name).matches()) && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(p);
                    gone.add(p);
                }
            }
        }
        return gone;
    }

    private static int epochOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void prune() throws IOException {
        List<Path> all = list();
        for (int i = 0; i < all.size() - KEEP; i++) {
            Path j = all.get(i);
            String tensors = j.getFileName().toString().replace(".json", ".safetensors");
            // JSON first: a checkpoint without its JSON is never picked, whatever happens next
            Files.deleteIfExists(j);
            Files.deleteIfExists(j.resolveSibling(tensors));
            LOG.debug("deleted old checkpoint {}", j);
        }
    }

    /**
     * Loads a checkpoint: {@code path} is a checkpoint JSON file, or a run directory (its newest checkpoint).
     * Nothing in the files is trusted: the JSON (at most {@value #MAX_JSON} bytes) must name its tensor file by a
     * plain file name in the JSON's own directory (no separators, no {@code ..}, no control characters), which must
     * be a regular file (not a link, directory or device) of at most {@link SafeTensors#MAX_FILE} bytes whose SHA-256
     * is the one recorded; the tensors are then checked as {@link SafeTensors#decode} describes, and the state is
     * bound to {@code stateType}, whose constructors may reject it with any runtime exception.
     *
     * @throws ModelFormatException for every problem (a {@link CheckpointFormatException} for the JSON), with a one-line
     *     message naming the file at fault
     */
    public static <T> Loaded<T> load(Path path, Class<T> stateType) throws ModelFormatException {
        Path file = path;
        if (Files.isDirectory(path)) {
            try {
                file = new CheckpointStore(path).latest().orElseThrow(
                        () -> new CheckpointFormatException(path, "no checkpoint-epoch-*.json in this directory"));
            } catch (ModelFormatException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new CheckpointFormatException(path, "cannot list the directory (" + e.getClass().getSimpleName() + ")", e);
            }
        }
        ObjectMapper json = mapper();
        JsonNode root;
        try {
            root = json.readTree(SafeTensors.readFile(file, MAX_JSON, "", true));
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "is not valid JSON (" + firstLine(e) + ")", e);
        }
        if (root == null || !root.isObject() || !root.path("tensors_file").isTextual() || !root.path("state").isObject()) {
            throw new CheckpointFormatException(file, "is not a checkpoint (needs tensors_file and state)");
        }
        if (!root.path("format").isInt() || root.path("format").intValue() != FORMAT
                && root.path("format").intValue() != LEGACY_FORMAT) {
            throw new CheckpointFormatException(file, "checkpoint format " + root.path("format") + " is not "
                    + FORMAT + " (or " + LEGACY_FORMAT + ", which still loads)");
        }
        if (!root.path("sha256").isTextual()) {
            throw new CheckpointFormatException(file, "has no sha256 of its tensor file");
        }
        Path tensorsFile = tensorsFile(file, root.get("tensors_file").asText());
        byte[] bytes = SafeTensors.readFile(tensorsFile, SafeTensors.MAX_FILE, " (named by " + file.getFileName() + ")", false);
        String expected = root.path("sha256").asText("");
        String actual = HexFormat.of().formatHex(sha256().digest(bytes));
        if (!expected.equalsIgnoreCase(actual)) {
            throw new CheckpointFormatException(tensorsFile, "SHA-256 " + actual + " does not match "
                    + CheckpointFormatException.quote(expected) + " recorded in " + file.getFileName() + " (corrupt or replaced)");
        }
        SafeTensors.Contents contents;
        ModelFile model = null;
        if (root.path("format").intValue() == FORMAT) {
            model = ModelFile.decode(tensorsFile, bytes);
            contents = new SafeTensors.Contents(model.tensors(), model.metadata());
        } else {
            contents = SafeTensors.decode(tensorsFile, bytes);
        }
        T state;
        try {
            state = json.treeToValue(root.get("state"), stateType);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof RuntimeException r ? r : e;
            throw new CheckpointFormatException(file, "state cannot be read (" + firstLine(cause) + ")", e);
        } catch (RuntimeException e) {
            throw new CheckpointFormatException(file, "state cannot be read (" + firstLine(e) + ")", e);
        }
        if (state == null) {
            throw new CheckpointFormatException(file, "has no state");
        }
        return new Loaded<>(file, state, contents.tensors(), contents.metadata(), model);
    }

    /**
     * The tensor file a checkpoint JSON names: {@code name} must be a plain file name, so that the file lies in the
     * JSON's own directory and a checkpoint can never make the loader read anything else.
     */
    static Path tensorsFile(Path json, String name) throws CheckpointFormatException {
        String problem = null;
        if (name.isEmpty()) {
            problem = "is empty";
        } else if (name.length() > 255) {
            problem = "is longer than 255 characters";
        } else if (name.equals(".") || name.equals("..")) {
            problem = "names a directory";
        } else if (name.chars().anyMatch(c -> c == '/' || c == '\\' || c == ':' || Character.isISOControl(c))) {
            problem = "is not a plain file name (it has a separator, ':' or a control character)";
        }
        Path resolved = null;
        if (problem == null) {
            try {
                Path dir = json.toAbsolutePath().normalize().getParent();
                resolved = dir.resolve(name);
                if (!dir.equals(resolved.normalize().getParent()) || resolved.getNameCount() != dir.getNameCount() + 1) {
                    problem = "does not resolve inside the checkpoint's directory";
                }
            } catch (InvalidPathException e) {
                problem = "is not a valid file name";
            }
        }
        if (problem != null) {
            throw new CheckpointFormatException(json, "tensors_file " + CheckpointFormatException.quote(name) + " "
                    + problem + "; it must be a file name in the checkpoint's directory");
        }
        return json.resolveSibling(resolved.getFileName());
    }

    private static String firstLine(Throwable e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        return m.lines().findFirst().orElse("");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
