package dev.jacobian.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings every benchmark of this module starts from, inherited by its subclasses (the JMH
 * annotations are {@code @Inherited}; a subclass overrides one by carrying its own): average time per call
 * in microseconds, 3 warm-up and 5 measured iterations of one second, and one fork with the Vector API
 * module, native access (the OpenCL and BLAS bindings) and a fixed 2 GiB heap.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms2g", "-Xmx2g"})
public abstract class BenchmarkDefaults {
    /** For subclasses. */
    protected BenchmarkDefaults() {
    }
}
