package dev.jacobian.io;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.OpNode;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ops.Dense;
import dev.jacobian.graph.ops.Linear;
import dev.jacobian.graph.ops.PRelu;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.ModuleSpec;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Adam;
import dev.jacobian.optim.Optimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * A model saved in one <a href="https://github.com/huggingface/safetensors">safetensors</a> file: its parameters and
 * buffers with PyTorch's names and layouts, its architecture as JSON in the header's metadata, and optionally an
 * optimizer's state — so that a model, and its training, can be restored exactly, and PyTorch reads the weights.
 *
 * <pre>{@code
 * model.save(Path.of("model.safetensors"));                       // or ModelFile.save(model, optimizer, file, metadata)
 * try (Model again = Model.load(Path.of("model.safetensors"), backend)) { ... }
 * }</pre>
 *
 * <h2>Names and layouts</h2>
 * Tensors are named as in a PyTorch module whose submodules carry the Jacobian names:
 * {@code Modules.dense("hidden", 784, 256, ...)} is {@code nn.Linear(784, 256)} at attribute {@code hidden}, saved as
 * {@code hidden.weight} {@code [256, 784]} (PyTorch's {@code [out, in]}; Jacobian computes with {@code [in, out]} and
 * transposes on save and load) and {@code hidden.bias} {@code [256]}; batch and layer norm and convolutions keep their
 * names and shapes ({@code bn1.running_mean}; {@code num_batches_tracked} is an {@code I64} scalar, as in PyTorch);
 * a PReLU's slopes {@code <name>.slope} are {@code nn.PReLU}'s {@code <name>.weight}; in a model of
 * {@link Sequential#builder} the PReLU slopes of hidden layer {@code k} are {@code preluK.weight}. So
 * {@code safetensors.torch.load_file} and {@code load_state_dict} fill the equivalent
 * {@code nn.Sequential(OrderedDict(...))}; {@code core/src/test/python/jacobian_torch.py} builds that module from a
 * file's architecture. The layouts are read off the graph (the weight of every affine node), so a module of the
 * user's own built from the same nodes saves its weights the same way. Tensors a caller adds under
 * {@value #EXTRA_PREFIX} (and the optimizer's) are not part of the state dict: drop them before
 * {@code load_state_dict}.
 *
 * <h2>Metadata</h2>
 * {@code format} is {@code pt} (the convention for PyTorch state dicts); {@value #FORMAT_KEY} is the format's version
 * ({@value #FORMAT}); {@value #ARCHITECTURE_KEY} is the JSON of {@link Model#architecture()}
 * ({@code {"type", "options", "children"}}, recursively); {@value #OPTIMIZER_KEY}, when an optimizer was saved, is
 * JSON of its class, its kind (the class, or {@code AdamW} for an {@code Adam} with decoupled weight decay), learning
 * rate, step count and the executor's forward count (dropout's stream position); the
 * optimizer's state tensors are {@value #OPTIMIZER_PREFIX}{@code <tensor>.<state>} in the layout of their tensor.
 * Other keys are the caller's ({@link #save(Model, Optimizer, Path, Map)}), e.g. {@value #INPUT_SCALE} and
 * {@value #INPUT_OFFSET}, the scaling the model's inputs had in training ({@code x * scale + offset} of the raw data).
 *
 * <h2>Reading</h2>
 * {@link #read} validates the whole file before anything is built: the safetensors structure
 * ({@link SafeTensors#decode}), the metadata, the architecture, and that the architecture needs no more parameters
 * than the file holds (a hostile header cannot make a loader allocate a huge model). Every problem is a
 * {@link ModelFormatException} with a one-line message naming the file.
 */
public final class ModelFile {
    /** Metadata key of the format version. */
    public static final String FORMAT_KEY = "jacobian.format";
    /** The version this class writes and reads. */
    public static final String FORMAT = "1";
    /** Metadata key of the architecture's JSON. */
    public static final String ARCHITECTURE_KEY = "jacobian.architecture";
    /** Metadata key of the optimizer's description, present when its state was saved. */
    public static final String OPTIMIZER_KEY = "jacobian.optimizer";
    /** Name prefix of the optimizer's state tensors. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";
    /** Name prefix of a caller's own tensors, which loading ignores (see {@link #tensors(Model, Optimizer)}). */
    public static final String EXTRA_PREFIX = "extra.";
    /** Caller metadata key (by convention): the factor applied to raw inputs in training. */
    public static final String INPUT_SCALE = "input_scale";
    /** Caller metadata key (by convention): the offset added to scaled inputs in training. */
    public static final String INPUT_OFFSET = "input_offset";

    private final Path file;
    private final Map<String, SafeTensors.Entry> tensors;
    private final Map<String, String> metadata;
    private final ModuleSpec architecture;
    private final Map<String, Object> optimizer;

    private ModelFile(Path file, Map<String, SafeTensors.Entry> tensors, Map<String, String> metadata,
                      ModuleSpec architecture, Map<String, Object> optimizer) {
        this.file = file;
        this.tensors = tensors;
        this.metadata = metadata;
        this.architecture = architecture;
        this.optimizer = optimizer;
    }

    /** How a model tensor is laid out in the file. */
    private enum Layout {
        /** The same shape and order. */
        SAME,
        /** A matrix {@code [in, out]} stored transposed, {@code [out, in]}. */
        TRANSPOSE,
        /** A row {@code [1, n]} stored as a vector {@code [n]}. */
        FLAT,
        /** One value stored as a scalar {@code []}, as PyTorch stores counts. */
        SCALAR
    }

    /**
     * One model tensor's place in the file.
     *
     * @param fileName  its name in the file
     * @param layout    how its values are laid out there
     * @param modelDims its shape in the model
     * @param integer   whether it is stored as {@code I64}
     */
    private record Slot(String fileName, Layout layout, int[] modelDims, boolean integer) {
        int[] fileDims() {
            return switch (layout) {
                case SAME -> modelDims;
                case TRANSPOSE -> new int[] {modelDims[1], modelDims[0]};
                case FLAT -> new int[] {modelDims[modelDims.length - 1]};
                case SCALAR -> new int[0];
            };
        }

        float[] toFile(float[] v) {
            return layout == Layout.TRANSPOSE ? transpose(v, modelDims[0], modelDims[1]) : v;
        }

        float[] toModel(float[] v) {
            return layout == Layout.TRANSPOSE ? transpose(v, modelDims[1], modelDims[0]) : v;
        }
    }

    private static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }

    /**
     * The file name and layout of every parameter and buffer of {@code model}, in the model's order (parameters,
     * then buffers), read off its graph: the weight of every affine node ({@code x W + b}: {@link Linear},
     * {@link Dense}) is transposed and its bias flattened, PReLU slopes are flattened and named {@code .weight}
     * ({@code preluK.weight} for hidden layer {@code K} of a {@link Sequential#builder} model), single values (batch
     * norm's {@code num_batches_tracked}) are scalars; everything else keeps its name and shape. Custom modules built
     * from these nodes get the same layouts.
     */
    private static Map<String, Slot> slots(Model model) {
        Map<Node, Layout> layouts = new HashMap<>();
        Set<Node> slopes = new HashSet<>();
        for (Node n : model.graph().nodes()) {
            if (n instanceof OpNode op && (op.operation() instanceof Linear || op.operation() instanceof Dense)) {
                layouts.put(op.inputs().get(1), Layout.TRANSPOSE);
                layouts.put(op.inputs().get(2), Layout.FLAT);
            } else if (n instanceof OpNode op && op.operation() instanceof PRelu) {
                layouts.put(op.inputs().get(1), Layout.FLAT);
                slopes.add(op.inputs().get(1));
            }
        }
        boolean mlp = model.architecture().type().equals(Sequential.MLP);
        Map<String, Slot> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            String name = p.name();
            int[] dims = p.shape().dims();
            Layout layout = layouts.getOrDefault(p, Layout.SAME);
            if (layout == Layout.TRANSPOSE && dims.length != 2 || layout == Layout.FLAT && (dims.length != 2 || dims[0] != 1)) {
                layout = Layout.SAME;
            }
            if (slopes.contains(p) && name.endsWith(".slope")) {
                String owner = name.substring(0, name.length() - ".slope".length());
                name = (mlp && owner.startsWith("dense") ? "prelu" + owner.substring("dense".length()) : owner) + ".weight";
            }
            out.put(p.name(), new Slot(name, layout, dims, false));
        }
        for (Buffer b : model.buffers()) {
            int[] dims = b.shape().dims();
            boolean count = b.name().endsWith(".num_batches_tracked");
            out.put(b.name(), new Slot(b.name(), count && b.shape().size() == 1 ? Layout.SCALAR : Layout.SAME, dims, count));
        }
        Set<String> fileNames = new HashSet<>();
        for (Slot s : out.values()) {
            if (!fileNames.add(s.fileName())) {
                throw new IllegalArgumentException("two tensors of " + model.describe() + " would both be saved as '"
                        + s.fileName() + "'; rename one");
            }
        }
        return out;
    }

    /** Saves {@code model} (architecture, parameters, buffers) to {@code file}, atomically. */
    public static void save(Model model, Path file) throws IOException {
        save(model, null, file, Map.of());
    }

    /** Saves {@code model} and, when not null, {@code optimizer}'s state to {@code file}, atomically. */
    public static void save(Model model, Optimizer optimizer, Path file) throws IOException {
        save(model, optimizer, file, Map.of());
    }

    /**
     * Saves {@code model}, {@code optimizer}'s state when it is not null, and the caller's {@code metadata} to
     * {@code file}, atomically (a temporary file, flushed, renamed over {@code file}: a reader never sees a torn
     * file).
     *
     * @throws IllegalArgumentException when a metadata key is {@code format} or starts with {@code jacobian.}, or
     *     a value is null
     * @throws IOException              when the file cannot be written (the previous file, if any, is intact)
     */
    public static void save(Model model, Optimizer optimizer, Path file, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, tensors(model, optimizer), metadata(model, optimizer, metadata));
    }

    /**
     * The metadata {@link #save} writes: {@code format}, {@value #FORMAT_KEY}, {@value #ARCHITECTURE_KEY},
     * {@value #OPTIMIZER_KEY} when {@code optimizer} is not null, and the caller's {@code metadata}.
     *
     * @throws IllegalArgumentException when a caller's key is {@code format} or starts with {@code jacobian.}, or a
     *     value is null
     */
    public static Map<String, String> metadata(Model model, Optimizer optimizer, Map<String, String> metadata) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(FORMAT_KEY, FORMAT);
        meta.put(ARCHITECTURE_KEY, Json.write(toJson(model.architecture())));
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey().equals("format") || e.getKey().startsWith("jacobian.") || e.getValue() == null) {
                throw new IllegalArgumentException("metadata key '" + e.getKey() + "' is reserved or its value null");
            }
            meta.put(e.getKey(), e.getValue());
        }
        if (optimizer != null) {
            Map<String, Object> desc = new LinkedHashMap<>();
            desc.put("class", optimizer.getClass().getSimpleName());
            desc.put("kind", kind(optimizer));
            desc.put("learning_rate", optimizer.learningRate());
            desc.put("steps", optimizer.steps());
            desc.put("forward_count", model.executor().forwardCount());
            meta.put(OPTIMIZER_KEY, Json.write(desc));
        }
        return meta;
    }

    /**
     * The tensors {@link #save} writes, in the file's names and layouts: the parameters, the buffers and, when
     * {@code optimizer} is not null, its state ({@value #OPTIMIZER_PREFIX}{@code <tensor>.<state>}). A caller may
     * add tensors of its own named {@value #EXTRA_PREFIX}{@code ...} (e.g. the best weights of early stopping) before
     * encoding them with {@link SafeTensors#encode}: loading ignores them.
     */
    public static Map<String, SafeTensors.Entry> tensors(Model model, Optimizer optimizer) {
        Map<String, Slot> slots = slots(model);
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            Slot s = slots.get(p.name());
            out.put(s.fileName(), new SafeTensors.Entry(s.fileDims(), s.toFile(model.read(p))));
        }
        for (Buffer b : model.buffers()) {
            Slot s = slots.get(b.name());
            out.put(s.fileName(), new SafeTensors.Entry(s.fileDims(), model.read(b),
                    s.integer() ? SafeTensors.DType.I64 : SafeTensors.DType.F32));
        }
        if (optimizer != null) {
            for (Map.Entry<String, float[]> e : optimizer.state(model.executor()).entrySet()) {
                Parameter p = owner(model, e.getKey(), Parameter::name); // the optimizer's own keys: never null
                String state = e.getKey().substring(p.name().length() + 1);
                Slot s = slots.get(p.name());
                float[] v = e.getValue();
                SafeTensors.Entry entry = v.length == p.shape().size() && v.length != 1
                        ? new SafeTensors.Entry(s.fileDims(), s.toFile(v))
                        : new SafeTensors.Entry(new int[] {v.length}, v);
                out.put(OPTIMIZER_PREFIX + s.fileName() + "." + state, entry);
            }
        }
        return out;
    }

    /**
     * The parameter a state key {@code "<name>.<state>"} belongs to: the one whose name by {@code naming} is the
     * longest prefix of {@code key} (names contain dots), or null.
     */
    private static Parameter owner(Model model, String key, java.util.function.Function<Parameter, String> naming) {
        Parameter best = null;
        int bestLength = -1;
        for (Parameter p : model.parameters()) {
            String name = naming.apply(p);
            if (name.length() > bestLength && key.startsWith(name + ".")) {
                best = p;
                bestLength = name.length();
            }
        }
        return best;
    }

    /** Reads, validates and builds the model in {@code file} on {@code backend}, with its weights. */
    public static Model load(Path file, Backend backend) throws ModelFormatException {
        return read(file).model(backend);
    }

    /** Loads the weights of {@code file} into {@code model}, which must have the same tensors (names and shapes). */
    public static void loadWeights(Model model, Path file) throws ModelFormatException {
        read(file).loadWeights(model);
    }

    /**
     * Reads and validates {@code file}: the safetensors structure, the format version, the architecture (when the
     * file has one: a file of weights alone, such as PyTorch's {@code save_file(model.state_dict())}, can still be
     * loaded into a model with {@link #loadWeights(Model)}), and that the architecture needs no more parameter
     * values than the file holds.
     */
    public static ModelFile read(Path file) throws ModelFormatException {
        return decode(file, SafeTensors.readFile(file, SafeTensors.MAX_FILE, ""));
    }

    /** As {@link #read}, from the bytes of a file already read; {@code file} names it in errors. */
    public static ModelFile decode(Path file, byte[] bytes) throws ModelFormatException {
        SafeTensors.Contents c = SafeTensors.decode(file, bytes);
        Map<String, String> meta = c.metadata();
        String version = meta.get(FORMAT_KEY);
        if (version != null && !version.equals(FORMAT)) {
            throw new ModelFormatException(file, "is model format version '" + version + "'; this Jacobian reads "
                    + FORMAT);
        }
        ModuleSpec arch = null;
        if (meta.containsKey(ARCHITECTURE_KEY)) {
            try {
                arch = fromJson(Json.parse(meta.get(ARCHITECTURE_KEY)), 0);
            } catch (Json.Syntax | IllegalArgumentException e) {
                throw new ModelFormatException(file, "its architecture is not valid: " + e.getMessage(), e);
            }
            long needed;
            try {
                needed = parameterCount(arch);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new ModelFormatException(file, "its architecture is not valid: " + e.getMessage(), e);
            }
            long held = 0;
            for (Map.Entry<String, SafeTensors.Entry> e : c.tensors().entrySet()) {
                if (!e.getKey().startsWith(OPTIMIZER_PREFIX) && !e.getKey().startsWith(EXTRA_PREFIX)) {
                    held += e.getValue().data().length;
                }
            }
            if (needed > held) {
                throw new ModelFormatException(file, "its architecture needs " + needed
                        + " parameter values but the file holds " + held);
            }
        }
        Map<String, Object> opt = null;
        if (meta.containsKey(OPTIMIZER_KEY)) {
            try {
                if (!(Json.parse(meta.get(OPTIMIZER_KEY)) instanceof Map<?, ?> m)) {
                    throw new ModelFormatException(file, OPTIMIZER_KEY + " is not a JSON object");
                }
                opt = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    opt.put((String) e.getKey(), e.getValue());
                }
            } catch (Json.Syntax e) {
                throw new ModelFormatException(file, OPTIMIZER_KEY + " is not valid JSON: " + e.getMessage(), e);
            }
        }
        Map<String, String> user = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (!k.equals("format") && !k.startsWith("jacobian.")) {
                user.put(k, v);
            }
        });
        return new ModelFile(file, c.tensors(), java.util.Collections.unmodifiableMap(user), arch, opt);
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** The saved architecture, or null for a file of weights without one. */
    public ModuleSpec architecture() {
        return architecture;
    }

    /** The caller's metadata (every key but {@code format} and the {@code jacobian.} ones). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file's tensors by name, in the file's names and layouts (see the class comment). */
    public Map<String, SafeTensors.Entry> tensors() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    /** Whether an optimizer's state was saved. */
    public boolean hasOptimizerState() {
        return optimizer != null;
    }

    /** The saved optimizer's class name ({@code Sgd}, {@code Adam}, ...), or null when none was saved. */
    public String optimizerClass() {
        return optimizer == null ? null : String.valueOf(optimizer.get("class"));
    }

    /**
     * The kind of optimizer {@code optimizer} is, as a file records it: its class name, but {@code AdamW} for an
     * {@link Adam} with decoupled weight decay (one class, two algorithms whose state must not be taken one for the
     * other).
     */
    static String kind(Optimizer optimizer) {
        return optimizer instanceof Adam a && a.decoupled() ? "AdamW" : optimizer.getClass().getSimpleName();
    }

    /** The metadata {@value #INPUT_SCALE} as a number, when present and finite. */
    public OptionalDouble inputScale() {
        return number(metadata.get(INPUT_SCALE));
    }

    /** The metadata {@value #INPUT_OFFSET} as a number, when present and finite. */
    public OptionalDouble inputOffset() {
        return number(metadata.get(INPUT_OFFSET));
    }

    private static OptionalDouble number(String s) {
        try {
            double d = s == null ? Double.NaN : Double.parseDouble(s);
            return Double.isFinite(d) ? OptionalDouble.of(d) : OptionalDouble.empty();
        } catch (NumberFormatException e) {
            return OptionalDouble.empty();
        }
    }

    /**
     * Builds the saved architecture on {@code backend} and loads the weights into it. The caller owns the model
     * (close it); on any failure it is closed here.
     *
     * @throws ModelFormatException when the file has no architecture, or it cannot be built, or the weights do not fit
     */
    public Model model(Backend backend) throws ModelFormatException {
        if (architecture == null) {
            throw new ModelFormatException(file, "holds weights without an architecture; build the model and call "
                    + "ModelFile.loadWeights");
        }
        Model model;
        try {
            model = Model.fromArchitecture(architecture, backend);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "its architecture cannot be built: " + e.getMessage(), e);
        }
        try {
            loadWeights(model);
            return model;
        } catch (ModelFormatException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Writes the file's parameters and buffers into {@code model}. Every tensor of the model must be in the file
     * with its (file) shape, and the file may hold no other tensor but optimizer state and a caller's extra ones, as
     * {@code load_state_dict(strict=True)} demands; nothing is written unless all of them fit.
     */
    public void loadWeights(Model model) throws ModelFormatException {
        Map<String, Slot> slots;
        try {
            slots = slots(model);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            SafeTensors.Entry t = tensors.get(s.fileName());
            if (t == null) {
                throw new ModelFormatException(file, "has no tensor '" + s.fileName() + "' for model " + model.describe());
            }
            if (!Arrays.equals(t.shape(), s.fileDims())) {
                throw new ModelFormatException(file, "tensor '" + s.fileName() + "' has shape "
                        + Arrays.toString(t.shape()) + ", the model needs " + Arrays.toString(s.fileDims()));
            }
            int bad = Checks.firstNonFinite(t.data());
            if (bad >= 0) {
                throw new ModelFormatException(file, "tensor '" + s.fileName() + "' holds " + t.data()[bad]
                        + " at index " + bad + "; weights must be finite");
            }
            values.put(e.getKey(), s.toModel(t.data()));
            used.add(s.fileName());
        }
        for (String name : tensors.keySet()) {
            if (!used.contains(name) && !name.startsWith(OPTIMIZER_PREFIX) && !name.startsWith(EXTRA_PREFIX)) {
                throw new ModelFormatException(file, "holds tensor '" + name + "' that model " + model.describe()
                        + " does not have");
            }
        }
        for (Parameter p : model.parameters()) {
            model.write(p, values.get(p.name()));
        }
        for (Buffer b : model.buffers()) {
            model.write(b, values.get(b.name()));
        }
    }

    /**
     * Restores the saved optimizer state into {@code optimizer} for {@code model} (whose weights this file holds),
     * with the learning rate it had and the executor's forward count (dropout's stream), so that training goes on
     * exactly as it would have.
     *
     * @throws ModelFormatException when no optimizer was saved, it was another kind, or its state does not fit
     */
    public void loadOptimizer(Model model, Optimizer optimizer) throws ModelFormatException {
        if (this.optimizer == null) {
            throw new ModelFormatException(file, "holds no optimizer state");
        }
        // files since the twenty-fifth session record the kind (AdamW apart from Adam); older ones the class only
        Object savedKind = this.optimizer.get("kind");
        String saved = savedKind != null ? String.valueOf(savedKind) : optimizerClass();
        String wanted = savedKind != null ? kind(optimizer) : optimizer.getClass().getSimpleName();
        if (!saved.equals(wanted)) {
            throw new ModelFormatException(file, "holds the state of a " + saved + " optimizer, not of a " + wanted);
        }
        Map<String, float[]> state = optimizerState(model);
        double lr = optimizer.learningRate();
        long forwards = model.executor().forwardCount();
        Object savedLr = this.optimizer.get("learning_rate");
        if (savedLr != null) {
            if (!(savedLr instanceof Number n) || !Double.isFinite(n.doubleValue()) || n.doubleValue() < 0) {
                throw new ModelFormatException(file, "optimizer learning_rate " + Json.write(savedLr)
                        + " is not a finite number >= 0");
            }
            if (Float.isInfinite((float) n.doubleValue())) { // checked now: setting it after loadState would fail
                throw new ModelFormatException(file, "optimizer learning_rate " + Json.write(savedLr)
                        + " is beyond a float's range");
            }
            lr = n.doubleValue();
        }
        Object savedForwards = this.optimizer.get("forward_count");
        if (savedForwards != null) {
            if (!(savedForwards instanceof Long f) || f < 0) {
                throw new ModelFormatException(file, "optimizer forward_count " + Json.write(savedForwards)
                        + " is not an integer >= 0");
            }
            forwards = f;
        }
        try {
            optimizer.loadState(model.executor(), state);
            if ((float) lr != optimizer.learningRate()) { // a rate set through the float API (a schedule's)
                optimizer.setLearningRate((float) lr);
            }
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "optimizer state does not fit: " + e.getMessage(), e);
        }
        model.executor().setForwardCount(forwards);
    }

    /**
     * The saved optimizer state in the model's names and layouts ({@code "<parameter>.<state>"}, as
     * {@link Optimizer#state} gives it and {@link Optimizer#loadState} takes it), for a caller that restores the
     * learning rate and the random stream itself; empty when none was saved.
     *
     * @throws ModelFormatException when a state tensor names no parameter of {@code model}
     */
    public Map<String, float[]> optimizerState(Model model) throws ModelFormatException {
        Map<String, Slot> slots;
        try {
            slots = slots(model);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage());
        }
        Map<String, float[]> state = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensors.Entry> e : tensors.entrySet()) {
            if (!e.getKey().startsWith(OPTIMIZER_PREFIX)) {
                continue;
            }
            String key = e.getKey().substring(OPTIMIZER_PREFIX.length());
            Parameter owner = owner(model, key, p -> slots.get(p.name()).fileName());
            if (owner == null) {
                throw new ModelFormatException(file, "optimizer tensor '" + e.getKey() + "' names no parameter of model "
                        + model.describe());
            }
            Slot s = slots.get(owner.name());
            String stateName = key.substring(s.fileName().length() + 1);
            float[] v = e.getValue().data();
            boolean shaped = Arrays.equals(e.getValue().shape(), s.fileDims()) && v.length != 1;
            state.put(owner.name() + "." + stateName, shaped ? s.toModel(v) : v);
        }
        return state;
    }

    /** The number of parameter and buffer values {@code s} needs, with exact arithmetic. */
    static long parameterCount(ModuleSpec s) {
        long n = switch (s.type()) {
            case "dense" -> Math.addExact(Math.multiplyExact((long) s.integer("in"), s.integer("out")), s.integer("out"));
            case "prelu" -> s.integer("units");
            case "batch_norm" -> Math.addExact(Math.multiplyExact(4L, s.integer("channels")), 1);
            case "layer_norm" -> Math.multiplyExact(2L, product(s.integers("shape")));
            case "conv2d" -> {
                int[] k = s.integers("kernel");
                long w = product(new int[] {s.integer("out"), s.integer("in") / Math.max(1, s.integer("groups"))});
                w = Math.multiplyExact(w, product(k));
                yield s.flag("bias") ? Math.addExact(w, s.integer("out")) : w;
            }
            case Sequential.MLP -> {
                long total = 0;
                long in = s.integer("input");
                int pieces = s.integer("maxout_pieces");
                String norm = s.text("norm");
                for (ModuleSpec h : s.list("hidden")) {
                    long units = h.integer("units");
                    long width = h.text("activation").equals("maxout") ? Math.multiplyExact(units, pieces) : units;
                    total = Math.addExact(total, Math.multiplyExact(Math.addExact(in, 1), width));
                    if (h.text("activation").equals("prelu")) {
                        total = Math.addExact(total, width);
                    }
                    if (!norm.isEmpty()) {
                        total = Math.addExact(total, Math.multiplyExact(2L, width));
                    }
                    in = units;
                }
                yield Math.addExact(total, Math.multiplyExact(Math.addExact(in, 1), s.integer("outputs")));
            }
            default -> 0L;
        };
        if (n < 0) {
            throw new IllegalArgumentException(s.type() + ": negative size");
        }
        for (ModuleSpec c : s.children()) {
            n = Math.addExact(n, parameterCount(c));
        }
        return n;
    }

    private static long product(int[] dims) {
        long p = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
            p = Math.multiplyExact(p, d);
        }
        return p;
    }

    /** {@code {"type", "options", "children"}} of a spec, recursively. */
    static Map<String, Object> toJson(ModuleSpec s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", s.type());
        m.put("options", s.options());
        List<Object> children = new ArrayList<>();
        for (ModuleSpec c : s.children()) {
            children.add(toJson(c));
        }
        m.put("children", children);
        return m;
    }

    /** The spec a {@link #toJson} map describes; an {@link IllegalArgumentException} for any other shape. */
    static ModuleSpec fromJson(Object o, int depth) {
        if (depth > Json.MAX_DEPTH) {
            throw new IllegalArgumentException("modules nested deeper than " + Json.MAX_DEPTH);
        }
        if (!(o instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)
                || !(m.get("options") instanceof Map<?, ?> options) || !(m.get("children") instanceof List<?> children)) {
            throw new IllegalArgumentException("a module must be {\"type\", \"options\", \"children\"}");
        }
        Map<String, Object> opts = new LinkedHashMap<>();
        options.forEach((k, v) -> opts.put((String) k, v));
        List<ModuleSpec> kids = new ArrayList<>();
        for (Object c : children) {
            kids.add(fromJson(c, depth + 1));
        }
        return new ModuleSpec(type, opts, kids);
    }
}
