package dev.jacobian.optim.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.metrics.MetricMode;
import dev.jacobian.optim.Sgd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The schedules against the learning rates PyTorch 1.13's {@code torch.optim.lr_scheduler} gives for the same
 * settings ({@code core/src/test/python/golden_schedules.py} wrote {@code golden/schedules.txt}), and their
 * state, resume and bad arguments.
 */
class LrScheduleGoldenTest {
    /** Relative tolerance of a rate against PyTorch's (double arithmetic in both; PyTorch's is partly recursive). */
    static final double SCHEDULE_RTOL = 1e-12;
    /** Absolute tolerance near 0 (a cosine ending at 0). */
    static final double SCHEDULE_ATOL = 1e-15;
    /** Relative tolerance of the rate the optimizer holds (a float). */
    static final double FLOAT_RTOL = 1e-7;
    static final double BASE_LR = 0.1;

    private record Golden(Map<String, Double> params, double[] values) {
    }

    private static Map<String, Golden> golden() {
        Map<String, Golden> m = new LinkedHashMap<>();
        try (var in = LrScheduleGoldenTest.class.getResourceAsStream("/golden/schedules.txt")) {
            if (in == null) {
                throw new IllegalStateException("golden/schedules.txt is missing from the test resources");
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\|", -1);
                Map<String, Double> params = new HashMap<>();
                for (String kv : f[1].split(";")) {
                    if (!kv.isEmpty()) {
                        String[] p = kv.split("=");
                        params.put(p[0], switch (p[0]) {
                            case "mode" -> p[1].equals("min") ? 0.0 : 1.0;
                            case "threshold_mode" -> p[1].equals("rel") ? 0.0 : 1.0;
                            default -> Double.parseDouble(p[1]);
                        });
                    }
                }
                String[] v = f[2].split(",");
                double[] values = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    values[i] = Double.parseDouble(v[i]);
                }
                m.put(f[0], new Golden(params, values));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** The optimizer holds a float: the schedulers are given the base rate as a double, as PyTorch's. */
    private static Sgd sgd() {
        return Sgd.builder().learningRate(BASE_LR).build();
    }

    private static LrSchedule schedule(String name, Map<String, Double> p) {
        LrSchedule s = switch (name.replace("warmup_", "")) {
            case "constant" -> LrSchedule.constant();
            case "step" -> LrSchedule.step(p.get("step_size").longValue(), p.get("gamma"));
            case "exponential" -> LrSchedule.exponential(p.get("gamma"));
            case "cosine", "cosine_to_zero" -> LrSchedule.cosine(p.get("T_max").longValue(), p.get("eta_min"));
            default -> throw new IllegalArgumentException("no schedule for golden record " + name);
        };
        return name.startsWith("warmup_") ? s.withWarmup(p.get("warmup").longValue(), p.get("start_factor")) : s;
    }

    private static void assertRates(String name, double[] expected, double actual, float onOptimizer, int epoch) {
        assertEquals(expected[epoch], actual, SCHEDULE_ATOL + SCHEDULE_RTOL * expected[epoch], name + " epoch " + epoch);
        assertEquals((float) expected[epoch], onOptimizer, FLOAT_RTOL * expected[epoch], name + " epoch " + epoch + " on the optimizer");
    }

    @Test
    void closedFormSchedulesMatchPyTorch() {
        int cases = 0;
        for (var e : golden().entrySet()) {
            String name = e.getKey();
            if (name.startsWith("plateau")) {
                continue;
            }
            cases++;
            try (Sgd sgd = sgd()) {
                LrScheduler s = new ClosedFormScheduler(sgd, schedule(name, e.getValue().params()), BASE_LR);
                double[] expected = e.getValue().values();
                for (int epoch = 0; epoch < expected.length; epoch++) {
                    assertEquals(epoch, s.lastEpoch());
                    assertRates(name, expected, s.learningRate(), sgd.learningRate(), epoch);
                    s.step();
                }
            }
        }
        assertEquals(7, cases, "every closed-form golden record was checked");
    }

    @Test
    void reduceOnPlateauMatchesPyTorch() {
        Map<String, Golden> gold = golden();
        for (String name : new String[] {"plateau_min", "plateau_max", "plateau_abs"}) {
            Map<String, Double> p = gold.get(name).params();
            double[] expected = gold.get(name).values();
            double[] metrics = gold.get(name + ".metrics").values();
            try (Sgd sgd = sgd()) {
                ReduceLrOnPlateau.Builder b = ReduceLrOnPlateau.builder(sgd).baseLr(BASE_LR)
                        .mode(p.get("mode") == 0.0 ? MetricMode.MIN : MetricMode.MAX).factor(p.get("factor"))
                        .patience(p.get("patience").intValue()).cooldown(p.get("cooldown").intValue())
                        .minLr(p.get("min_lr"));
                ReduceLrOnPlateau s = p.getOrDefault("threshold_mode", 0.0) == 0.0 ? b.threshold(p.get("threshold")).build()
                        : b.absoluteThreshold(p.get("threshold")).build();
                for (int epoch = 0; epoch < expected.length; epoch++) {
                    assertRates(name, expected, s.learningRate(), sgd.learningRate(), epoch);
                    s.step(metrics[epoch]);
                }
            }
        }
    }

    @Test
    void stateRestoresTheScheduleMidway() {
        Map<String, Golden> gold = golden();
        Golden g = gold.get("warmup_cosine");
        try (Sgd a = sgd(); Sgd b = sgd()) {
            LrScheduler first = new ClosedFormScheduler(a, schedule("warmup_cosine", g.params()), BASE_LR);
            for (int i = 0; i < 5; i++) {
                first.step();
            }
            LrScheduler resumed = new ClosedFormScheduler(b, schedule("warmup_cosine", g.params()), BASE_LR);
            resumed.loadState(first.state());
            assertEquals(5, resumed.lastEpoch());
            assertRates("resumed warmup_cosine", g.values(), resumed.learningRate(), b.learningRate(), 5);
        }
        Golden pg = gold.get("plateau_min");
        double[] metrics = gold.get("plateau_min.metrics").values();
        try (Sgd a = sgd(); Sgd b = sgd()) {
            ReduceLrOnPlateau first = plateauMin(a, pg.params());
            for (int i = 0; i < 6; i++) {
                first.step(metrics[i]);
            }
            ReduceLrOnPlateau resumed = plateauMin(b, pg.params());
            resumed.loadState(first.state());
            assertEquals(first.state(), resumed.state());
            for (int epoch = 6; epoch < metrics.length; epoch++) {
                assertRates("resumed plateau_min", pg.values(), resumed.learningRate(), b.learningRate(), epoch);
                resumed.step(metrics[epoch]);
            }
        }
    }

    private static ReduceLrOnPlateau plateauMin(Sgd sgd, Map<String, Double> p) {
        return ReduceLrOnPlateau.builder(sgd).baseLr(BASE_LR).factor(p.get("factor")).patience(p.get("patience").intValue())
                .threshold(p.get("threshold")).cooldown(p.get("cooldown").intValue()).minLr(p.get("min_lr")).build();
    }

    /** A cosine to {@code eta_min = 0} reaches exactly 0 at {@code T_max}, which the optimizer accepts. */
    @Test
    void cosineReachesZeroAndTheOptimizerAcceptsIt() {
        try (Sgd sgd = sgd()) {
            LrScheduler s = new ClosedFormScheduler(sgd, LrSchedule.cosine(4, 0));
            for (int i = 0; i < 4; i++) {
                s.step();
            }
            assertEquals(0.0, s.learningRate());
            assertEquals(0f, sgd.learningRate());
        }
    }

    @Test
    void badArgumentsNameTheParameterAndValue() {
        assertMessage(() -> LrSchedule.step(0, 0.5), "stepSize", "0");
        assertMessage(() -> LrSchedule.step(2, -1), "gamma", "-1");
        assertMessage(() -> LrSchedule.exponential(Double.NaN), "gamma", "NaN");
        assertMessage(() -> LrSchedule.cosine(0, 0), "tMax", "0");
        assertMessage(() -> LrSchedule.cosine(5, -0.1), "etaMin", "-0.1");
        assertMessage(() -> LrSchedule.constant().withWarmup(0, 0.1), "warmup", "0");
        assertMessage(() -> LrSchedule.constant().withWarmup(3, 0), "startFactor", "0");
        try (Sgd sgd = sgd()) {
            assertMessage(() -> ReduceLrOnPlateau.builder(sgd).factor(1).build(), "factor", "1");
            assertMessage(() -> ReduceLrOnPlateau.builder(sgd).patience(-1).build(), "patience", "-1");
            assertMessage(() -> ReduceLrOnPlateau.builder(sgd).threshold(-1).build(), "threshold", "-1");
            assertMessage(() -> ReduceLrOnPlateau.builder(sgd).cooldown(-2).build(), "cooldown", "-2");
            assertMessage(() -> ReduceLrOnPlateau.builder(sgd).minLr(-1).build(), "minLr", "-1");
            assertMessage(() -> new ClosedFormScheduler(sgd, LrSchedule.constant(), 0), "baseLr", "0");
            assertMessage(() -> sgd.setLearningRate(-1f), "learning rate", "-1");
            ReduceLrOnPlateau p = ReduceLrOnPlateau.builder(sgd).build();
            assertTrue(p.needsMetric());
            assertThrows(IllegalStateException.class, p::step);
            assertMessage(() -> p.loadState(Map.of("bogus", 1.0)), "bogus", "");
            LrScheduler c = new ClosedFormScheduler(sgd, LrSchedule.constant());
            assertFalse(c.needsMetric());
            assertMessage(() -> c.loadState(Map.of(LrScheduler.LAST_EPOCH, -1.0)), LrScheduler.LAST_EPOCH, "-1");
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String name, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains(value), e.getMessage());
    }
}
