#!/usr/bin/env python3
"""The epoch benchmark's driver (benchmarks/run-epochs.sh): trains the 784-256-128-10 MLP on the shipped
Fashion-MNIST with `bin/jacobian train --backend cpu`, with numpy and with PyTorch (peers/mlp_train.py), one process
per run, and prints seconds per epoch, the ratios against the peers, epoch 1 against epoch 2, start-up and peak RSS,
with the CPU model, its measured SGEMM peak and what a second thread gave the machine in each round.

Every run trains --epochs epochs of 55,000 samples (lr 0.05, constant rate; the Jacobian run holds 5,000 of the
60,000 out for validation, which runs after each epoch, outside the epoch's time). Timed per run:
- s/epoch: the steps of one epoch (gathering the batches, forward, backward, update, reading the loss back), the
  median over epochs 2..E; for Jacobian from metrics.json (steps x batch / samples per second, whose clock runs
  around the steps only), for the peers their own perf_counter around the epoch's loop;
- start-up: from launching the process to its first step (JVM or interpreter start, imports, reading the data,
  building the model), stamped by this driver when the line that marks it arrives;
- peak RSS: the process's maximum resident set (wait4's ru_maxrss).
Runs go round by round (--rounds), each round every configuration once, so a drift of the machine hits all alike;
figures are the medians over rounds. Peers run their best: OpenBLAS with its right kernel (OPENBLAS_CORETYPE: the
faster, by measured SGEMM peak, of the environment's preset and the one the CPU's flags name, SkylakeX with AVX-512,
Haswell with AVX2), every thread count of --threads, and PyTorch with
OMP_WAIT_POLICY=PASSIVE (its ATen threads and OpenBLAS's otherwise spin against each other); a ratio compares
Jacobian at a thread count against the peer's best over all thread counts.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRAIN = 55000
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def cpu():
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def coretype(flags, env):
    """OpenBLAS's kernel for the peers and its SGEMM peak: the faster, measured, of the environment's preset (a machine
    image may preset one that does not fit the CPU: Haswell on an AVX-512 machine halves OpenBLAS's peak) and the one
    the CPU's flags name; with neither, OpenBLAS's own choice. Returns (coretype or "", peak, {coretype: peak})."""
    candidates = []
    if os.environ.get("OPENBLAS_CORETYPE"):
        candidates.append(os.environ["OPENBLAS_CORETYPE"])
    natural = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else ""
    if natural and natural not in candidates:
        candidates.append(natural)
    if not candidates:
        return "", measure_peak(env), {}
    peaks = {c: measure_peak(dict(env, OPENBLAS_CORETYPE=c)) for c in candidates}
    best = max(peaks, key=peaks.get)
    return best, peaks[best], peaks


def measure_scaling(env):
    """What a second thread gives the machine now: OpenBLAS's 1024^3 SGEMM on 2 threads against 1 (each the best of
    10), 2.0 on two free cores; measured once per round, since a virtual machine's second vCPU is not always a core of
    its own (the step's StepThreads measures the same with TwoCoreProbe)."""
    return measure_peak(env, 2) / measure_peak(env, 1)


def measure_peak(env, threads=1):
    code = ("import numpy as np, time\n"
            "a = np.random.rand(1024, 1024).astype(np.float32); b = a.copy(); a @ b\n"
            "best = 0.0\n"
            "for _ in range(10):\n"
            "    t = time.perf_counter(); a @ b; best = max(best, 2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9)\n"
            "print(f'{best:.1f}')")
    out = subprocess.run([PYTHON, "-c", code], env=dict(env, OPENBLAS_NUM_THREADS=str(threads)), capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip())


def launch(cmd, env, marker):
    """Runs cmd; returns (lines, stamps of lines matching marker relative to launch, ru_maxrss KiB, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines, stamps = [], []
    for line in proc.stdout:
        now = time.monotonic() - start
        lines.append(line.rstrip("\n"))
        if re.search(marker, line):
            stamps.append(now)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return lines, stamps, usage.ru_maxrss, proc.returncode, time.monotonic() - start


def run_jacobian(batch, threads, momentum, epochs, env):
    out = tempfile.mkdtemp(prefix="jacobian-epochs-")
    try:
        cmd = [os.path.join(ROOT, "bin", "jacobian"), "train", "--backend", "cpu", "--batch", str(batch),
               "--momentum", str(momentum), "--epochs", str(epochs), "--schedule", "constant", "--lr", "0.05",
               "--validation", "5000", "--no-progress", "--out", out]
        env = dict(env, JACOBIAN_JAVA_OPTS=(env.get("JACOBIAN_JAVA_OPTS", "") + f" -Djacobian.cpu.threads={threads}")
                   .strip())
        lines, stamps, rss, rc, wall = launch(cmd, env, r"INFO\s+epoch 1/")
        if rc != 0 or not stamps:
            raise SystemExit("jacobian run failed (exit %d):\n%s" % (rc, "\n".join(lines[-30:])))
        with open(os.path.join(out, "metrics.json")) as f:
            metrics = json.load(f)
        recs = metrics["epochs"]
        seconds = [r["steps"] * batch / r["samples_per_second"] for r in recs]
        device = metrics.get("device", "")
        # each epoch's steps in tenths (metrics.json's step_times): where epoch 1's time over epoch 2's goes
        tenths = [r["step_times"]["tenths_ms"] for r in recs if "step_times" in r]
        return dict(epochs=seconds, startup=stamps[0] - recs[0]["seconds"], rss=rss, wall=wall,
                    loss=recs[-1]["train_loss"], note=device, tenths=tenths)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_peer(framework, batch, threads, momentum, epochs, env):
    cmd = [PYTHON, os.path.join(HERE, "mlp_train.py"), "--framework", framework, "--batch", str(batch),
           "--threads", str(threads), "--momentum", str(momentum), "--epochs", str(epochs)]
    env = dict(env, OPENBLAS_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    lines, stamps, rss, rc, wall = launch(cmd, env, r'^\{"ready"')
    if rc != 0 or not stamps:
        raise SystemExit("%s run failed (exit %d):\n%s" % (framework, rc, "\n".join(lines[-30:])))
    recs = [json.loads(x) for x in lines if x.startswith("{")]
    seconds = [r["seconds"] for r in recs if "epoch" in r]
    losses = [r["loss"] for r in recs if "epoch" in r]
    last = recs[-1]
    return dict(epochs=seconds, startup=stamps[0], rss=rss, wall=wall, loss=losses[-1],
                note=" ".join(f"{k} {v}" for k, v in last.items()))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", default="64,128")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--peers", default="jacobian,numpy,torch")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--json", help="write every run here")
    args = p.parse_args()
    batches = [int(x) for x in args.batches.split(",")]
    thread_counts = [int(x) for x in args.threads.split(",")]
    peers = args.peers.split(",")
    model, flags = cpu()
    env = dict(os.environ)
    core, peak, peaks = coretype(flags, env)
    if core:
        env["OPENBLAS_CORETYPE"] = core
    configs = [(peer, b, t, args.momentum) for b in batches for t in thread_counts for peer in peers]
    if "jacobian" in peers and args.momentum != 0:
        # the momentum penalty: plain SGD beside the default run's momentum, at the machine's thread count
        configs += [("jacobian", b, max(thread_counts), 0.0) for b in batches]
    results = {c: [] for c in configs}
    scaling = []
    for r in range(args.rounds):
        if max(thread_counts) > 1:
            scaling.append(measure_scaling(env))
            print(f"# round {r + 1}: a second thread gave OpenBLAS's 1024^3 SGEMM {scaling[-1]:.2f}x", file=sys.stderr,
                  flush=True)
        for c in configs:
            peer, b, t, m = c
            res = (run_jacobian(b, t, m, args.epochs, env) if peer == "jacobian"
                   else run_peer(peer, b, t, m, args.epochs, env))
            results[c].append(res)
            print(f"# round {r + 1}: {peer} batch {b} threads {t} momentum {m}: epochs "
                  + " ".join(f"{s:.3f}" for s in res["epochs"]) + f" s, start-up {res['startup']:.2f} s, "
                  f"peak RSS {res['rss'] / 1024:.0f} MiB, loss {res['loss']:.4f} ({res['note']})", file=sys.stderr,
                  flush=True)

    def med(c, key):
        runs = results[c]
        if key == "epoch":
            return statistics.median(statistics.median(x["epochs"][1:] or x["epochs"]) for x in runs)
        if key == "first":
            return statistics.median(x["epochs"][0] / x["epochs"][1] for x in runs if len(x["epochs"]) > 1)
        if key == "first-tenth":  # the share of epoch 1's excess over epoch 2 that its first tenth of steps holds
            shares = []
            for x in runs:
                t = x.get("tenths", [])
                if len(t) > 1 and len(t[0]) == len(t[1]):
                    excess = sum(t[0]) - sum(t[1])
                    if excess > 0:
                        shares.append((t[0][0] - t[1][0]) / excess)
            return statistics.median(shares) if shares else float("nan")
        return statistics.median(x[key] for x in runs)

    print(f"CPU: {model}, {os.cpu_count()} logical processors, "
          f"{'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'no AVX2'}; "
          f"SGEMM peak {peak:.1f} GFLOP/s (OpenBLAS through numpy, 1 thread, 1024^3, best of 10, "
          f"OPENBLAS_CORETYPE={core or 'auto'}"
          + "".join(f"; {c}: {g:.1f}" for c, g in peaks.items() if c != core) + ")")
    if scaling:
        print(f"A second thread gave the machine {statistics.median(scaling):.2f}x (OpenBLAS's 1024^3 SGEMM on 2 threads "
              f"against 1, before each round: {', '.join(f'{x:.2f}' for x in scaling)}; 2.00 on two free cores)")
    print(f"{args.epochs} epochs of {TRAIN} samples per run, {args.rounds} round(s); medians over rounds\n")
    print("| peer | batch | threads | momentum | s/epoch (epochs 2-%d) | epoch 1 / epoch 2 | start-up s | peak RSS MiB "
          "| last loss |" % args.epochs)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in configs:
        peer, b, t, m = c
        print(f"| {peer} | {b} | {t} | {m:g} | {med(c, 'epoch'):.3f} | "
              + (f"{med(c, 'first'):.2f}" if args.epochs > 1 else "-")
              + f" | {med(c, 'startup'):.2f} | {med(c, 'rss') / 1024:.0f} | {med(c, 'loss'):.4f} |")
    print()
    if "jacobian" in peers:
        for b in batches:
            jac = {t: med(("jacobian", b, t, args.momentum), "epoch") for t in thread_counts}
            for peer, bar in (("torch", 0.7), ("numpy", 0.8)):
                if peer in peers:
                    best = min((med((peer, b, t, args.momentum), "epoch"), t) for t in thread_counts)
                    for t in thread_counts:
                        print(f"- batch {b}: Jacobian {t} thread(s) / {peer} at its best ({best[1]} thread(s)): "
                              f"**{jac[t] / best[0]:.2f}** (bar {bar})")
            if 1 in jac and 2 in jac:
                print(f"- batch {b}: Jacobian 2 threads against 1: **{jac[1] / jac[2]:.2f}x** as fast (bar 1.6 at 128)")
            t = max(thread_counts)
            if args.momentum != 0:
                plain = med(("jacobian", b, t, 0.0), "epoch")
                print(f"- batch {b}, {t} thread(s): momentum {args.momentum:g} / plain SGD: "
                      f"**{jac[t] / plain:.2f}** (bar 1.2)")
            if args.epochs > 1:
                c = ("jacobian", b, t, args.momentum)
                print(f"- batch {b}, {t} thread(s): Jacobian epoch 1 / epoch 2: **{med(c, 'first'):.2f}** (bar 1.2); "
                      f"the first tenth of epoch 1's steps holds {100 * med(c, 'first-tenth'):.0f}% of its excess over "
                      f"epoch 2")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(cpu=model, peak_gflops=peak, coretype=core, coretype_peaks=peaks, epochs=args.epochs,
                           two_thread_scaling=scaling,
                           runs=[dict(peer=c[0], batch=c[1], threads=c[2], momentum=c[3], results=v)
                                 for c, v in results.items()]), f, indent=1)


if __name__ == "__main__":
    main()
