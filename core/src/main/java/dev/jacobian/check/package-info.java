/** Numerical gradient checking by centered finite differences. */
package dev.jacobian.check;
