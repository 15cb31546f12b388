package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.BackendStats;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The host's budget for one training step of the 784-256-128-10 MLP at batch 128 (SGD with momentum and clipping)
 * on OpenCL, counted by {@link BackendStats} (every {@code clEnqueueNDRangeKernel}, {@code clSetKernelArg} and host
 * call that waited for the device): at most 14 kernel launches (0.1 made 37), at most launches + 4 argument sets
 * (0.1 set 320), one blocking call when each step's numbers are read ({@code Trainer.step}), none in steady state
 * when they are read every eighth step ({@code Trainer.submit}), and no device allocation after the first steps.
 * A regression in any of them fails CI, which runs this on PoCL.
 */
class ClStepBudgetTest extends OpenClTestBase {
    private static final int BATCH = 128;
    private static final int STEPS = 16;

    private record Budget(double launches, double argumentSets, double blockingCalls, long allocations) {
    }

    private Budget measure(boolean deferred, List<StepResult> results) {
        Model model = Sequential.builder(784).hidden(256, "relu").hidden(128, "relu")
                .output(10, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(42).build(cl);
        try (model; Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build();
             Trainer trainer = new Trainer(model, sgd)) {
            SplittableRandom r = new SplittableRandom(7);
            int batches = 4;
            float[] x = new float[batches * BATCH * 784];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble();
            }
            int[] labels = new int[batches * BATCH];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = r.nextInt(10);
            }
            float[] targets = model.encodeTargets(labels);
            for (int i = 0; i < 3; i++) { // the first steps build programs, bind kernels and allocate
                trainer.step(x, targets, (i % batches) * BATCH, BATCH);
            }
            BackendStats s = cl.stats();
            long launches = s.launches();
            long argumentSets = s.argumentSets();
            long blocking = s.blockingCalls();
            long allocations = s.allocations();
            List<Trainer.PendingStep> pending = new ArrayList<>();
            for (int i = 0; i < STEPS; i++) {
                int first = (i % batches) * BATCH;
                if (deferred) {
                    pending.add(trainer.submit(x, targets, first, BATCH));
                    if (pending.size() == 8) { // read the numbers every eighth step, one step behind
                        Trainer.PendingStep last = pending.remove(pending.size() - 1);
                        pending.get(pending.size() - 1).result(); // the newest read: the older ones are in by then
                        for (Trainer.PendingStep p : pending) {
                            results.add(p.result());
                        }
                        pending.clear();
                        pending.add(last);
                    }
                } else {
                    results.add(trainer.step(x, targets, first, BATCH));
                }
            }
            Budget b = new Budget((s.launches() - launches) / (double) STEPS,
                    (s.argumentSets() - argumentSets) / (double) STEPS, (s.blockingCalls() - blocking) / (double) STEPS,
                    s.allocations() - allocations);
            for (Trainer.PendingStep p : pending) {
                results.add(p.result());
            }
            return b;
        }
    }

    @Test
    void aStepLaunchesAtMostFourteenKernelsSetsFewArgumentsAndWaitsOnce() {
        Budget b = measure(false, new ArrayList<>());
        assertTrue(b.launches() <= 14, "launches per step: " + b.launches());
        assertTrue(b.argumentSets() <= b.launches() + 4, "clSetKernelArg per step: " + b.argumentSets());
        assertEquals(1.0, b.blockingCalls(), "blocking host calls per step (the read of the loss and norm)");
        assertEquals(0, b.allocations(), "device allocations after the first steps");
    }

    @Test
    void submittedStepsReadEveryEighthStepNeverWaitAndReportWhatStepReports() {
        List<StepResult> synchronous = new ArrayList<>();
        measure(false, synchronous);
        List<StepResult> deferred = new ArrayList<>();
        Budget b = measure(true, deferred);
        // at most one wait per read of seven steps (the newest of them), none for the steps in between
        assertTrue(b.blockingCalls() <= 1.0 / 8, "blocking host calls per step: " + b.blockingCalls());
        assertTrue(b.launches() <= 14, "launches per step: " + b.launches());
        assertEquals(0, b.allocations(), "device allocations after the first steps");
        assertEquals(synchronous.size(), deferred.size());
        for (int i = 0; i < synchronous.size(); i++) {
            assertEquals(synchronous.get(i).loss(), deferred.get(i).loss(), "step " + (i + 4) + " loss");
            assertEquals(synchronous.get(i).gradNorm(), deferred.get(i).gradNorm(), "step " + (i + 4) + " norm");
        }
    }
}
