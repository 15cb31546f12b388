/**
 * The training run behind {@code jacobian train}: its configuration, the epoch loop with validation,
 * diagnostics, checkpoints, resume and NaN handling, and what it reports (metrics JSON, plots, the
 * confusion matrix, phase timings).
 */
package dev.jacobian.samples.training;
