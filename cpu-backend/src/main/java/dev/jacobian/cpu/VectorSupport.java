package dev.jacobian.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once per JVM, whether the Vector API kernels may run. This class does not reference
 * {@code jdk.incubator.vector} itself, so it loads on any JVM.
 *
 * <p>The vector kernels are off when the system property {@value #PROPERTY} is {@code false}, or when the
 * {@code jdk.incubator.vector} module is not in the boot layer; in the second case one warning names the
 * flag that enables it ({@value #FLAG}). Either way the scalar twins run.
 */
final class VectorSupport {
    /** System property that switches the vector kernels off ({@code -Djacobian.cpu.vector=false}). */
    static final String PROPERTY = "jacobian.cpu.vector";
    /** The JVM flag that makes the Vector API available. */
    static final String FLAG = "--add-modules=jdk.incubator.vector";
    private static final String MODULE = "jdk.incubator.vector";

    private VectorSupport() {
    }

    /** Whether the vector kernels may be used in this JVM (module present, property not {@code false}). */
    static boolean available() {
        return Holder.AVAILABLE;
    }

    /** Lazily computed, immutable once set: the check and its log line happen at most once per JVM. */
    private static final class Holder {
        private static final Logger LOG = LoggerFactory.getLogger(VectorSupport.class);
        static final boolean AVAILABLE = detect();

        private static boolean detect() {
            if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
                LOG.info("Vector API kernels switched off by -D{}=false; the scalar kernels run", PROPERTY);
                return false;
            }
            if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
                LOG.warn("Module {} is not available: the CPU backend runs its scalar kernels, which are several "
                        + "times slower. Start the JVM with {} to enable SIMD.", MODULE, FLAG);
                return false;
            }
            return true;
        }
    }
}
