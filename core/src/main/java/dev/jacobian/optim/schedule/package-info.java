/**
 * Learning-rate schedules as {@code torch.optim.lr_scheduler}: closed-form {@link
 * dev.jacobian.optim.schedule.LrSchedule}s (constant, step, exponential, cosine annealing, linear warmup before
 * any of them) driven by a {@link dev.jacobian.optim.schedule.ClosedFormScheduler}, and the metric-driven
 * {@link dev.jacobian.optim.schedule.ReduceLrOnPlateau}. Both are {@link
 * dev.jacobian.optim.schedule.LrScheduler}s: they set any {@link dev.jacobian.optim.Optimizer}'s rate, are
 * stepped per epoch or per step as the caller chooses, and save and restore the state a resumed run needs.
 */
package dev.jacobian.optim.schedule;
