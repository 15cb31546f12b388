/**
 * The training step ({@link dev.jacobian.train.Trainer}: batch upload, forward, backward, optimizer update, NaN
 * detection) and the loop around it ({@link dev.jacobian.train.TrainingLoop}: epochs, shuffling, validation, a
 * learning-rate scheduler, {@link dev.jacobian.train.TrainingListener}s such as {@link
 * dev.jacobian.train.EarlyStopping} and {@link dev.jacobian.train.PeriodicCheckpoint}).
 */
package dev.jacobian.train;
