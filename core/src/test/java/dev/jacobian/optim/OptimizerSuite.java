package dev.jacobian.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.check.Golden;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Parameter;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Modules;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.schedule.ClosedFormScheduler;
import dev.jacobian.optim.schedule.LrSchedule;
import dev.jacobian.tensor.Shape;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every optimizer on the backend under test: five steps of each against {@code torch.optim} (golden values from
 * {@code core/src/test/python/golden_optimizers.py}), with and without clipping by norm and by value, and under
 * {@code torch.optim.lr_scheduler} schedules stepped every step; state saved
 * and restored mid-run continues exactly; a step is at most a few launches and allocates nothing; bad
 * hyper-parameters are named. Each backend extends it.
 */
public abstract class OptimizerSuite {
    /** Relative tolerance of parameters and losses after five steps against PyTorch's float32 run. */
    public static final double TORCH_RTOL = 1e-4;
    /** Absolute tolerance of the same, for values near zero. */
    public static final double TORCH_ATOL = 2e-5;

    /** A new backend for each test (the suite closes it). */
    protected abstract Backend createBackend();

    /** The most kernel launches an optimizer step may take (norm in at most two stages, one fused update). */
    protected int maxOptimizerLaunches() {
        return 3;
    }

    /** The optimizers of the golden script, by its names, with the clipping of its cases. */
    static Optimizer optimizer(String name, double clipNorm, double clipValue) {
        return switch (name) {
            case "sgd" -> Sgd.builder().learningRate(0.1).clipNorm(clipNorm).clipValue(clipValue).build();
            case "sgd_nesterov_wd" -> Sgd.builder().learningRate(0.1).momentum(0.9).nesterov(true).weightDecay(0.01)
                    .clipNorm(clipNorm).clipValue(clipValue).build();
            case "adam" -> Adam.builder().learningRate(0.01).clipNorm(clipNorm).clipValue(clipValue).build();
            case "adam_wd" -> Adam.builder().learningRate(0.01).betas(0.8, 0.99).eps(1e-6).weightDecay(0.05)
                    .clipNorm(clipNorm).clipValue(clipValue).build();
            case "adamw" -> Adam.adamW().learningRate(0.01).weightDecay(0.1).clipNorm(clipNorm).clipValue(clipValue)
                    .build();
            case "rmsprop" -> RmsProp.builder().learningRate(0.01).clipNorm(clipNorm).clipValue(clipValue).build();
            case "rmsprop_momentum_wd" -> RmsProp.builder().learningRate(0.005).alpha(0.9).momentum(0.9)
                    .weightDecay(0.01).clipNorm(clipNorm).clipValue(clipValue).build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Stream<Arguments> goldenCases() {
        List<Arguments> cases = new ArrayList<>();
        for (String o : List.of("sgd", "sgd_nesterov_wd", "adam", "adam_wd", "adamw", "rmsprop", "rmsprop_momentum_wd")) {
            for (String c : List.of("none", "norm", "value", "both")) {
                cases.add(Arguments.of(o, c));
            }
        }
        return cases.stream();
    }

    /** The golden script's 6-5-4 tanh MLP with its initial parameters. */
    private static Model goldenModel(Backend b, Map<String, float[]> golden) {
        Model model = Model.of(Sequential.of(Modules.dense("l1", 6, 5, Initializer.zeros(), "tanh"),
                        Modules.dense("l2", 5, 4, Initializer.zeros())), Shape.of(6), LossKind.SOFTMAX_CROSS_ENTROPY, b, 1);
        for (Parameter p : model.parameters()) {
            model.executor().value(p).upload(Golden.get(golden, "init." + p.name()));
        }
        return model;
    }

    private static int[] labels(Map<String, float[]> golden) {
        float[] y = Golden.get(golden, "y");
        int[] labels = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            labels[i] = (int) y[i];
        }
        return labels;
    }

    /** Five steps of each optimizer, with each clipping, give PyTorch's losses and parameters. */
    @ParameterizedTest(name = "{0}, clip {1}")
    @MethodSource("goldenCases")
    void optimizersMatchPyTorch(String name, String clip) {
        Map<String, float[]> golden = Golden.read("optimizers.txt");
        double clipNorm = clip.equals("norm") || clip.equals("both") ? 0.5 : 0;
        double clipValue = clip.equals("value") || clip.equals("both") ? 0.05 : 0;
        String tag = name + "." + clip;
        float[] x = Golden.get(golden, "x");
        try (Backend b = createBackend(); Model model = goldenModel(b, golden);
             Optimizer opt = optimizer(name, clipNorm, clipValue); Trainer t = new Trainer(model, opt)) {
            float[] targets = model.encodeTargets(labels(golden));
            float[] expectedLoss = Golden.get(golden, tag + ".loss");
            float[] loss = new float[expectedLoss.length];
            for (int s = 0; s < loss.length; s++) {
                loss[s] = t.step(x, targets, 0, 8).loss();
            }
            TensorAssert.assertClose(tag + " losses on " + b.name(), expectedLoss, loss, TORCH_RTOL, TORCH_ATOL);
            for (Parameter p : model.parameters()) {
                TensorAssert.assertClose(tag + " " + p.name() + " on " + b.name(), Golden.get(golden, tag + "." + p.name()),
                        model.executor().value(p).download(), TORCH_RTOL, TORCH_ATOL);
            }
        }
    }

    static Stream<Arguments> scheduledCases() {
        List<Arguments> cases = new ArrayList<>();
        for (String s : List.of("sgd_momentum.step_lr", "adam.cosine", "adamw.warmup_cosine", "rmsprop.exponential")) {
            for (String c : List.of("none", "norm")) {
                cases.add(Arguments.of(s, c));
            }
        }
        return cases.stream();
    }

    /** The golden script's optimizer and {@code torch.optim.lr_scheduler} of each scheduled case, stepped per step. */
    private static ClosedFormScheduler scheduled(String name, double clipNorm, List<Optimizer> made) {
        Optimizer opt = switch (name) {
            case "sgd_momentum.step_lr" -> Sgd.builder().learningRate(0.1).momentum(0.9).clipNorm(clipNorm).build();
            case "adam.cosine" -> Adam.builder().learningRate(0.01).clipNorm(clipNorm).build();
            case "adamw.warmup_cosine" -> Adam.adamW().learningRate(0.01).weightDecay(0.1).clipNorm(clipNorm).build();
            case "rmsprop.exponential" -> RmsProp.builder().learningRate(0.01).clipNorm(clipNorm).build();
            default -> throw new IllegalArgumentException(name);
        };
        made.add(opt);
        LrSchedule schedule = switch (name) {
            case "sgd_momentum.step_lr" -> LrSchedule.step(2, 0.5);
            case "adam.cosine" -> LrSchedule.cosine(5, 0.001);
            case "adamw.warmup_cosine" -> LrSchedule.cosine(3, 0).withWarmup(2, 0.1);
            default -> LrSchedule.exponential(0.8);
        };
        return new ClosedFormScheduler(opt, schedule, name.startsWith("sgd") ? 0.1 : 0.01);
    }

    /** Five steps of an optimizer under a learning-rate schedule stepped every step give PyTorch's trajectory. */
    @ParameterizedTest(name = "{0}, clip {1}")
    @MethodSource("scheduledCases")
    void scheduledOptimizersMatchPyTorch(String name, String clip) {
        Map<String, float[]> golden = Golden.read("optimizers.txt");
        String tag = name + "." + clip;
        float[] x = Golden.get(golden, "x");
        List<Optimizer> made = new ArrayList<>();
        try (Backend b = createBackend(); Model model = goldenModel(b, golden)) {
            ClosedFormScheduler scheduler = scheduled(name, clip.equals("norm") ? 0.5 : 0, made);
            try (Optimizer opt = made.get(0); Trainer t = new Trainer(model, opt)) {
                float[] targets = model.encodeTargets(labels(golden));
                float[] expectedLoss = Golden.get(golden, tag + ".loss");
                float[] loss = new float[expectedLoss.length];
                for (int s = 0; s < loss.length; s++) {
                    loss[s] = t.step(x, targets, 0, 8).loss();
                    scheduler.step();
                }
                TensorAssert.assertClose(tag + " losses on " + b.name(), expectedLoss, loss, TORCH_RTOL, TORCH_ATOL);
                for (Parameter p : model.parameters()) {
                    TensorAssert.assertClose(tag + " " + p.name() + " on " + b.name(),
                            Golden.get(golden, tag + "." + p.name()), model.executor().value(p).download(), TORCH_RTOL,
                            TORCH_ATOL);
                }
            }
        }
    }

    static Stream<String> adaptiveNames() {
        return Stream.of("adam_wd", "adamw", "rmsprop", "rmsprop_momentum_wd", "sgd_nesterov_wd");
    }

    /** Saving the state after 3 steps and loading it into a new optimizer continues exactly as one run of 6. */
    @ParameterizedTest
    @MethodSource("adaptiveNames")
    void stateRestoredMidRunContinuesExactly(String name) {
        Map<String, float[]> golden = Golden.read("optimizers.txt");
        float[] x = Golden.get(golden, "x");
        try (Backend b = createBackend(); Model straight = goldenModel(b, golden); Model resumed = goldenModel(b, golden);
             Optimizer one = optimizer(name, 0.5, 0); Optimizer first = optimizer(name, 0.5, 0);
             Optimizer second = optimizer(name, 0.5, 0);
             Trainer a = new Trainer(straight, one); Trainer c = new Trainer(resumed, first)) {
            float[] targets = straight.encodeTargets(labels(golden));
            for (int s = 0; s < 3; s++) {
                a.step(x, targets, 0, 8);
                c.step(x, targets, 0, 8);
            }
            Map<String, float[]> state = first.state(resumed.executor());
            assertTrue(state.size() >= straight.parameters().size(), "state of " + name + ": " + state.keySet());
            try (Trainer d = new Trainer(resumed, second)) {
                second.loadState(resumed.executor(), state);
                if (!(second instanceof Sgd)) {
                    assertEquals(3, second.steps(), "the step count (bias corrections) comes back with the state");
                }
                for (int s = 0; s < 3; s++) {
                    StepResult ra = a.step(x, targets, 0, 8);
                    StepResult rd = d.step(x, targets, 0, 8);
                    assertEquals(ra.loss(), rd.loss(), 0f, name + " step " + (4 + s));
                }
            }
            TensorAssert.assertClose(name + " parameters", straight.executor().parameterArena().download(),
                    resumed.executor().parameterArena().download(), 0, 0);
        }
    }

    /**
     * A step whose gradient is not finite changes nothing, and the trainer that reads the norm back tells the
     * optimizer, so Adam's next step is its first (bias corrections of t = 1), as PyTorch's would be.
     */
    @Test
    void aSkippedStepDoesNotCountForBiasCorrection() {
        Map<String, float[]> golden = Golden.read("optimizers.txt");
        float[] x = Golden.get(golden, "x");
        float[] poisoned = x.clone();
        poisoned[3] = Float.NaN;
        try (Backend b = createBackend(); Model skipped = goldenModel(b, golden); Model clean = goldenModel(b, golden);
             Optimizer one = optimizer("adam", 0, 0); Optimizer two = optimizer("adam", 0, 0);
             Trainer a = new Trainer(skipped, one); Trainer c = new Trainer(clean, two)) {
            float[] targets = skipped.encodeTargets(labels(golden));
            float[] before = skipped.executor().parameterArena().download();
            assertThrows(dev.jacobian.train.NonFiniteLossException.class, () -> a.step(poisoned, targets, 0, 8));
            assertEquals(0, one.steps(), "the skipped step is taken back");
            TensorAssert.assertClose("weights untouched", before, skipped.executor().parameterArena().download(), 0, 0);
            a.step(x, targets, 0, 8);
            c.step(x, targets, 0, 8);
            TensorAssert.assertClose("the first applied step is step 1", clean.executor().parameterArena().download(),
                    skipped.executor().parameterArena().download(), 0, 0);
        }
    }

    /** An Adam, AdamW or RMSprop step is one norm reduction and one fused update, and allocates nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"adam", "adamw", "rmsprop_momentum_wd"})
    void adaptiveStepIsAtMostThreeLaunches(String name) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[64 * 20];
        int[] y = new int[64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        // 20-256-128-3: 38,915 parameters, enough for the OpenCL norm to take its two-stage path
        try (Backend b = createBackend();
             Model mlp = Sequential.builder(20).hidden(256, "relu").hidden(128, "relu")
                     .output(3, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(1).build(b);
             Optimizer opt = optimizer(name, 1, 0); Trainer t = new Trainer(mlp, opt)) {
            float[] targets = mlp.encodeTargets(y);
            t.step(x, targets, 0, 32); // the first step allocates the optimizer state
            Executor exec = mlp.executor();
            exec.feed(mlp.input(), x, 32, 32);
            exec.feed(mlp.targets(), targets, 32, 32);
            exec.forward(mlp.loss(), 32);
            exec.backward();
            long launches = b.stats().launches();
            long allocations = b.stats().allocations();
            opt.step(exec);
            long used = b.stats().launches() - launches;
            assertTrue(used >= 1 && used <= maxOptimizerLaunches(), name + " step launched " + used + " kernels on "
                    + b.name());
            assertEquals(allocations, b.stats().allocations(), "the step allocated nothing");
        }
    }

    /** Out-of-range hyper-parameters are rejected when the optimizer is built, naming the parameter and value. */
    @Test
    void badHyperParametersAreNamed() {
        assertMessage("learning rate must be finite and >= 0: -0.1", () -> Adam.builder().learningRate(-0.1).build());
        assertMessage("beta1 must be in [0, 1): 1.0", () -> Adam.builder().betas(1.0, 0.999).build());
        assertMessage("beta2 must be in [0, 1): -0.5", () -> Adam.adamW().betas(0.9, -0.5).build());
        assertMessage("eps must be >= 0 and finite: NaN", () -> Adam.builder().eps(Double.NaN).build());
        assertMessage("weight decay must be >= 0 and finite: -1.0", () -> Adam.adamW().weightDecay(-1).build());
        assertMessage("alpha must be in [0, 1): 1.5", () -> RmsProp.builder().alpha(1.5).build());
        assertMessage("momentum must be in [0, 1): 1.0", () -> RmsProp.builder().momentum(1).build());
        assertMessage("learning rate must be finite and >= 0: -1.0", () -> RmsProp.builder().learningRate(-1).build());
        assertMessage("clipNorm must be >= 0 (0 disables): -1.0", () -> Adam.builder().clipNorm(-1).build());
        try (Adam adam = Adam.builder().build()) {
            assertMessage("learning rate must be finite and >= 0: Infinity",
                    () -> adam.setLearningRate(Float.POSITIVE_INFINITY));
        }
    }

    private static void assertMessage(String expected, Supplier<?> build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should say '" + expected + "'");
    }

    private static void assertMessage(String expected, Runnable call) {
        assertMessage(expected, () -> {
            call.run();
            return null;
        });
    }
}
