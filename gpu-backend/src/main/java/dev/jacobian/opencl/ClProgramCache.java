package dev.jacobian.opencl;

import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

import dev.jacobian.kernels.KernelSources;
import java.util.HashMap;
import java.util.Map;
import org.jocl.cl_kernel;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Programs built once per (device, source file, build options) and their kernels created once per
 * name. The cache belongs to one {@link ClContext} (one device), which fixes the device part of the key.
 * Kernel objects carry their argument values, so the cache, like the backend, is used by one thread at
 * a time.
 */
final class ClProgramCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClProgramCache.class);

    private record ProgramKey(String source, String options) {
    }

    private record KernelKey(ProgramKey program, String kernel) {
    }

    private final ClContext cl;
    private final Map<String, String> sources = new HashMap<>();
    private final Map<ProgramKey, cl_program> programs = new HashMap<>();
    private final Map<KernelKey, cl_kernel> kernels = new HashMap<>();

    ClProgramCache(ClContext cl) {
        this.cl = cl;
    }

    /** Kernel {@code name} of source {@code source} (a {@link KernelSources} name) built with {@code options}. */
    cl_kernel kernel(String source, String options, String name) {
        ProgramKey pk = new ProgramKey(source, options);
        KernelKey kk = new KernelKey(pk, name);
        cl_kernel k = kernels.get(kk);
        if (k == null) {
            k = clCreateKernel(program(pk), name, null);
            kernels.put(kk, k);
        }
        return k;
    }

    private cl_program program(ProgramKey key) {
        cl_program p = programs.get(key);
        if (p == null) {
            String text = sources.computeIfAbsent(key.source(), KernelSources::load);
            long t0 = System.nanoTime();
            p = cl.build(key.source(), text, key.options());
            LOG.debug("built {}.cl [{}] for {} in {} ms", key.source(), key.options(), cl.device().name(),
                    (System.nanoTime() - t0) / 1_000_000);
            programs.put(key, p);
        }
        return p;
    }

    /** Number of programs built so far. */
    int programCount() {
        return programs.size();
    }

    @Override
    public void close() {
        kernels.values().forEach(k -> clReleaseKernel(k));
        kernels.clear();
        programs.values().forEach(p -> clReleaseProgram(p));
        programs.clear();
    }
}
