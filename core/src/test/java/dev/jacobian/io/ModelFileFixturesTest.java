package dev.jacobian.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Model files written by an earlier Jacobian keep loading: {@code src/test/resources/models} holds an MLP (every
 * builder option, batch norm, SGD state) and a CNN of modules, each with a batch of inputs and the logits Jacobian
 * computed for it when the file was written. {@code core/src/test/python/jacobian_torch.py} checks the same files
 * with PyTorch ({@code load_state_dict(strict=True)} into the equivalent {@code nn.Sequential}, same logits).
 * {@code -Djacobian.fixtures.write=true} writes them again (only when the format changes on purpose).
 */
class ModelFileFixturesTest {
    /** Relative tolerance on the logits: kernels may change the rounding, never the meaning. */
    static final double FIXTURE_TOLERANCE = 1e-5;
    static final Path DIR = Path.of("src/test/resources/models");
    static final int ROWS = 4;

    static final Map<String, Function<ReferenceBackend, Model>> MODELS =
            Map.of("mlp", b -> ModelFileTest.mlp(b, "bn"), "cnn", ModelFileTest::cnn);

    @Test
    void fixturesLoadAndComputeTheirLogits() throws IOException {
        if (Boolean.getBoolean("jacobian.fixtures.write")) {
            write();
        }
        for (String name : MODELS.keySet()) {
            try (ReferenceBackend b = new ReferenceBackend()) {
                ModelFile file = ModelFile.read(DIR.resolve(name + ".safetensors"));
                assertEquals(name.equals("mlp"), file.hasOptimizerState());
                try (Model m = file.model(b)) {
                    float[] x = floats(DIR.resolve(name + ".input.f32"));
                    float[] want = floats(DIR.resolve(name + ".logits.f32"));
                    float[] got = m.predictScores(x, 0, ROWS);
                    assertEquals(want.length, got.length);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], FIXTURE_TOLERANCE * Math.max(1, Math.abs(want[i])), name + " " + i);
                    }
                    if (name.equals("mlp")) {
                        try (Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
                            file.loadOptimizer(m, sgd);
                            assertEquals(3, m.executor().forwardCount());
                        }
                    }
                }
            }
        }
    }

    private static void write() throws IOException {
        Files.createDirectories(DIR);
        for (Map.Entry<String, Function<ReferenceBackend, Model>> e : MODELS.entrySet()) {
            try (ReferenceBackend b = new ReferenceBackend(); Model m = e.getValue().apply(b);
                 Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
                ModelFileTest.train(m, sgd, 3);
                ModelFile.save(m, e.getKey().equals("mlp") ? sgd : null, DIR.resolve(e.getKey() + ".safetensors"));
                float[] x = ModelFileTest.data(ROWS * m.inputSize(), 77);
                write(DIR.resolve(e.getKey() + ".input.f32"), x);
                write(DIR.resolve(e.getKey() + ".logits.f32"), m.predictScores(x, 0, ROWS));
            }
        }
        assertTrue(Files.exists(DIR.resolve("mlp.safetensors")));
    }

    private static void write(Path p, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(p, b.array());
    }

    private static float[] floats(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }
}
