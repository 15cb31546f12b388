package dev.jacobian.opencl;

import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

import dev.jacobian.kernels.KernelSources;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Programs built once per (device, source file, build options), and their kernels <em>bound</em> once per call
 * site. The cache belongs to one {@link ClContext} (one device), which fixes the device part of the key.
 *
 * <p>Programs outlive the process in a {@link ClDiskCache} (on GPUs and accelerators, see
 * {@link ClDiskCache#keepsPrograms}): a program is first looked up there as a device binary (keyed by device, driver,
 * source text and options), built from it when the driver accepts it, and otherwise compiled from source and its
 * binary written back. A second run of the same model on the same device therefore compiles nothing.
 *
 * <p>Binding: a {@code cl_kernel} keeps the arguments last set on it, so {@link #bind} hands out one kernel
 * object per (kernel, buffers it is called with) and sets on it only the arguments that differ from the values
 * it already holds. A training step calls each kernel with the same buffers every step (the executor's plan
 * fixes them), so after the first step a launch sets no buffer argument and only the scalars that changed (a
 * learning rate, a step count): {@code clSetKernelArg} costs about a microsecond through JOCL, which on a GPU
 * is more than many of the step's kernels. At most {@value #BINDINGS_PER_KERNEL} bindings are kept per kernel,
 * least recently used first out. Kernel objects carry their argument values, so the cache, like the backend,
 * is used by one thread at a time.
 */
final class ClProgramCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClProgramCache.class);

    private record ProgramKey(String source, String options) {
    }

    private record KernelKey(ProgramKey program, String kernel) {
    }

    private final ClContext cl;
    private final ClDiskCache disk;
    private int sourceBuilds;
    private int binaryLoads;
    private final Map<String, String> sources = new HashMap<>();
    private final Map<ProgramKey, cl_program> programs = new HashMap<>();
    private final Map<KernelKey, Map<BufferKey, Binding>> bindings = new HashMap<>();

    /** Kernel objects kept per kernel, one per set of buffers it is called with. */
    static final int BINDINGS_PER_KERNEL = 64;

    /**
     * The buffers of one call, by position: equal when every buffer argument is the same {@link ClBuffer} object.
     * Identity, not the {@code cl_mem} handle's value: a released sub-buffer's handle may come back for another
     * region, and a driver may resolve a sub-buffer argument when it is set.
     */
    private record BufferKey(Object[] buffers) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof BufferKey k) || k.buffers.length != buffers.length) {
                return false;
            }
            for (int i = 0; i < buffers.length; i++) {
                if (buffers[i] != k.buffers[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (Object b : buffers) {
                h = 31 * h + System.identityHashCode(b);
            }
            return h;
        }
    }

    /** For each sub-buffer bound to a kernel, where: {@link #forget} drops those bindings when it is released. */
    private final Map<ClBuffer, List<Map.Entry<KernelKey, BufferKey>>> bySubBuffer = new IdentityHashMap<>();

    /** One kernel object and the argument values set on it. */
    private static final class Binding {
        final cl_kernel kernel;
        final Object[] args;

        Binding(cl_kernel kernel, int arity) {
            this.kernel = kernel;
            this.args = new Object[arity];
        }
    }

    /** A cache for {@code cl}'s device that keeps program binaries in {@code disk} when it {@link ClDiskCache#keepsPrograms}. */
    ClProgramCache(ClContext cl, ClDiskCache disk) {
        this.cl = cl;
        this.disk = disk;
    }

    /**
     * Kernel {@code name} of {@code source} built with {@code options}, with {@code args} set (see
     * {@link ClContext#setArg} for the types): the kernel object bound to these buffers, on which only the
     * arguments whose value changed since its last call are set.
     */
    cl_kernel bind(String source, String options, String name, Object... args) {
        KernelKey kk = new KernelKey(new ProgramKey(source, options), name);
        Object[] buffers = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            buffers[i] = a instanceof ClBuffer || a instanceof cl_mem ? a : null;
        }
        Map<BufferKey, Binding> byBuffers = bindings.computeIfAbsent(kk, k -> new LinkedHashMap<>(16, 0.75f, true));
        BufferKey key = new BufferKey(buffers);
        Binding binding = byBuffers.get(key);
        if (binding == null) {
            cl_kernel kernel = clCreateKernel(program(kk.program()), name, null);
            binding = new Binding(kernel, args.length);
            if (byBuffers.size() >= BINDINGS_PER_KERNEL) {
                var eldest = byBuffers.entrySet().iterator();
                clReleaseKernel(eldest.next().getValue().kernel);
                eldest.remove();
            }
            byBuffers.put(key, binding);
            for (Object b : buffers) {
                if (b instanceof ClBuffer cb && cb.isSubBuffer()) {
                    bySubBuffer.computeIfAbsent(cb, x -> new ArrayList<>()).add(Map.entry(kk, key));
                }
            }
        }
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            Object last = binding.args[i];
            boolean same = last != null && (a instanceof int[] v ? last instanceof int[] w && Arrays.equals(v, w)
                    : a == last || a.equals(last));
            if (!same) {
                cl.setArg(binding.kernel, i, a);
                binding.args[i] = a instanceof int[] v ? v.clone() : a;
            }
        }
        return binding.kernel;
    }

    /**
     * Drops every binding that holds {@code subBuffer} (called before it is released), so that no kernel object keeps
     * a released handle and a later sub-buffer that gets the same handle is bound afresh.
     */
    void forget(ClBuffer subBuffer) {
        List<Map.Entry<KernelKey, BufferKey>> where = bySubBuffer.remove(subBuffer);
        if (where != null) {
            for (Map.Entry<KernelKey, BufferKey> e : where) {
                Map<BufferKey, Binding> byBuffers = bindings.get(e.getKey());
                Binding b = byBuffers == null ? null : byBuffers.remove(e.getValue());
                if (b != null) {
                    clReleaseKernel(b.kernel);
                }
            }
        }
    }

    private cl_program program(ProgramKey key) {
        cl_program p = programs.get(key);
        if (p == null) {
            String text = sources.computeIfAbsent(key.source(), KernelSources::load);
            long t0 = System.nanoTime();
            byte[] cached = disk.keepsPrograms() ? disk.read(PROGRAM, text, key.options()) : null;
            p = cached == null ? null : cl.buildFromBinary(key.source(), cached, key.options());
            if (p != null) {
                binaryLoads++;
                LOG.debug("loaded {}.cl [{}] for {} from its cached binary in {} ms", key.source(), key.options(),
                        cl.device().name(), (System.nanoTime() - t0) / 1_000_000);
            } else {
                p = cl.build(key.source(), text, key.options());
                sourceBuilds++;
                LOG.debug("built {}.cl [{}] for {} in {} ms", key.source(), key.options(), cl.device().name(),
                        (System.nanoTime() - t0) / 1_000_000);
                if (disk.keepsPrograms()) {
                    byte[] bin = cl.binary(p);
                    if (bin != null) {
                        disk.write(bin, PROGRAM, text, key.options());
                    }
                }
            }
            programs.put(key, p);
        }
        return p;
    }

    /** Number of programs built so far. */
    int programCount() {
        return programs.size();
    }

    /** Number of programs compiled from source so far. */
    int sourceBuilds() {
        return sourceBuilds;
    }

    /** Number of programs loaded from a binary on disk so far. */
    int binaryLoads() {
        return binaryLoads;
    }

    /** The kind of the disk cache's program entries. */
    static final String PROGRAM = "program";

    @Override
    public void close() {
        bindings.values().forEach(m -> m.values().forEach(b -> clReleaseKernel(b.kernel)));
        bindings.clear();
        bySubBuffer.clear();
        programs.values().forEach(p -> clReleaseProgram(p));
        programs.clear();
    }
}
