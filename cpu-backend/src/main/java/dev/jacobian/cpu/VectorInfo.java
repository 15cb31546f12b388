package dev.jacobian.cpu;

/** Describes the vector shape in use; loaded only when the Vector API is available. */
final class VectorInfo {
    private VectorInfo() {
    }

    static String describe() {
        return "Vector API " + Simd.F.vectorBitSize() + "-bit (" + Simd.L + " floats)";
    }
}
