#!/usr/bin/env python3
"""Turn JMH JSON results (-rf json) into tables of throughput and ratios. Standard library only.

Usage: python3 benchmarks/report.py [--target 0.5] results.json [more.json ...]

Each file is JMH's JSON or the JSON printed by benchmarks/gpu/torch_reference.py; every table whose
benchmarks appear in the files is printed (markdown):

- GemmBenchmark: GFLOP/s of Jacobian's CPU SGEMM and OpenBLAS, and Jacobian/OpenBLAS. With --target,
  the exit status is 1 when any Jacobian/OpenBLAS ratio is below the target.
- ClVsCpuGemmBenchmark: GFLOP/s per backend (cpu, opencl) and CPU/OpenCL per shape.
- ElementwiseBenchmark, ReductionBenchmark: G elements/s and effective GB/s per backend, CPU/OpenCL.
- TrainingStepBenchmark: steps/s per backend and batch, CPU/OpenCL, and the host transfers per step
  (uploads and downloads, count and bytes; new device allocations) from its auxiliary counters.
- Dl4jTrainingStepBenchmark (peers build, benchmarks/run-peers.sh): steps/s of Jacobian's CPU backend
  (TrainingStepBenchmark, backend cpu) and Deeplearning4j (ND4J native CPU) per batch, Jacobian/DL4J.
- With a torch_reference.py file: Jacobian's OpenCL SGEMM against cuBLAS (OpenCL/cuBLAS) and its
  training step against PyTorch eager (Jacobian/PyTorch), for the shapes and batches both measured.

Shapes are "MxNxK:TT" (C is [M, N], inner dimension K, T/N = A and B used transposed or as stored;
a bare "N" means NxNxN:NN); one product costs 2*M*N*K floating-point operations.
"""
import argparse
import html
import math
import json
import sys

TIME_UNITS_TO_SECONDS = {"ns/op": 1e-9, "us/op": 1e-6, "ms/op": 1e-3, "s/op": 1.0}
RATE_UNITS_TO_PER_SECOND = {"ops/ns": 1e9, "ops/us": 1e6, "ops/ms": 1e3, "ops/s": 1.0}

# Bytes that must move per element of the input (each input read once, each output written once).
BYTES_PER_ELEMENT = {"relu": 8, "tanh": 8, "biasRelu": 8, "biasThenRelu": 8, "sumSquaresAll": 4, "sumRows": 4,
                     "softmaxCrossEntropy": 4}
BACKENDS = ("cpu", "opencl")
DASH = "—"


def normalize_shape(shape):
    """"1024" -> "1024x1024x1024:NN"; "MxNxK:TT" unchanged."""
    return shape if "x" in shape else "%sx%sx%s:NN" % (shape, shape, shape)


def flops(shape):
    dims = normalize_shape(shape).split(":")[0].split("x")
    m, n, k = (int(d) for d in dims)
    return 2.0 * m * n * k


def is_square(shape):
    dims, ops = normalize_shape(shape.split(" ")[0]).split(":")
    return ops == "NN" and len(set(dims.split("x"))) == 1


def elements(shape):
    rows, cols = (int(d) for d in shape.split("x"))
    return rows * cols


def seconds_per_op(metric):
    score, unit = metric["score"], metric["scoreUnit"]
    if unit in TIME_UNITS_TO_SECONDS:
        return score * TIME_UNITS_TO_SECONDS[unit]
    if unit in RATE_UNITS_TO_PER_SECOND:
        return 1.0 / (score * RATE_UNITS_TO_PER_SECOND[unit])
    raise ValueError("unsupported JMH unit: " + unit)


def relative_error(metric):
    err = metric.get("scoreError")
    return abs(err / metric["score"]) if isinstance(err, (int, float)) and metric["score"] else float("nan")


def load(paths):
    """(JMH results grouped by benchmark class, torch_reference.py results)"""
    jmh = {}
    torch = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and data.get("framework") == "pytorch":
            torch.append(data)
            continue
        for result in data:
            cls, method = result["benchmark"].rsplit(".", 2)[1:]
            jmh.setdefault(cls, []).append((method, result))
    return jmh, torch


# Ratio columns of every table printed, for --svg: [(ratio name, [(row label, ratio)])].
CHARTS = []
LABEL_COLUMNS = {"shape (MxNxK:TT)", "threads", "op", "shape (RxC)", "batch"}


HEADING = [""]


def heading(text):
    """Prints a section heading and remembers it as the title of the section's chart."""
    HEADING[0] = text.strip("#\n ").split(" (")[0]
    print(text)


def table(header, rows):
    if "/" in header[-1]:
        bars = []
        for cells in rows:
            try:
                value = float(cells[-1])
            except ValueError:
                continue
            label = " ".join(("t=" + c if h == "threads" else c) for h, c in zip(header, cells) if h in LABEL_COLUMNS)
            bars.append((label, value))
        if bars:
            CHARTS.append((HEADING[0] + ": " + header[-1], bars))
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * len(header)) + "|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    print()


def spread(rel):
    """" ±5%" from a relative error; nothing when JMH gave none (too few iterations)."""
    return "" if rel != rel else " ±%.0f%%" % (100 * rel)


def rate(value, fmt="%.1f"):
    return DASH if value is None else (fmt % value[0]) + spread(value[1])


def ratio(a, b):
    return "%.2f" % (a[0] / b[0]) if a and b and b[0] else DASH


def sync_label(params):
    sync = params.get("sync", "read")
    return "" if sync == "read" else " (sync=%s)" % sync


# ---------------------------------------------------------------- GemmBenchmark (Jacobian CPU vs OpenBLAS)

def report_openblas(results, target):
    rows = {}
    for impl, result in results:
        shape = result["params"]["shape"]
        threads = int(result["params"]["threads"])
        metric = result["primaryMetric"]
        rows.setdefault((shape, threads), {})[impl] = (flops(shape) / seconds_per_op(metric) / 1e9,
                                                       relative_error(metric))
    heading("### GemmBenchmark: Jacobian CPU SGEMM vs OpenBLAS (GFLOP/s)\n")
    lines = []
    failed = []
    for (shape, threads) in sorted(rows, key=lambda key: (key[1], flops(key[0]), key[0])):
        impls = rows[(shape, threads)]
        jac, blas = impls.get("jacobian"), impls.get("openblas")
        lines.append([shape, str(threads), rate(jac), rate(blas), ratio(jac, blas)])
        if jac and blas and target is not None and jac[0] / blas[0] < target:
            failed.append((shape, threads, jac[0] / blas[0]))
    table(["shape (MxNxK:TT)", "threads", "Jacobian GFLOP/s", "OpenBLAS GFLOP/s", "Jacobian/OpenBLAS"], lines)
    for shape, threads, r in failed:
        print("below target %.2f: %s at %d thread(s): %.2f" % (target, shape, threads, r), file=sys.stderr)
    return bool(failed)


# ---------------------------------------------------------------- CPU backend vs OpenCL backend

def per_backend(results, key, scale):
    """{key(params, method): {backend: (value, relative error)}} with value = scale(params, method) / seconds."""
    rows = {}
    for method, result in results:
        params = result["params"]
        metric = result["primaryMetric"]
        value = scale(params, method) / seconds_per_op(metric)
        rows.setdefault(key(params, method), {})[params["backend"]] = (value, relative_error(metric))
    return rows


def report_backend_gemm(results):
    rows = per_backend(results, lambda p, m: normalize_shape(p["shape"]) + sync_label(p),
                       lambda p, m: flops(p["shape"]) / 1e9)
    heading("### ClVsCpuGemmBenchmark: SGEMM through the Backend SPI (GFLOP/s)\n")
    lines = []
    for shape in sorted(rows, key=lambda s: (not is_square(s), flops(s.split(" ")[0]), s)):
        b = rows[shape]
        lines.append([shape, rate(b.get("cpu")), rate(b.get("opencl")), ratio(b.get("cpu"), b.get("opencl"))])
    table(["shape (MxNxK:TT)", "cpu GFLOP/s", "opencl GFLOP/s", "CPU/OpenCL"], lines)


def report_memory_bound(name, results):
    rows = per_backend(results, lambda p, m: (m, p["shape"], sync_label(p)),
                       lambda p, m: float(elements(p["shape"])))
    heading("### %s (G elements/s; effective GB/s in brackets)\n" % name)
    lines = []
    for key in sorted(rows, key=lambda k: (k[0], elements(k[1]), k[2])):
        method, shape, label = key
        b = rows[key]
        cells = [method + label, shape]
        for backend in BACKENDS:
            v = b.get(backend)
            cells.append(DASH if v is None else "%.2f [%.1f]%s" % (
                v[0] / 1e9, v[0] * BYTES_PER_ELEMENT.get(method, float("nan")) / 1e9, spread(v[1])))
        cells.append(ratio(b.get("cpu"), b.get("opencl")))
        lines.append(cells)
    table(["op", "shape (RxC)", "cpu Gelem/s [GB/s]", "opencl Gelem/s [GB/s]", "CPU/OpenCL"], lines)


def per_step(result, counter):
    secondary = result.get("secondaryMetrics", {})
    steps = secondary.get("steps", {}).get("score")
    value = secondary.get(counter, {}).get("score")
    return None if not steps or value is None else value / steps


def report_training(results):
    rows = per_backend(results, lambda p, m: int(p["batch"]), lambda p, m: 1.0)
    heading("### TrainingStepBenchmark: 784-256-128-10 ReLU MLP, softmax CE, SGD momentum 0.9 (steps/s)\n")
    lines = []
    for batch in sorted(rows):
        b = rows[batch]
        cells = [str(batch)]
        for backend in BACKENDS:
            v = b.get(backend)
            cells.append(DASH if v is None else "%.1f%s (%.0f samples/s)" % (v[0], spread(v[1]), v[0] * batch))
        cells.append(ratio(b.get("cpu"), b.get("opencl")))
        lines.append(cells)
    table(["batch", "cpu steps/s", "opencl steps/s", "CPU/OpenCL"], lines)

    print("Host transfers per measured step (from BackendStats):\n")
    lines = []
    for method, result in sorted(results, key=lambda r: (int(r[1]["params"]["batch"]), r[1]["params"]["backend"])):
        p = result["params"]
        counts = [per_step(result, c) for c in ("uploads", "uploadedBytes", "downloads", "downloadedBytes", "allocations")]
        cells = [p["batch"], p["backend"]]
        cells += [DASH if c is None else ("%.0f" % c if abs(c - round(c)) < 1e-6 else "%.2f" % c) for c in counts]
        lines.append(cells)
    table(["batch", "backend", "uploads", "uploaded bytes", "downloads", "downloaded bytes", "new allocations"], lines)


# ---------------------------------------------------------------- Jacobian CPU vs Deeplearning4j (peers build)

def report_dl4j(jmh):
    ours = per_backend(jmh.get("TrainingStepBenchmark", []), lambda p, m: int(p["batch"]), lambda p, m: 1.0)
    peer = {}
    threads = set()
    for method, result in jmh["Dl4jTrainingStepBenchmark"]:
        params = result["params"]
        threads.add(params.get("threads", "?"))
        metric = result["primaryMetric"]
        peer[int(params["batch"])] = (1.0 / seconds_per_op(metric), relative_error(metric))
    heading("### Jacobian CPU vs Deeplearning4j: 784-256-128-10 MLP training step (steps/s; DL4J threads %s)\n"
            % ",".join(sorted(threads)))
    lines = []
    for batch in sorted(set(peer) | set(ours)):
        jac, dl4j = ours.get(batch, {}).get("cpu"), peer.get(batch)
        lines.append([str(batch), rate(jac), rate(dl4j), ratio(jac, dl4j)])
    table(["batch", "Jacobian cpu steps/s", "DL4J steps/s", "Jacobian/DL4J"], lines)


# ---------------------------------------------------------------- Jacobian OpenCL vs PyTorch (GPU machine)

def report_torch(jmh, torch):
    for ref in torch:
        heading("### Jacobian OpenCL vs PyTorch on %s (torch %s, CUDA %s, TF32 %s)\n" % (
            ref.get("device"), ref.get("torch"), ref.get("cuda"), "on" if ref.get("tf32") else "off"))
        ours = per_backend(jmh.get("ClVsCpuGemmBenchmark", []), lambda p, m: normalize_shape(p["shape"]) + sync_label(p),
                           lambda p, m: flops(p["shape"]) / 1e9)
        lines = []
        for g in sorted(ref.get("gemm", []), key=lambda g: (not is_square(g["shape"]), flops(g["shape"]))):
            shape = normalize_shape(g["shape"])
            cl = ours.get(shape, {}).get("opencl")
            cublas = (g["gflops"], 0.0)
            lines.append([shape, rate(cl), "%.1f" % g["gflops"], ratio(cl, cublas)])
        if lines:
            table(["shape (MxNxK:TT)", "Jacobian OpenCL GFLOP/s", "cuBLAS GFLOP/s", "OpenCL/cuBLAS"], lines)
        steps = per_backend(jmh.get("TrainingStepBenchmark", []), lambda p, m: int(p["batch"]), lambda p, m: 1.0)
        lines = []
        for t in sorted(ref.get("train", []), key=lambda t: t["batch"]):
            cl = steps.get(int(t["batch"]), {}).get("opencl")
            pt = (t["steps_per_s"], 0.0)
            lines.append([str(t["batch"]), rate(cl), "%.1f" % t["steps_per_s"], ratio(cl, pt)])
        if lines:
            table(["batch", "Jacobian OpenCL steps/s", "PyTorch eager steps/s", "Jacobian/PyTorch"], lines)


def svg(path):
    """Horizontal bars of every ratio column on a log scale around 1 (dashed: 0.5, the usual target)."""
    row_h, left, width, span = 18, 230, 420, 2.0  # span: decades each side of 1
    height = sum(40 + row_h * len(bars) for _, bars in CHARTS) + 20
    mid = left + width / 2
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (left + width + 80, height), '<rect width="100%" height="100%" fill="white"/>']
    y = 10
    for title, bars in CHARTS:
        out.append('<text x="%d" y="%d" font-weight="bold">%s (log scale, 1 in the middle)</text>' % (10, y + 14, title))
        y += 24
        top = y
        for label, value in bars:
            x = mid + max(-span, min(span, math.log10(value))) / span * (width / 2) if value > 0 else left
            x0, x1 = sorted((mid, x))
            color = "#3a7bd5" if value >= 1 else "#e07b39"
            out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 6, y + 12, html.escape(label)))
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (x0, y + 3, max(x1 - x0, 1), row_h - 6, color))
            out.append('<text x="%.1f" y="%d">%.2f</text>' % (max(x0, x1) + 4, y + 12, value))
            y += row_h
        for ref, dash in ((1.0, ""), (0.5, ' stroke-dasharray="4,3"')):
            xr = mid + math.log10(ref) / span * (width / 2)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"%s/>' % (xr, top, xr, y, dash))
        y += 16
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="JMH JSON result files, torch_reference.py JSON files")
    parser.add_argument("--target", type=float, default=None,
                        help="GemmBenchmark: fail (exit 1) if a Jacobian/OpenBLAS ratio is below this")
    parser.add_argument("--svg", default=None, help="also draw every ratio column as bars into this SVG file")
    args = parser.parse_args()

    jmh, torch = load(args.files)
    if not jmh and not torch:
        print("no benchmark results in " + ", ".join(args.files), file=sys.stderr)
        return 2
    failed = False
    if "GemmBenchmark" in jmh:
        failed = report_openblas(jmh["GemmBenchmark"], args.target)
    if "ClVsCpuGemmBenchmark" in jmh:
        report_backend_gemm(jmh["ClVsCpuGemmBenchmark"])
    for name in ("ElementwiseBenchmark", "ReductionBenchmark"):
        if name in jmh:
            report_memory_bound(name, jmh[name])
    if "TrainingStepBenchmark" in jmh:
        report_training(jmh["TrainingStepBenchmark"])
    if "Dl4jTrainingStepBenchmark" in jmh:
        report_dl4j(jmh)
    if torch:
        report_torch(jmh, torch)
    if args.svg and CHARTS:
        svg(args.svg)
        print("ratios drawn in " + args.svg)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
