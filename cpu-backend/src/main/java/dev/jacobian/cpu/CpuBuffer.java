package dev.jacobian.cpu;

import dev.jacobian.backend.DeviceBuffer;

/** Storage of the CPU backend: one Java array, owned by the {@link CpuBackend} that allocated it. */
final class CpuBuffer implements DeviceBuffer {
    final float[] data;

    CpuBuffer(int floats) {
        data = new float[floats];
    }

    @Override
    public long floats() {
        return data.length;
    }
}
