package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.opencl.ClBackendProvider;
import dev.jacobian.opencl.ClInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * The backends of {@code jacobian train --workers N}: N of the kind {@code --backend} names. CPU backends share the
 * machine's cores (each gets {@code cores / N} threads, at least one); OpenCL workers take one GPU each when there
 * are N of them, otherwise N contexts on the chosen device.
 */
final class Workers {
    private Workers() {
    }

    /** {@code n} backends of the kind {@code name} designates ({@code auto} included); the caller closes them. */
    static List<Backend> open(String name, int n) {
        return open(Backends.resolve(name), n);
    }

    /** {@code n} backends of {@code provider}'s kind; the caller closes them. */
    static List<Backend> open(BackendProvider provider, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--workers must be at least 1: " + n);
        }
        List<Backend> out = new ArrayList<>();
        try {
            if (n == 1) {
                out.add(provider.create());
            } else if (provider.name().equals("cpu")) {
                int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / n);
                for (int i = 0; i < n; i++) {
                    out.add(new CpuBackend(threads));
                }
            } else if (provider instanceof ClBackendProvider) {
                List<ClInfo.Device> gpus = ClInfo.probe().devices().stream()
                        .filter(d -> d.type() == ClInfo.DeviceType.GPU).toList();
                for (int i = 0; i < n; i++) {
                    out.add(gpus.size() >= n ? new ClBackendProvider(Integer.toString(gpus.get(i).index())).create()
                            : provider.create());
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out.add(provider.create());
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.forEach(Backend::close);
            throw e;
        }
    }
}
