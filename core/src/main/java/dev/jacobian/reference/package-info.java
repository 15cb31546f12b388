/** The scalar reference backend: the slow, obviously correct oracle of the conformance suite. */
package dev.jacobian.reference;
