#!/usr/bin/env python3
"""The JIT warm-up's effect (benchmarks/run-warmup.sh): `bin/jacobian train --backend cpu` with its JIT warm-up
(the default) and with --no-warm-up, in alternating pairs (the order flips every round, so a drift of the machine hits
both alike), and prints per variant the medians over rounds of:
- epoch 1, 2 and 3 (seconds of steps, metrics.json) and epoch 1 / epoch 2, epoch 1 / epoch 3;
- start-up: launch to the first step (this driver's clock at the "epoch 1/" log line, less epoch 1's seconds);
- launch to the end of epoch 2 (this driver's clock at the "epoch 2/" line): what the warm-up costs before the first
  step and saves in the epochs, together;
- the phases "load data" and "JIT warm-up (waiting)" (metrics.json);
and the ratios of warm-up against none, with the CPU model and its measured SGEMM peak (mlp_peers.py's). Needs
/usr/bin/python3 with numpy for the peak. Nothing else may run meanwhile.
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile

from mlp_peers import ROOT, coretype, cpu, launch

VARIANTS = {"warm-up": [], "none": ["--no-warm-up"]}


def run(variant, batch, threads, epochs):
    out = tempfile.mkdtemp(prefix="jacobian-warmup-")
    try:
        cmd = [os.path.join(ROOT, "bin", "jacobian"), "train", "--backend", "cpu", "--batch", str(batch),
               "--epochs", str(epochs), "--schedule", "constant", "--lr", "0.05", "--validation", "5000",
               "--no-progress", "--out", out] + VARIANTS[variant]
        env = dict(os.environ, JACOBIAN_JAVA_OPTS=(os.environ.get("JACOBIAN_JAVA_OPTS", "")
                                                   + f" -Djacobian.cpu.threads={threads}").strip())
        lines, stamps, _, rc, _ = launch(cmd, env, r"INFO\s+epoch [12]/")
        if rc != 0 or len(stamps) < 2:
            raise SystemExit("run failed (exit %d):\n%s" % (rc, "\n".join(lines[-30:])))
        with open(os.path.join(out, "metrics.json")) as f:
            m = json.load(f)
        s = [e["seconds"] for e in m["epochs"]]
        return dict(e1=s[0], e2=s[1], e3=s[2], e1_e2=s[0] / s[1], e1_e3=s[0] / s[2], startup=stamps[0] - s[0],
                    to_e2=stamps[1], load=m["phases"]["load data"], wait=m["phases"].get("JIT warm-up (waiting)", 0.0))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3, help="at least 3")
    args = p.parse_args()
    if args.epochs < 3:
        raise SystemExit("--epochs must be at least 3")
    res = {v: [] for v in VARIANTS}
    for r in range(args.rounds):
        order = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
        for v in order:
            res[v].append(run(v, args.batch, args.threads, args.epochs))
            print(f"# round {r + 1} {v}: " + " ".join(f"{k} {x:.3f}" for k, x in res[v][-1].items()), flush=True)
    model, flags = cpu()
    core, peak, _ = coretype(flags, dict(os.environ))
    print(f"\nCPU: {model}, {os.cpu_count()} logical processors; SGEMM peak {peak:.1f} GFLOP/s (OpenBLAS through numpy, "
          f"1 thread, 1024^3, best of 10, OPENBLAS_CORETYPE={core or 'auto'}); batch {args.batch}, "
          f"{args.threads} thread(s), {args.rounds} round(s), medians\n")
    keys = ["e1", "e2", "e3", "e1_e2", "e1_e3", "startup", "to_e2", "load", "wait"]
    print("| variant | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    med = {v: {k: statistics.median(x[k] for x in res[v]) for k in keys} for v in VARIANTS}
    for v in VARIANTS:
        print(f"| {v} | " + " | ".join(f"{med[v][k]:.3f}" for k in keys) + " |")
    w, n = med["warm-up"], med["none"]
    print(f"\n- epoch 1, warm-up against none: **{w['e1'] / n['e1']:.2f}x**; epoch 1 / epoch 2: {w['e1_e2']:.2f} "
          f"against {n['e1_e2']:.2f} (bar 1.2)")
    print(f"- start-up (launch to first step): {w['startup'] / n['startup']:.2f}x; launch to the end of epoch 2: "
          f"**{w['to_e2'] / n['to_e2']:.2f}x**")


if __name__ == "__main__":
    main()
