package dev.jacobian.bench;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenBLAS peer, reached through netlib-java's JNI binding, and proof that it is OpenBLAS: after a
 * first call, the shared objects mapped into this process ({@code /proc/self/maps}) must include an
 * OpenBLAS library, and {@code OPENBLAS_NUM_THREADS} must equal the thread count being compared.
 * Anything else (netlib's pure-Java fallback, the reference BLAS, a thread-count mismatch) throws,
 * so a benchmark never silently compares against the wrong thing.
 *
 * <p>Row-major products use the usual swap: row-major {@code C = op(A) op(B)} is column-major
 * {@code C^T = op(B)^T op(A)^T}, so B is passed first and m/n are exchanged; nothing is copied.
 */
final class OpenBlas {
    private static final Logger LOG = LoggerFactory.getLogger(OpenBlas.class);
    /** Environment variable OpenBLAS reads its thread count from, once, when it is loaded. */
    static final String THREADS_ENV = "OPENBLAS_NUM_THREADS";

    private final BLAS blas;
    private final String description;

    private OpenBlas(BLAS blas, String description) {
        this.blas = blas;
        this.description = description;
    }

    /**
     * Loads the native BLAS and checks it is OpenBLAS running {@code threads} threads.
     *
     * @throws IllegalStateException when the native BLAS is missing, is not OpenBLAS, or runs another
     *                               number of threads
     */
    static OpenBlas load(int threads) {
        String env = System.getenv(THREADS_ENV);
        if (env == null || !env.trim().equals(Integer.toString(threads))) {
            throw new IllegalStateException("comparing at " + threads + " thread(s) needs " + THREADS_ENV + "="
                    + threads + " in the environment of the JMH run (found " + env + "); see benchmarks/run.sh");
        }
        BLAS blas;
        try {
            blas = NativeBLAS.getInstance();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("netlib-java found no native BLAS (nativeLib="
                    + System.getProperty("dev.ludovic.netlib.blas.nativeLib", "libblas.so.3")
                    + "); install OpenBLAS or pass -Ddev.ludovic.netlib.blas.nativeLib=libopenblas.so.0", e);
        }
        float[] one = {1f};
        float[] out = {0f};
        blas.sgemm("N", "N", 1, 1, 1, 1f, one, 1, one, 1, 0f, out, 1);
        List<String> libs = mappedBlasLibraries();
        boolean openblas = libs.stream().anyMatch(l -> l.toLowerCase(Locale.ROOT).contains("openblas"));
        if (!openblas) {
            throw new IllegalStateException("the native BLAS netlib-java loaded is not OpenBLAS: " + libs
                    + "; pass -Ddev.ludovic.netlib.blas.nativeLib=libopenblas.so.0");
        }
        String description = blas.getClass().getName() + " -> " + String.join(", ", libs) + " (" + THREADS_ENV + "="
                + env.trim() + ", OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto") + ")";
        LOG.info("peer BLAS: {}", description);
        return new OpenBlas(blas, description);
    }

    /** Shared objects with "blas" in their path that are mapped into this process. */
    private static List<String> mappedBlasLibraries() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(line -> line.substring(line.lastIndexOf(' ') + 1))
                    .filter(path -> path.startsWith("/") && path.toLowerCase(Locale.ROOT).contains("blas"))
                    .distinct()
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps to tell which BLAS was loaded", e);
        }
    }

    /** What ran: binding class, mapped libraries, thread and core settings. */
    String description() {
        return description;
    }

    /**
     * Row-major {@code C = alpha op(A) op(B) + beta C}; {@code A} is {@code [m, k]} ({@code [k, m]} when
     * transposed), {@code B} is {@code [k, n]} ({@code [n, k]}), {@code C} is {@code [m, n]}.
     */
    void sgemmRowMajor(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b,
                       float beta, float[] c) {
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, ldb, a, lda, beta, c, n);
    }
}
