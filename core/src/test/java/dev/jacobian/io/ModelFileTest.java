package dev.jacobian.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Module;
import dev.jacobian.nn.Modules;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Adam;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models saved with {@link ModelFile} load back bit for bit (architecture, weights, buffers and, when asked, the
 * optimizer's state, so that training goes on as if never interrupted), in PyTorch's names and layouts, and every bad
 * file is a one-line {@link ModelFormatException}.
 */
class ModelFileTest {
    /** Relative tolerance of the independent numpy reader's logits (it computes in float64). */
    static final double OUTSIDE_READER_TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    /** Every MLP option of the builder: activations with parameters, PReLU, Maxout, batch norm, dropout, L2. */
    static Model mlp(ReferenceBackend b, String norm) {
        Sequential.Builder s = Sequential.builder(12).hidden(9, "prelu").hidden(8, "maxout").hidden(7, "leaky-relu")
                .hidden(6, "elu").hidden(5, "gelu").hidden(4, "tanh").leakySlope(0.2).eluAlpha(0.7).maxoutPieces(3)
                .dropout(0.25).l2(1e-3).seed(7).output(3, LossKind.SOFTMAX_CROSS_ENTROPY);
        if (norm.equals("bn")) {
            s.batchNorm();
        } else if (norm.equals("ln")) {
            s.layerNorm();
        }
        return s.build(b);
    }

    /** A CNN of modules: conv (grouped, dilated, no bias), batch norm 2d, pools, PReLU, layer norm, Maxout, dense. */
    static Model cnn(ReferenceBackend b) {
        Module net = Sequential.of(
                Modules.conv2d("conv1", 2, 4, new Conv2dSpec(3, 3, 1, 1, 1, 1, 1, 1, 1), true, Initializer.heNormal()),
                Modules.batchNorm("bn1", 4), Modules.activation("relu"), Modules.maxPool2d(2, 2, 0),
                Modules.conv2d("conv2", 4, 4, new Conv2dSpec(3, 3, 1, 1, 2, 2, 2, 2, 2), false, Initializer.heNormal()),
                Modules.avgPool2d(3, 1, 1), Modules.layerNorm("ln", Shape.of(4, 4, 4)), Modules.flatten(),
                Modules.dense("hidden", 64, 10, Initializer.heNormal(), "relu"), Modules.prelu("act", 10),
                Modules.dropout(0.1), Modules.maxout("mx", 10, 5, 2, Initializer.heNormal()),
                Modules.dense("out", 5, 3, Initializer.xavierUniform()));
        return Model.of(net, Shape.of(2, 8, 8), LossKind.SOFTMAX_CROSS_ENTROPY, b, 11);
    }

    static float[] data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** A few SGD steps so that weights, running statistics and batch counts are no longer their initial values. */
    static void train(Model m, Optimizer opt, int steps) {
        Trainer t = new Trainer(m, opt);
        int rows = 8;
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = i % m.outputSize();
        }
        float[] y = m.encodeTargets(labels);
        for (int s = 0; s < steps; s++) {
            t.step(data(rows * m.inputSize(), 100 + s), y, 0, rows);
        }
    }

    static Stream<Function<ReferenceBackend, Model>> models() {
        return Stream.of(b -> mlp(b, ""), b -> mlp(b, "bn"), b -> mlp(b, "ln"), ModelFileTest::cnn);
    }

    @Test
    void everyArchitectureLoadsBackBitForBit() throws IOException {
        int k = 0;
        for (Function<ReferenceBackend, Model> make : models().toList()) {
            Path file = dir.resolve("m" + k++ + ".safetensors");
            try (ReferenceBackend b = new ReferenceBackend(); Model m = make.apply(b);
                 Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
                train(m, sgd, 3);
                m.save(file);
                float[] x = data(5 * m.inputSize(), 3);
                try (Model again = Model.load(file, b)) {
                    assertEquals(m.architecture(), again.architecture());
                    assertEquals(m.describe(), again.describe());
                    for (Parameter p : m.parameters()) {
                        assertArrayEquals(m.read(p), again.read(again.parameter(p.name())), p.name());
                    }
                    for (var buf : m.buffers()) {
                        assertArrayEquals(m.read(buf), again.read(again.buffer(buf.name())), buf.name());
                    }
                    assertArrayEquals(m.predictScores(x, 0, 5), again.predictScores(x, 0, 5), m.describe());
                }
            }
        }
    }

    @Test
    void tensorsHavePyTorchNamesAndLayouts() throws IOException {
        Path file = dir.resolve("mlp.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "bn")) {
            m.save(file);
            Map<String, SafeTensors.Entry> t = SafeTensors.read(file).tensors();
            Parameter w = m.parameter("dense1.weight"); // [12, 9] in the model
            assertArrayEquals(new int[] {9, 12}, t.get("dense1.weight").shape());
            float[] model = m.read(w);
            float[] saved = t.get("dense1.weight").data();
            for (int i = 0; i < 12; i++) {
                for (int o = 0; o < 9; o++) {
                    assertEquals(model[i * 9 + o], saved[o * 12 + i]);
                }
            }
            assertArrayEquals(new int[] {9}, t.get("dense1.bias").shape());
            assertArrayEquals(new int[] {9}, t.get("prelu1.weight").shape(), "nn.PReLU(9).weight");
            assertFalse(t.containsKey("dense1.slope"));
            assertArrayEquals(new int[] {24, 9}, t.get("dense2.weight").shape(), "maxout: 8 units x 3 pieces");
            assertArrayEquals(new int[] {9}, t.get("bn1.running_var").shape());
            assertArrayEquals(new int[] {}, t.get("bn1.num_batches_tracked").shape());
            assertEquals(SafeTensors.DType.I64, t.get("bn1.num_batches_tracked").dtype());
            Map<String, String> meta = SafeTensors.read(file).metadata();
            assertEquals("pt", meta.get("format"));
            assertEquals(ModelFile.FORMAT, meta.get(ModelFile.FORMAT_KEY));
        }
    }

    @Test
    void optimizerStateResumesTrainingExactly() throws IOException {
        for (boolean adam : new boolean[] {false, true}) {
            Path file = dir.resolve("resume-" + adam + ".safetensors");
            float[] straight;
            try (ReferenceBackend b = new ReferenceBackend(); Model m = cnn(b); Optimizer opt = optimizer(adam)) {
                train(m, opt, 3);
                ModelFile.save(m, opt, file, Map.of(ModelFile.INPUT_SCALE, "0.00392156862745098"));
                train(m, opt, 3);
                straight = m.read(m.parameter("hidden.weight"));
            }
            try (ReferenceBackend b = new ReferenceBackend(); Optimizer opt = optimizer(adam)) {
                ModelFile f = ModelFile.read(file);
                assertTrue(f.hasOptimizerState());
                assertEquals(1 / 255.0, f.inputScale().orElseThrow(), 1e-15);
                assertTrue(f.inputOffset().isEmpty());
                try (Model m = f.model(b)) {
                    f.loadOptimizer(m, opt);
                    train(m, opt, 3);
                    assertArrayEquals(straight, m.read(m.parameter("hidden.weight")),
                            "3 steps, save, 3 more = 3 steps, load, 3 more (dropout stream and optimizer state)");
                }
            }
        }
    }

    private static Optimizer optimizer(boolean adam) {
        return adam ? Adam.adamW().learningRate(1e-2).weightDecay(0.01).clipNorm(1).build()
                : Sgd.builder().learningRate(0.05).momentum(0.9).nesterov(true).build();
    }

    @Test
    void anotherOptimizerOrNoneIsAClearError() throws IOException {
        Path file = dir.resolve("sgd.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "");
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build();
             Optimizer adam = optimizer(true)) {
            train(m, sgd, 1);
            ModelFile.save(m, sgd, file);
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelFile.read(file).loadOptimizer(m, adam));
            assertEquals(file + ": holds the state of a Sgd optimizer, not of a AdamW", e.getMessage());
            m.save(file);
            assertThrows(ModelFormatException.class, () -> ModelFile.read(file).loadOptimizer(m, sgd));
        }
    }

    /**
     * Adam and AdamW are one class with two update rules: their state must not pass for each other's (before, both
     * were saved as "Adam", and an AdamW file loaded into Adam without a word). A file written before the kind was
     * recorded still loads by its class.
     */
    @Test
    void adamAndAdamWAreToldApart() throws IOException {
        Path file = dir.resolve("adamw.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "");
             Adam adamW = Adam.adamW().learningRate(1e-2).build(); Adam adam = Adam.builder().learningRate(1e-2).build();
             Adam adamW2 = Adam.adamW().learningRate(1e-2).build()) {
            train(m, adamW, 2);
            ModelFile.save(m, adamW, file);
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelFile.read(file).loadOptimizer(m, adam));
            assertEquals(file + ": holds the state of a AdamW optimizer, not of a Adam", e.getMessage());
            assertTrue(adam.state(m.executor()).isEmpty(), "nothing loaded");
            ModelFile.read(file).loadOptimizer(m, adamW2);
            assertEquals(adamW.steps(), adamW2.steps());

            ModelFile.save(m, adam, file); // Adam's (no state yet) into AdamW: refused too
            assertThrows(ModelFormatException.class, () -> ModelFile.read(file).loadOptimizer(m, adamW2));

            ModelFile.save(m, adamW, file); // as a file of before: the class alone, which both share
            SafeTensors.Contents c = SafeTensors.decode(file, java.nio.file.Files.readAllBytes(file));
            Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
            meta.put(ModelFile.OPTIMIZER_KEY, meta.get(ModelFile.OPTIMIZER_KEY).replace(",\"kind\":\"AdamW\"", ""));
            assertFalse(meta.get(ModelFile.OPTIMIZER_KEY).contains("kind"), meta.get(ModelFile.OPTIMIZER_KEY));
            SafeTensors.write(file, c.tensors(), meta);
            try (Adam legacy = Adam.adamW().learningRate(1e-2).build()) {
                ModelFile.read(file).loadOptimizer(m, legacy);
                assertEquals(adamW.steps(), legacy.steps());
            }
        }
    }

    /** A saved learning rate or forward count that no optimizer could have had is refused, and nothing is loaded. */
    @Test
    void anImpossibleLearningRateOrForwardCountIsRefused() throws IOException {
        Path file = dir.resolve("sgd.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "");
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
            train(m, sgd, 1);
            ModelFile.save(m, sgd, file);
            SafeTensors.Contents c = SafeTensors.decode(file, Files.readAllBytes(file));
            String[][] bad = {{"\"learning_rate\":-0.5", "optimizer learning_rate -0.5 is not a finite number >= 0"},
                {"\"learning_rate\":1e309", "optimizer learning_rate 1E+309 is not a finite number >= 0"},
                {"\"learning_rate\":\"fast\"", "optimizer learning_rate \"fast\" is not a finite number >= 0"},
                {"\"forward_count\":-3", "optimizer forward_count -3 is not an integer >= 0"},
                {"\"forward_count\":1.5", "optimizer forward_count 1.5 is not an integer >= 0"}};
            for (String[] k : bad) {
                String key = k[0].substring(1, k[0].indexOf('"', 1));
                Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
                meta.put(ModelFile.OPTIMIZER_KEY, meta.get(ModelFile.OPTIMIZER_KEY)
                        .replaceFirst("\"" + key + "\":[^,}]*", java.util.regex.Matcher.quoteReplacement(k[0])));
                SafeTensors.write(file, c.tensors(), meta);
                float[] before = sgd.state(m.executor()).get("dense1.weight.momentum_buffer");
                assertTrue(before != null && before.length > 0);
                ModelFormatException e = assertThrows(ModelFormatException.class,
                        () -> ModelFile.read(file).loadOptimizer(m, sgd), k[0]);
                assertEquals(file + ": " + k[1], e.getMessage());
                assertEquals(0.05f, sgd.learningRate());
                assertArrayEquals(before, sgd.state(m.executor()).get("dense1.weight.momentum_buffer"));
            }
        }
    }

    /**
     * Before: a learning rate finite as a double but not as a float (1e39) passed the check, the state was loaded,
     * and only then did setting the rate fail, as "optimizer state does not fit": half the optimizer restored.
     */
    @Test
    void aLearningRateBeyondAFloatIsRefusedBeforeAnythingIsLoaded() throws IOException {
        Path file = dir.resolve("sgd.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "");
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build();
             Sgd fresh = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
            train(m, sgd, 1);
            ModelFile.save(m, sgd, file);
            SafeTensors.Contents c = SafeTensors.decode(file, Files.readAllBytes(file));
            Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
            meta.put(ModelFile.OPTIMIZER_KEY, meta.get(ModelFile.OPTIMIZER_KEY)
                    .replaceFirst("\"learning_rate\":[^,}]*", "\"learning_rate\":1e39"));
            SafeTensors.write(file, c.tensors(), meta);
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelFile.read(file).loadOptimizer(m, fresh));
            assertEquals(file + ": optimizer learning_rate 1.0E39 is beyond a float's range", e.getMessage());
            assertTrue(fresh.state(m.executor()).isEmpty(), "the momentum buffers were loaded");
            assertEquals(0.05f, fresh.learningRate());
        }
    }

    @Test
    void weightsLoadIntoAModelOfTheUsersOwnModules() throws IOException {
        Module custom = new Module() {
            private final Module inner = Modules.dense("inner", 4, 3, Initializer.heNormal());

            @Override
            public Node forward(Node x) {
                return inner.forward(x);
            }

            @Override
            public List<Parameter> parameters() {
                return inner.parameters();
            }

            @Override
            public String describe() {
                return "mine";
            }
        };
        Path file = dir.resolve("custom.safetensors");
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Model.of(Sequential.of(custom, Modules.activation("relu")), Shape.of(4),
                     LossKind.SOFTMAX_CROSS_ENTROPY, b, 1)) {
            m.save(file);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Model.load(file, b));
            assertTrue(e.getMessage().startsWith(file + ": its architecture cannot be built: a module of the user's own "
                    + "(mine) cannot be built from its spec"), e.getMessage());
            try (Model same = Model.of(Sequential.of(Modules.dense("inner", 4, 3, Initializer.zeros()),
                    Modules.activation("relu")), Shape.of(4), LossKind.SOFTMAX_CROSS_ENTROPY, b, 2)) {
                ModelFile.loadWeights(same, file);
                assertArrayEquals(m.read(m.parameter("inner.weight")), same.read(same.parameter("inner.weight")));
            }
        }
    }

    @Test
    void mismatchesNameTheTensor() throws IOException {
        Path file = dir.resolve("small.safetensors");
        try (ReferenceBackend b = new ReferenceBackend();
             Model small = Sequential.builder(4).hidden(3, "relu").output(2, LossKind.MSE).build(b);
             Model wider = Sequential.builder(4).hidden(5, "relu").output(2, LossKind.MSE).build(b);
             Model deeper = Sequential.builder(4).hidden(3, "relu").hidden(3, "relu").output(2, LossKind.MSE).build(b)) {
            small.save(file);
            float[] before = wider.read(wider.parameter("dense1.weight"));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.loadWeights(wider, file));
            assertEquals(file + ": tensor 'dense1.weight' has shape [3, 4], the model needs [5, 4]", e.getMessage());
            assertArrayEquals(before, wider.read(wider.parameter("dense1.weight")), "nothing written");
            e = assertThrows(ModelFormatException.class, () -> ModelFile.loadWeights(deeper, file));
            assertTrue(e.getMessage().startsWith(file + ": tensor 'dense2.weight' has shape [2, 3], the model needs [3, 3]")
                    || e.getMessage().startsWith(file + ": has no tensor 'dense3"), e.getMessage());
            deeper.save(file);
            e = assertThrows(ModelFormatException.class, () -> ModelFile.loadWeights(small, file));
            assertTrue(e.getMessage().contains("tensor 'dense2.weight' has shape [3, 3]"), e.getMessage());
        }
    }

    @Test
    void nonFiniteWeightsInAFileAreReported() throws IOException {
        Path file = dir.resolve("nan.safetensors");
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Sequential.builder(4).hidden(3, "relu").output(2, LossKind.MSE).build(b)) {
            m.save(file);
            Map<String, SafeTensors.Entry> t = new java.util.LinkedHashMap<>(SafeTensors.read(file).tensors());
            float[] w = t.get("dense2.weight").data().clone();
            w[4] = Float.NaN;
            t.put("dense2.weight", new SafeTensors.Entry(t.get("dense2.weight").shape(), w));
            SafeTensors.write(file, t, SafeTensors.read(file).metadata());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Model.load(file, b));
            assertEquals(file + ": tensor 'dense2.weight' holds NaN at index 4; weights must be finite", e.getMessage());
        }
    }

    @Test
    void aFailedSaveLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("kept.safetensors");
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b, "")) {
            m.save(file);
            byte[] before = Files.readAllBytes(file);
            assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.save(m, null, file, Map.of("jacobian.architecture", "{}")));
            Path blocked = dir.resolve("dir.safetensors");
            Files.createDirectory(blocked);
            Files.createFile(blocked.resolve("x"));
            assertThrows(IOException.class, () -> m.save(blocked));
            assertArrayEquals(before, Files.readAllBytes(file));
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(), files.filter(p -> p.toString().endsWith(AtomicFiles.TEMP_SUFFIX)).toList());
            }
        }
    }

    /**
     * Before: a null metadata value was written as JSON {@code null}, which the reader (rightly) refuses: a file
     * written without complaint that could never be read back.
     */
    @Test
    void metadataTheReaderWouldRefuseIsNotWritten() {
        Path file = dir.resolve("null-metadata.safetensors");
        Map<String, String> meta = new java.util.HashMap<>();
        meta.put("note", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(file, Map.of(), meta));
        assertEquals("metadata 'note' has a null value; metadata values are strings", e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void aHostileArchitectureIsRefusedBeforeAnythingIsBuilt() throws IOException {
        Path file = dir.resolve("hostile.safetensors");
        String huge = "{\"type\":\"mlp\",\"options\":{\"input\":2000000000,\"hidden\":[{\"units\":2000000000,"
                + "\"activation\":\"relu\"}],\"outputs\":10,\"loss\":\"MSE\",\"init\":\"HE\",\"seed\":1,\"l2\":0.0,"
                + "\"leaky_slope\":0.01,\"elu_alpha\":1.0,\"maxout_pieces\":2,\"dropout\":0.0,\"norm\":\"\"},\"children\":[]}";
        SafeTensors.write(file, Map.of("w", new SafeTensors.Entry(new int[] {2}, new float[2])),
                Map.of(ModelFile.ARCHITECTURE_KEY, huge));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.read(file));
        assertEquals(file + ": its architecture needs 4000000022000000010 parameter values but the file holds 2",
                e.getMessage());
        String overflow = huge.replace("\"relu\"}]", "\"maxout\"}]").replace("\"maxout_pieces\":2",
                "\"maxout_pieces\":2000000000");
        SafeTensors.write(file, Map.of(), Map.of(ModelFile.ARCHITECTURE_KEY, overflow));
        e = assertThrows(ModelFormatException.class, () -> ModelFile.read(file));
        assertEquals(file + ": its architecture is not valid: long overflow", e.getMessage());
        for (String bad : new String[] {"[]", "{\"type\":\"mlp\"}", "{\"type\":\"rnn\",\"options\":{},\"children\":[]}",
                "{\"type\":\"model\",\"options\":{\"sample_shape\":[-1],\"loss\":\"MSE\",\"seed\":1},\"children\":[]}",
                "{\"type\":\"x\",\"options\":{},\"children\":[],\"type\":\"y\"}", "[".repeat(10_000)}) {
            SafeTensors.write(file, Map.of(), Map.of(ModelFile.ARCHITECTURE_KEY, bad));
            try (ReferenceBackend b = new ReferenceBackend()) {
                ModelFormatException r = assertThrows(ModelFormatException.class, () -> Model.load(file, b), bad);
                assertTrue(r.getMessage().startsWith(file + ": its architecture "), r.getMessage());
                assertFalse(r.getMessage().contains("\n"));
            }
        }
        SafeTensors.write(file, Map.of(), Map.of(ModelFile.FORMAT_KEY, "2"));
        e = assertThrows(ModelFormatException.class, () -> ModelFile.read(file));
        assertEquals(file + ": is model format version '2'; this Jacobian reads 1", e.getMessage());
    }

    /** The independent numpy reader (core/src/test/python/read_model.py) computes the same logits from the file. */
    @Test
    void anIndependentNumpyReaderReproducesTheLogits() throws Exception {
        String python = PythonNumpy.find();
        if (python == null) {
            PythonNumpy.skipOrFail("read_model.py");
            return;
        }
        int k = 0;
        for (Function<ReferenceBackend, Model> make : models().toList()) {
            Path file = dir.resolve("outside" + k++ + ".safetensors");
            try (ReferenceBackend b = new ReferenceBackend(); Model m = make.apply(b);
                 Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
                train(m, sgd, 3);
                m.save(file);
                int rows = 6;
                float[] x = data(rows * m.inputSize(), 42);
                float[] want = m.predictScores(x, 0, rows);
                float[] got = PythonNumpy.run(python, "read_model.py", file, x, rows, dir);
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], OUTSIDE_READER_TOLERANCE * Math.max(1, Math.abs(want[i])),
                            m.describe() + " logit " + i);
                }
            }
        }
    }
}
