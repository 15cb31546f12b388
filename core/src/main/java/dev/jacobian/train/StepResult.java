package dev.jacobian.train;

import dev.jacobian.optim.StepReport;

/**
 * The outcome of one {@link Trainer#step}: the loss (read back, 4 bytes) and the optimizer's report,
 * whose gradient norm is read from the device only when asked.
 */
public record StepResult(long step, float loss, StepReport optimizer) {
    /** Global gradient norm before clipping (one small download). */
    public float gradNorm() {
        return optimizer.gradNorm();
    }

    /** Whether clipping by norm fired on this step. */
    public boolean clipped() {
        return optimizer.clipped();
    }
}
