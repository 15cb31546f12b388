/** Optimizers: SGD with momentum, weight decay and gradient clipping, each step fused on the backend. */
package dev.jacobian.optim;
