package dev.jacobian.cpu;

import dev.jacobian.data.ByteConverter;
import java.util.Objects;

/**
 * The CPU backend's {@link ByteConverter} (a service: core's {@link dev.jacobian.data.ImageDataset} finds it with
 * {@link java.util.ServiceLoader} and converts its pixels with it): with the Vector API, each group of bytes is
 * zero-extended to ints, converted to floats and divided in one vector of the backend's width; without it (or with
 * {@code -Djacobian.cpu.vector=false}), the plain loop. Both give the bits of {@code (b & 0xff) / divisor}.
 *
 * <p>Why: C2 widens bytes to ints one at a time (about a byte a cycle), so a shuffled batch of 128 Fashion-MNIST images
 * took about five times as long to convert once its rows were in cache as in vectors (AMD EPYC family 26, Zen 5,
 * AVX-512, measured SGEMM peak 183-201 GFLOP/s, a throwaway harness; {@code benchmarks/HISTORY.md}, session 12). This
 * class does not reference {@code jdk.incubator.vector} itself, so it loads on any JVM.
 */
public final class CpuByteConverter implements ByteConverter {
    /** Whether this instance converts in vectors: the Vector API is on and its floats have at least 8 lanes. */
    private final boolean vector;

    /** A converter; it uses the Vector API when this JVM has it (see {@link CpuBackend#vectorAvailable()}). */
    public CpuByteConverter() {
        this(true);
    }

    /** A converter that uses the Vector API only if {@code useVector} and this JVM has it (tests force the loop). */
    CpuByteConverter(boolean useVector) {
        this.vector = useVector && VectorSupport.available() && ConvertVector.LANES >= 8;
    }

    @Override
    public void toFloats(byte[] src, int srcOffset, float[] dst, int dstOffset, int count, float divisor) {
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        convert(vector, src, srcOffset, dst, dstOffset, count, divisor);
    }

    /**
     * {@link #toFloats} with the ranges already checked: in vectors when {@code vector} (the Vector API on, at least 8
     * float lanes: {@link #usesVector}), the rest one by one. The CPU backend's upload of byte rows converts with it.
     */
    static void convert(boolean vector, byte[] src, int srcOffset, float[] dst, int dstOffset, int count,
                        float divisor) {
        int done = vector ? ConvertVector.toFloats(src, srcOffset, dst, dstOffset, count, divisor) : 0;
        for (int k = done; k < count; k++) {
            dst[dstOffset + k] = (src[srcOffset + k] & 0xff) / divisor;
        }
    }

    /** Whether this instance converts in vectors. */
    boolean usesVector() {
        return vector;
    }
}
