package dev.jacobian.optim;

import dev.jacobian.tensor.Tensor;

/**
 * What one optimizer step did: the global gradient norm before clipping and whether clipping fired.
 * The norm stays on the device until {@link #gradNorm()} is called; read it before the next step
 * (which overwrites it), otherwise {@link IllegalStateException}.
 */
public final class StepReport {
    private final Optimizer owner;
    private final long step;
    private final Tensor normSq;
    private final float clipNorm;
    private float norm = Float.NaN;
    private boolean read;

    /**
     * A report of step {@code step} of {@code owner}, whose squared global gradient norm is in the device
     * scalar {@code normSq} until the owner's next step.
     */
    public StepReport(Optimizer owner, long step, Tensor normSq, float clipNorm) {
        this.owner = owner;
        this.step = step;
        this.normSq = normSq;
        this.clipNorm = clipNorm;
    }

    /** The global L2 norm of all gradients before clipping (one 4-byte download, once). */
    public float gradNorm() {
        if (!read) {
            if (owner.steps() != step) {
                throw new IllegalStateException("step " + step + "'s gradient norm was overwritten by step " + owner.steps());
            }
            norm = (float) Math.sqrt(normSq.get(0));
            read = true;
        }
        return norm;
    }

    /**
     * The squared global norm as a device scalar {@code [1, 1]}, valid until the next step: a caller
     * that reports several numbers per step gathers it with them into one transfer.
     */
    public Tensor gradNormSquared() {
        if (owner.steps() != step) {
            throw new IllegalStateException("step " + step + "'s gradient norm was overwritten by step " + owner.steps());
        }
        return normSq;
    }

    /** Whether clipping by norm scaled this step's gradients ({@code ||g|| >= threshold}). */
    public boolean clipped() {
        return clipNorm > 0f && gradNorm() >= clipNorm;
    }

    /** Whether the gradients were finite (when not, the step left every weight untouched). */
    public boolean finite() {
        return Float.isFinite(gradNorm());
    }

    /** The optimizer step this report is about, counted from 1 (the owner's {@code steps()} right after it). */
    public long step() {
        return step;
    }
}
