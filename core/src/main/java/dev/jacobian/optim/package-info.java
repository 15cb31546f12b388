/**
 * Optimizers: SGD with momentum, weight decay and gradient clipping, each step fused on the backend. Learning-rate
 * schedules that drive any optimizer live in {@code dev.jacobian.optim.schedule}.
 */
package dev.jacobian.optim;
