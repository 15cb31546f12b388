package dev.jacobian.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 13: data-parallel misuses are clear errors naming what was wrong. */
class ParallelMisuseTest {
    private static Model mlp(dev.jacobian.backend.Backend b) {
        return Sequential.builder(4).hidden(3, "relu").output(2, LossKind.SOFTMAX_CROSS_ENTROPY).build(b);
    }

    /** Before: NaN parameters (e.g. a cluster's average of a diverged worker) were uploaded into the leader silently. */
    @Test
    void nonFiniteLeaderParametersAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build()) {
            Leader leader = new Leader(m, sgd);
            float[] values = new float[leader.parameterCount()];
            leader.parameters(values);
            float[] before = values.clone();
            values[13] = Float.NaN; // the weights come first (dense1's 12 values, then dense2's): dense2.weight[1]
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> leader.setParameters(values));
            assertEquals("data parallel: parameter 'dense2.weight' [3, 2]: value 1 is NaN; a model's parameters must be"
                    + " finite", e.getMessage());
            float[] after = new float[leader.parameterCount()];
            leader.parameters(after);
            assertArrayEquals(before, after);
        }
    }

    /** Before: an IndexOutOfBoundsException "Range [1, 1 + 2) out of bounds for length 2" from the shard's check. */
    @Test
    void targetsTooShortAreAnIllegalArgument() {
        try (ReferenceBackend b = new ReferenceBackend(); Sgd sgd = Sgd.builder().build();
             DataParallel dp = DataParallel.create(List.of(b), 1, ParallelMisuseTest::mlp, sgd)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> dp.step(new float[8], new float[2], 1, 2));
            assertEquals("targets: rows [1, 3) of 1 value each do not fit in an array of 2", e.getMessage());
        }
    }

    /** Before: one-hot rows given to a class-index loss trained on wrong labels silently, as in Trainer.step. */
    @Test
    void targetsOfAnotherLayoutAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Sgd sgd = Sgd.builder().build();
             DataParallel dp = DataParallel.create(List.of(b), 1, ParallelMisuseTest::mlp, sgd)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> dp.step(new float[8], new float[] {1, 0, 0, 1}, 0, 2));
            assertEquals("data parallel: x holds 2 samples of 4 values but targets hold 4 of 1 value"
                    + " (model.targetColumns()); encode labels with model.encodeTargets", e.getMessage());
        }
    }
}
