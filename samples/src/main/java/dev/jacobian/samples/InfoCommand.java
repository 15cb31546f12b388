package dev.jacobian.samples;

import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import dev.jacobian.opencl.ClInfo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code jacobian info}: the backends found, their priority and availability, the one {@code auto}
 * picks and why, and the OpenCL platforms and devices with their limits. Answers "why is it on CPU?".
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Lists the backends (priority, availability, why not), the one 'auto' picks, and the OpenCL devices.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("Java %s (%s), %d cores, max heap %d MiB%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20);
        out.printf("Vector API (jdk.incubator.vector): %s%n",
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                        ? "present" : "absent - start Java with --add-modules=jdk.incubator.vector for the SIMD kernels");
        out.println();
        out.println("Backends (highest priority first):");
        List<BackendProvider> providers = Backends.providers();
        out.printf("  %-10s %8s  %-10s %s%n", "name", "priority", "available", "reason");
        for (BackendProvider p : providers) {
            out.printf("  %-10s %8d  %-10s %s%n", p.name(), p.priority(), p.isAvailable() ? "yes" : "no",
                    p.isAvailable() ? "" : p.unavailableReason());
        }
        String configured = Backends.configuredName();
        out.println();
        out.printf("Configured: '%s' (system property %s, else environment %s, else auto)%n", configured,
                Backends.PROPERTY, Backends.ENV);
        BackendProvider chosen = providers.stream().filter(BackendProvider::isAvailable).findFirst().orElse(null);
        if (chosen == null) {
            out.println("auto picks: nothing - no backend is available");
        } else {
            out.printf("auto picks: %s - the available backend with the highest priority (%d)%n", chosen.name(),
                    chosen.priority());
            for (BackendProvider p : providers) {
                if (p != chosen) {
                    out.printf("  not %s: %s%n", p.name(), p.isAvailable() ? "lower priority (" + p.priority() + ")"
                            : p.unavailableReason());
                }
            }
        }
        out.println();
        printOpenCl(out);
        out.flush();
        return 0;
    }

    private static void printOpenCl(PrintWriter out) {
        out.println("OpenCL:");
        ClInfo.Report report;
        try {
            report = ClInfo.probe();
        } catch (LinkageError e) {
            out.println("  cannot be listed: " + e);
            return;
        }
        if (!report.problem().isEmpty()) {
            out.println("  " + report.problem());
        }
        for (ClInfo.Platform p : report.platforms()) {
            out.printf("  platform %s (%s, %s)%n", p.name(), p.vendor(), p.version());
            for (ClInfo.Device d : p.devices()) {
                out.printf("    #%d %s [%s, %s, %s]%n", d.index(), d.name(), d.type(), d.vendor(), d.version());
                out.printf("       compute units %d, max work-group %d, local memory %s, global memory %s, max buffer %s%n",
                        d.computeUnits(), d.maxWorkGroupSize(), bytes(d.localMemBytes()), bytes(d.globalMemBytes()),
                        bytes(d.maxAllocBytes()));
            }
        }
    }

    private static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format("%.1f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format("%.1f MiB", b / (double) (1L << 20));
        }
        return String.format("%.0f KiB", b / 1024.0);
    }
}
