package dev.jacobian.samples;

import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code jacobian info}: the backends found, their priority and availability, the one {@code auto}
 * picks and why, and what each backend would run on ({@link BackendProvider#describe()}: threads and SIMD
 * width, OpenCL platforms and devices with their limits, ...). Answers "why is it on CPU?". Everything
 * comes through the backend SPI; no backend is created.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Lists the backends (priority, availability, why not), the one 'auto' picks, and the devices "
                + "each backend would use.")
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
            out.println(String.format("  %-10s %8d  %-10s %s", p.name(), p.priority(), p.isAvailable() ? "yes" : "no",
                    p.isAvailable() ? "" : p.unavailableReason()).stripTrailing());
        }
        String configured = Backends.configuredName();
        out.println();
        out.printf("Configured: '%s' (system property %s, else environment %s, else auto)%n", configured,
                Backends.PROPERTY, Backends.ENV);
        BackendProvider chosen = Backends.autoChoice(providers).orElse(null);
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
        out.println("Devices (what each backend would run on):");
        for (BackendProvider p : providers) {
            out.printf("  %s%s:%n", p.name(), p == chosen ? " (auto)" : p.isAvailable() ? "" : " (not available)");
            List<String> lines = describe(p);
            if (lines.isEmpty()) {
                out.println("    (no description)");
            }
            for (String line : lines) {
                out.println("    " + line);
            }
        }
        out.flush();
        return 0;
    }

    /** The provider's description; a provider that breaks its no-throw contract gets one line saying so. */
    private static List<String> describe(BackendProvider p) {
        try {
            return p.describe();
        } catch (RuntimeException | LinkageError e) {
            return List.of("cannot be described: " + e);
        }
    }
}
