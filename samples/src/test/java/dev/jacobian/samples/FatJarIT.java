package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The runnable fat jar the package phase shades ({@code samples/target/jacobian-samples.jar}, what
 * {@code bin/jacobian} runs) keeps every backend: its {@code META-INF/services} file is the merge of core's, the
 * CPU backend's and the OpenCL backend's (the shade plugin's {@code ServicesResourceTransformer}), and
 * {@code java -jar} on it, alone on the class path, lists all three providers in {@code jacobian info}.
 *
 * <p>An integration test (failsafe, {@code integration-test} phase of {@code verify}): it needs the shaded jar.
 */
class FatJarIT {
    private static final String SERVICE = "META-INF/services/dev.jacobian.backend.BackendProvider";
    private static final Set<String> PROVIDERS = Set.of("dev.jacobian.reference.ReferenceBackendProvider",
            "dev.jacobian.cpu.CpuBackendProvider", "dev.jacobian.opencl.ClBackendProvider");

    /** The shaded jar, from failsafe's system property (samples/pom.xml). */
    private static Path fatJar() {
        String path = System.getProperty("jacobian.fatJar");
        assertTrue(path != null && !path.isBlank(), "system property jacobian.fatJar is not set (run through failsafe)");
        Path jar = Path.of(path);
        assertTrue(Files.isRegularFile(jar), jar + " is missing: the package phase shades it");
        return jar;
    }

    @Test
    void servicesFileListsEveryBackendProvider() throws IOException {
        try (JarFile jar = new JarFile(fatJar().toFile())) {
            ZipEntry entry = jar.getEntry(SERVICE);
            assertTrue(entry != null, SERVICE + " is missing from " + jar.getName());
            String text;
            try (InputStream in = jar.getInputStream(entry)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Set<String> listed = new TreeSet<>();
            for (String line : text.split("\\R")) {
                String name = line.replaceFirst("#.*", "").strip();
                if (!name.isEmpty()) {
                    listed.add(name);
                }
            }
            assertEquals(new TreeSet<>(PROVIDERS), listed, "the merged " + SERVICE + ":\n" + text);
        }
    }

    @Test
    void javaDashJarOnTheFatJarAloneFindsTheCpuAndOpenClBackends() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m", "-Djava.awt.headless=true", "-jar", fatJar().toString(), "info");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("CLASSPATH");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jacobian info finished:\n" + out);
        assertEquals(0, p.exitValue(), out);

        // the table under "Backends (highest priority first):", one provider a row after the header, to a blank line
        List<String> lines = Arrays.asList(out.split("\\R"));
        int table = lines.indexOf("Backends (highest priority first):");
        assertTrue(table >= 0, "no backend table in:\n" + out);
        List<String> names = new ArrayList<>();
        for (String row : lines.subList(table + 2, lines.size())) {
            if (row.isBlank()) {
                break;
            }
            names.add(row.strip().split("\\s+")[0]);
        }
        assertTrue(names.containsAll(List.of("cpu", "opencl", "reference")),
                "providers listed " + names + " in:\n" + out);
    }
}
