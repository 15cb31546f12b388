package dev.jacobian.opencl;

/**
 * The kernels of one OpenCL source ({@code source}, a {@link dev.jacobian.kernels.KernelSources} name), built
 * with {@code -cl-std=CL1.2} and launched over a 1-D range in work-groups of {@code wg}: what the host sides
 * of {@code elementwise.cl}, {@code broadcast.cl}, {@code optimizer.cl} and {@code random.cl} share. Every
 * launch is enqueued without waiting.
 */
record ClKernels1d(ClContext cl, ClProgramCache cache, String source, int wg) {
    private static final String OPTIONS = "-cl-std=CL1.2";

    /** The kernels of {@code source} in work-groups of 64, or fewer where the device allows less. */
    static ClKernels1d of(ClContext cl, ClProgramCache cache, String source) {
        return new ClKernels1d(cl, cache, source, (int) Math.min(64, cl.device().maxWorkGroupSize()));
    }

    /** Binds {@code args} to kernel {@code name} ({@link ClProgramCache#bind}) and enqueues it over {@code items} work-items. */
    void run(String name, long items, Object... args) {
        cl.launch1d(cache.bind(source, OPTIONS, name, args), items, wg);
    }
}
