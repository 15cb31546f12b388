package dev.jacobian.opencl;

import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-device GEMM tuning: for each rung of the shape-aware tile ladder ({@link ClMatmul#ladderFor}), times that
 * rung's {@linkplain ClMatmul.Params#variants variants} (register prefetch, float4 local reads, a deeper K tile) on a
 * product the rung would be chosen for, keeps the fastest, and caches the winners in the {@link ClDiskCache} under the
 * device, its driver, the GEMM source and the ladder. A later backend on the same device and driver reads the winners
 * and times nothing; the winners' programs come from the binary cache too.
 *
 * <p><b>When.</b> The system property {@value #PROPERTY}: {@code auto} (the default) tunes GPUs and accelerators the
 * first time and uses cached winners on any device; {@code on} tunes any device, CPUs included; {@code off} uses the
 * built-in ladder and reads nothing. To tune again, delete the cache entry (its name starts with
 * {@value #KIND}) or the cache directory.
 *
 * <p><b>How long.</b> Each variant is built (about 0.1-1 s per program on a GPU driver, once: the binary is cached),
 * run once to warm up, then timed three times over enough repetitions to take at least {@value #MIN_TIMED_NANOS} ns;
 * the best of the three counts. Every variant's product is checked against the built-in rung's result before it may
 * win, so a miscompiled variant is logged and skipped, never chosen.
 */
final class ClGemmTuner {
    private static final Logger LOG = LoggerFactory.getLogger(ClGemmTuner.class);

    /** System property: {@code auto}, {@code on} or {@code off}. */
    static final String PROPERTY = "jacobian.opencl.tune";
    /** The kind of the disk cache's entry of tuned tiles. */
    static final String KIND = "gemm-tiles";
    /** The least time one timed batch of repetitions takes. */
    static final long MIN_TIMED_NANOS = 2_000_000L;
    /** The most repetitions in one timed batch. */
    static final int MAX_REPS = 1 << 12;
    /** Depth of the timed products. */
    static final int DEPTH = 1024;

    /** When to tune. */
    enum Mode {
        /** Tune GPUs and accelerators when nothing is cached; use cached winners on any device. */
        AUTO,
        /** Tune any device when nothing is cached. */
        ON,
        /** The built-in ladder; the cache is neither read nor written. */
        OFF;

        /** The mode the property's value names (null or blank: {@link #AUTO}). */
        static Mode of(String value) {
            if (value == null || value.isBlank()) {
                return AUTO;
            }
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "on", "true", "yes" -> ON;
                case "off", "false", "no" -> OFF;
                default -> throw new IllegalArgumentException(PROPERTY + "='" + value + "': expected auto, on or off");
            };
        }
    }

    /**
     * The outcome: the ladder to use and what it took.
     *
     * @param ladder    the tiles, large to small, each the winner of its rung (or the built-in rung)
     * @param source    {@code "built-in"}, {@code "cache"} or {@code "tuned"}
     * @param timed     variants timed (0 unless tuned)
     * @param report    one line per rung: the variants' times and the winner (empty unless tuned)
     */
    record Result(List<ClMatmul.Params> ladder, String source, int timed, List<String> report) {
    }

    private ClGemmTuner() {
    }

    /**
     * The ladder {@code backend} should use in place of {@code builtIn}, under {@code mode}: the cached winners, or
     * new ones timed now (and cached), or {@code builtIn}.
     */
    static Result ladder(ClBackend backend, ClContext cl, ClProgramCache cache, ClBufferPool pool, ClDiskCache disk,
                         List<ClMatmul.Params> builtIn, int computeUnits, Mode mode) {
        if (mode == Mode.OFF || builtIn.isEmpty()) {
            return new Result(builtIn, "built-in", 0, List.of());
        }
        String ladderText = text(builtIn);
        String source = KernelSources.load(KernelSources.MATMUL);
        byte[] cached = disk.read(KIND, source, ladderText);
        if (cached != null) {
            List<ClMatmul.Params> winners = parse(new String(cached, StandardCharsets.UTF_8), builtIn);
            if (winners != null) {
                LOG.debug("GEMM tiles for {} from the cache: {}", cl.device().name(), text(winners));
                return new Result(winners, "cache", 0, List.of());
            }
            LOG.warn("OpenCL cache entry {} does not list a tuned variant for each of {}; tuning again",
                    disk.file(KIND, source, ladderText), ladderText);
        }
        boolean tune = mode == Mode.ON || cl.device().gpuLike();
        if (!tune || !disk.enabled() && mode == Mode.AUTO) {
            return new Result(builtIn, "built-in", 0, List.of());
        }
        long t0 = System.nanoTime();
        List<ClMatmul.Params> winners = new ArrayList<>();
        List<String> report = new ArrayList<>();
        int timed = 0;
        for (ClMatmul.Params rung : builtIn) {
            Rung r = tuneRung(backend, cl, cache, pool, rung, computeUnits);
            winners.add(r.winner);
            report.add(r.report);
            timed += r.timed;
        }
        LOG.info("tuned the GEMM tiles of {} in {} ms: {}", cl.device().name(), (System.nanoTime() - t0) / 1_000_000,
                String.join("; ", report));
        StringBuilder entry = new StringBuilder();
        for (int i = 0; i < builtIn.size(); i++) {
            entry.append(builtIn.get(i).text()).append(" = ").append(winners.get(i).text()).append('\n');
        }
        disk.write(entry.toString().getBytes(StandardCharsets.UTF_8), KIND, source, ladderText);
        return new Result(List.copyOf(winners), "tuned", timed, List.copyOf(report));
    }

    /** The winners an entry lists, one line {@code rung = winner} per rung in order; null when it is not that. */
    static List<ClMatmul.Params> parse(String entry, List<ClMatmul.Params> builtIn) {
        String[] lines = entry.strip().split("\n");
        if (lines.length != builtIn.size()) {
            return null;
        }
        List<ClMatmul.Params> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String[] sides = lines[i].split("=", -1);
            try {
                if (sides.length != 2 || !ClMatmul.Params.parse(sides[0]).equals(builtIn.get(i))) {
                    return null;
                }
                ClMatmul.Params w = ClMatmul.Params.parse(sides[1]);
                if (!ClMatmul.Params.variants(builtIn.get(i)).contains(w)) {
                    return null;
                }
                out.add(w);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return List.copyOf(out);
    }

    /** The ladder as text: part of the cache key of its tuned winners. */
    static String text(List<ClMatmul.Params> ladder) {
        return String.join(",", ladder.stream().map(ClMatmul.Params::text).toList());
    }

    private record Rung(ClMatmul.Params winner, String report, int timed) {
    }

    /**
     * Times the variants of {@code rung} that fit the device on an {@code s x s x DEPTH} product, {@code s} the rung's
     * tile times the square root of the compute units (rounded up, at least 2): a product that gives each compute unit
     * about one work-group of this rung.
     */
    private static Rung tuneRung(ClBackend backend, ClContext cl, ClProgramCache cache, ClBufferPool pool,
                                 ClMatmul.Params rung, int computeUnits) {
        int side = (int) Math.min(4096, (long) rung.tileM() * Math.max(2, (int) Math.ceil(Math.sqrt(computeUnits))));
        int k = DEPTH;
        SplittableRandom rnd = new SplittableRandom(side);
        float[] a = new float[side * k];
        float[] b = new float[k * side];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        ClMatmul.Params best = rung;
        double bestNanos = Double.MAX_VALUE;
        StringBuilder report = new StringBuilder(rung.text()).append(" at ").append(side).append('x').append(side)
                .append('x').append(k).append(':');
        int timed = 0;
        float[] expected = null;
        try (Tensor ta = backend.fromHost(Shape.matrix(side, k), a); Tensor tb = backend.fromHost(Shape.matrix(k, side), b);
             Tensor tc = backend.allocate(Shape.matrix(side, side))) {
            for (ClMatmul.Params p : ClMatmul.Params.variants(rung)) {
                if (!p.fits(cl.device())) {
                    continue;
                }
                ClMatmul gemm = new ClMatmul(cl, cache, pool, p, p);
                try {
                    gemm.gemm(false, false, side, side, k, 1f, ta, tb, 0f, tc);
                    float[] got = tc.download();
                    if (expected == null) {
                        expected = got;
                    } else if (!close(expected, got, k)) {
                        LOG.warn("GEMM variant {} computes another product than {} on {}; not a candidate", p.text(),
                                rung.text(), cl.device().name());
                        continue;
                    }
                    double nanos = Double.MAX_VALUE;
                    int reps = 1;
                    for (int round = 0; round < 3; round++) {
                        long t;
                        while (true) {
                            cl.finish();
                            long s = System.nanoTime();
                            for (int i = 0; i < reps; i++) {
                                gemm.gemm(false, false, side, side, k, 1f, ta, tb, 0f, tc);
                            }
                            cl.finish();
                            t = System.nanoTime() - s;
                            if (t >= MIN_TIMED_NANOS || reps >= MAX_REPS) {
                                break;
                            }
                            reps = (int) Math.min(MAX_REPS, Math.max(2L * reps,
                                    (long) Math.ceil(reps * 1.2 * MIN_TIMED_NANOS / Math.max(1, t))));
                        }
                        nanos = Math.min(nanos, (double) t / reps);
                    }
                    timed++;
                    double gflops = 2.0 * side * side * k / nanos;
                    report.append(String.format(Locale.ROOT, " %s %.1f GFLOP/s", p.text(), gflops));
                    if (nanos < bestNanos) {
                        bestNanos = nanos;
                        best = p;
                    }
                } catch (RuntimeException e) {
                    LOG.warn("GEMM variant {} failed on {} ({}); not a candidate", p.text(), cl.device().name(),
                            e.toString());
                } finally {
                    gemm.close();
                }
            }
        }
        report.append(" -> ").append(best.text());
        return new Rung(best, report.toString(), timed);
    }

    /** Whether two products of depth {@code k} agree within the summation error of float32. */
    private static boolean close(float[] x, float[] y, int k) {
        double tol = 1e-5 * k;
        for (int i = 0; i < x.length; i++) {
            if (!(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(x[i])))) {
                return false;
            }
        }
        return true;
    }
}
