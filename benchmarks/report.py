#!/usr/bin/env python3
"""Turn JMH JSON results (-rf json) of GemmBenchmark into a table of GFLOP/s and Jacobian/OpenBLAS ratios.

Usage: python3 benchmarks/report.py [--target 0.5] [--markdown] results.json [more.json ...]

Shapes are "MxNxK:TT" (C is [M, N], inner dimension K, T/N = A and B used transposed or as stored);
one product costs 2*M*N*K floating-point operations. With --target, the exit status is 1 when any
Jacobian/OpenBLAS ratio is below the target. Standard library only.
"""
import argparse
import json
import sys

TIME_UNITS_TO_SECONDS = {"ns/op": 1e-9, "us/op": 1e-6, "ms/op": 1e-3, "s/op": 1.0}
RATE_UNITS_TO_PER_SECOND = {"ops/ns": 1e9, "ops/us": 1e6, "ops/ms": 1e3, "ops/s": 1.0}


def flops(shape):
    dims = shape.split(":")[0].split("x")
    m, n, k = (int(d) for d in dims)
    return 2.0 * m * n * k


def seconds_per_op(metric):
    score, unit = metric["score"], metric["scoreUnit"]
    if unit in TIME_UNITS_TO_SECONDS:
        return score * TIME_UNITS_TO_SECONDS[unit]
    if unit in RATE_UNITS_TO_PER_SECOND:
        return 1.0 / (score * RATE_UNITS_TO_PER_SECOND[unit])
    raise ValueError("unsupported JMH unit: " + unit)


def load(paths):
    """{(shape, threads): {impl: (gflops, relative error)}}"""
    rows = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for result in json.load(f):
                if ".GemmBenchmark." not in result["benchmark"]:
                    continue
                impl = result["benchmark"].rsplit(".", 1)[1]
                shape = result["params"]["shape"]
                threads = int(result["params"]["threads"])
                metric = result["primaryMetric"]
                sec = seconds_per_op(metric)
                err = metric.get("scoreError")
                rel = abs(err / metric["score"]) if isinstance(err, (int, float)) and metric["score"] else float("nan")
                rows.setdefault((shape, threads), {})[impl] = (flops(shape) / sec / 1e9, rel)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="JMH JSON result files")
    parser.add_argument("--target", type=float, default=None, help="fail (exit 1) if a ratio is below this")
    args = parser.parse_args()

    rows = load(args.files)
    if not rows:
        print("no GemmBenchmark results in " + ", ".join(args.files), file=sys.stderr)
        return 2
    header = ["shape (MxNxK:TT)", "threads", "Jacobian GFLOP/s", "OpenBLAS GFLOP/s", "Jacobian/OpenBLAS"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * len(header)) + "|")
    failed = []
    for (shape, threads) in sorted(rows, key=lambda key: (key[1], flops(key[0]), key[0])):
        impls = rows[(shape, threads)]
        jac = impls.get("jacobian")
        blas = impls.get("openblas")
        cells = [shape, str(threads)]
        for value in (jac, blas):
            cells.append("—" if value is None else "%.1f ±%.0f%%" % (value[0], 100 * value[1]))
        if jac and blas:
            ratio = jac[0] / blas[0]
            cells.append("%.2f" % ratio)
            if args.target is not None and ratio < args.target:
                failed.append((shape, threads, ratio))
        else:
            cells.append("—")
        print("| " + " | ".join(cells) + " |")
    if failed:
        for shape, threads, ratio in failed:
            print("below target %.2f: %s at %d thread(s): %.2f" % (args.target, shape, threads, ratio), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
