#!/usr/bin/env python3
"""Where the JIT compiles during `bin/jacobian train --backend cpu` (benchmarks/run-jit-phases.sh): each run records
the JVM's compilations (a JFR recording of jdk.Compilation with no threshold: every compile, its compiler, level,
start and length) and logs with millisecond UTC stamps (a logback configuration of its own, with the training run's
DEBUG lines: the end of the JIT warm-up, each checkpoint), and prints per phase of the run

- start-up: launch to the end of the JIT warm-up (the data loading and checkpoint 0 beside it);
- epoch k: from checkpoint k-1 (for epoch 1, the end of the start-up) to checkpoint k (the epoch's steps, its
  validation and its checkpoint);

how many C2 compiles started in it and their length summed (the compiler thread's CPU time), those of the project's
own methods (dev.jacobian.*) and how many of them compiled a method that C2 had not compiled before in the run, the
C2 time spent on the Vector API's own methods (jdk.incubator.vector.*, jdk.internal.vm.vector.*: its Java fallbacks,
which run while a kernel is not compiled by C2 yet) and the C1 time; then epoch 1's longest C2 compiles, and the
epochs' seconds from metrics.json. Extra JVM options (JACOBIAN_JAVA_OPTS) are kept, so variants can be compared.
On two vCPUs, compiling takes a core from the step: the C2 time of a phase against its length says how much.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile

from mlp_peers import ROOT

VECTOR = ("jdk.incubator.vector.", "jdk.internal.vm.vector.")


def seconds_of(stamp):
    """Seconds since midnight of an ISO stamp in UTC (JFR's) or of HH:MM:SS.mmm (the log's, in UTC too)."""
    m = re.search(r"(\d+):(\d+):(\d+(?:\.\d+)?)", stamp.split("T")[-1])
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def iso_duration(d):
    """Seconds of an ISO-8601 duration as JFR writes it (PT0.000113357S, PT1M2.5S)."""
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", d)
    if not m:
        return 0.0
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def logback(tmp):
    """A copy of the command line's logback configuration with millisecond UTC stamps and the run's DEBUG lines."""
    with open(os.path.join(ROOT, "samples", "src", "main", "resources", "logback.xml")) as f:
        xml = f.read()
    xml = xml.replace("%d{HH:mm:ss}", "%d{HH:mm:ss.SSS, UTC}")
    xml = xml.replace('<logger name="dev.jacobian.samples" level="INFO"/>',
                      '<logger name="dev.jacobian.samples" level="INFO"/>\n'
                      '  <logger name="dev.jacobian.samples.training.TrainingRun" level="DEBUG"/>')
    path = os.path.join(tmp, "logback.xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


def compilations(jfr, recording):
    """The recording's compiles: (start s of day UTC, seconds, "pkg.Class.method", level, osr)."""
    text = subprocess.run([jfr, "print", "--json", "--events", "jdk.Compilation", recording], check=True,
                          capture_output=True, text=True).stdout
    events = []
    for e in json.loads(text)["recording"]["events"]:
        v = e["values"]
        method = v["method"]["type"]["name"].replace("/", ".") + "." + v["method"]["name"]
        events.append((seconds_of(v["startTime"]), iso_duration(v["duration"]), method, v["compileLevel"],
                       v["isOsr"]))
    return sorted(events)


def run(args, tmp, jfr):
    out = os.path.join(tmp, "run")
    recording = os.path.join(tmp, "compiles.jfr")
    shutil.rmtree(out, ignore_errors=True)
    opts = " ".join(x for x in (os.environ.get("JACOBIAN_JAVA_OPTS", ""), f"-Djacobian.cpu.threads={args.threads}",
                                f"-Dlogback.configurationFile={logback(tmp)}",
                                f"-XX:StartFlightRecording:filename={recording},jdk.Compilation#threshold=0ms") if x)
    cmd = [os.path.join(ROOT, "bin", "jacobian"), "train", "--backend", "cpu", "--batch", str(args.batch),
           "--epochs", str(args.epochs), "--no-progress", "--out", out] + args.train_args
    p = subprocess.run(cmd, env=dict(os.environ, JACOBIAN_JAVA_OPTS=opts), capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("run failed (exit %d):\n%s" % (p.returncode, (p.stdout + p.stderr)[-3000:]))
    marks = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(\d\d:\d\d:\d\d\.\d+) ", line)
        if not m:
            continue
        t = seconds_of(m.group(1))
        if "JIT warm-up done" in line:
            marks.setdefault("warm-up", t)
        c = re.search(r"checkpoint \S*checkpoint-epoch-(\d+)\.json", line)
        if c:
            marks[int(c.group(1))] = t
    with open(os.path.join(out, "metrics.json")) as f:
        epochs = [e["seconds"] for e in json.load(f)["epochs"]]
    events = compilations(jfr, recording)
    if 0 not in marks or not events:
        raise SystemExit("the run's log lacks checkpoint 0 (or the recording is empty):\n" + p.stdout[-3000:])
    # the run writes checkpoint 0 while the warm-up ends on its thread, then waits for it: epoch 1 starts at the later
    first = max(marks[0], marks.get("warm-up", marks[0]))
    bounds = [("start-up", events[0][0], first)]
    bounds += [(f"epoch {k}", first if k == 1 else marks[k - 1], marks[k]) for k in range(1, args.epochs + 1)
               if k in marks]
    return bounds, events, epochs


def summarize(bounds, events):
    rows, seen = [], set()  # seen: the project's methods C2 compiled in an earlier phase
    for name, a, z in bounds:
        inside = [e for e in events if a <= e[0] < z]
        c2 = [e for e in inside if e[3] == 4]
        own = [e for e in c2 if e[2].startswith("dev.jacobian.")]
        first = 0
        for e in own:
            first += e[2] not in seen
            seen.add(e[2])
        rows.append(dict(phase=name, seconds=z - a, c2=len(c2), c2_ms=1e3 * sum(e[1] for e in c2), own=len(own),
                         own_ms=1e3 * sum(e[1] for e in own), own_first=first,
                         vector_ms=1e3 * sum(e[1] for e in c2 if e[2].startswith(VECTOR)),
                         c1_ms=1e3 * sum(e[1] for e in inside if e[3] < 4)))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--top", type=int, default=12, help="epoch 1's longest C2 compiles to list")
    p.add_argument("--show", default="", help="a regular expression: list every C2 compile of the methods it matches, "
                   "with its phase")
    p.add_argument("train_args", nargs="*", help="more options for bin/jacobian train (after --)")
    args = p.parse_args()
    java_home = os.environ.get("JAVA_HOME", "")
    jfr = os.path.join(java_home, "bin", "jfr") if java_home else "jfr"
    print(f"bin/jacobian train --backend cpu --batch {args.batch} --epochs {args.epochs}, {args.threads} thread(s)"
          + (f", JACOBIAN_JAVA_OPTS={os.environ['JACOBIAN_JAVA_OPTS']}" if os.environ.get("JACOBIAN_JAVA_OPTS") else "")
          + (" " + " ".join(args.train_args) if args.train_args else ""))
    per_phase = {}
    tmp = tempfile.mkdtemp(prefix="jacobian-jit-")
    try:
        for r in range(args.runs):
            bounds, events, epochs = run(args, tmp, jfr)
            rows = summarize(bounds, events)
            print(f"\n## run {r + 1}: epochs (s of steps, metrics.json) " + " ".join(f"{s:.3f}" for s in epochs)
                  + (f"; epoch 1 / epoch 2 {epochs[0] / epochs[1]:.2f}" if len(epochs) > 1 else ""))
            print("| phase | length s | C2 compiles | C2 ms | dev.jacobian C2 (first time) | their ms "
                  "| Vector API C2 ms | C1 ms |")
            print("|---|---|---|---|---|---|---|---|")
            for x in rows:
                print(f"| {x['phase']} | {x['seconds']:.3f} | {x['c2']} | {x['c2_ms']:.0f} | {x['own']} "
                      f"({x['own_first']}) | {x['own_ms']:.0f} | {x['vector_ms']:.0f} | {x['c1_ms']:.0f} |")
                per_phase.setdefault(x["phase"], []).append(x)
            e1 = next((b for b in bounds if b[0] == "epoch 1"), None)
            if e1 and args.top > 0:
                longest = sorted((e for e in events if e1[1] <= e[0] < e1[2] and e[3] == 4), key=lambda e: -e[1])
                print(f"\nepoch 1's longest C2 compiles (s into the phase, ms, method):")
                for e in longest[:args.top]:
                    print(f"  {e[0] - e1[1]:6.3f} {1e3 * e[1]:6.1f} {'OSR ' if e[4] else ''}{e[2]}")
            if args.show:
                print(f"\nC2 compiles of methods matching {args.show!r} (phase, s into it, ms, method):")
                for e in events:
                    if e[3] == 4 and re.search(args.show, e[2]):
                        name, a, _ = next((b for b in bounds if b[1] <= e[0] < b[2]), ("after", bounds[-1][2], 0))
                        print(f"  {name:12s} {e[0] - a:6.3f} {1e3 * e[1]:6.1f} {'OSR ' if e[4] else ''}{e[2]}")
        if args.runs > 1:
            print(f"\n## medians over {args.runs} runs")
            print("| phase | length s | C2 ms | dev.jacobian C2 (first time) | Vector API C2 ms | C1 ms |")
            print("|---|---|---|---|---|---|")
            for phase, xs in per_phase.items():
                med = {k: statistics.median(x[k] for x in xs) for k in xs[0] if k != "phase"}
                print(f"| {phase} | {med['seconds']:.3f} | {med['c2_ms']:.0f} | {med['own']:.0f} "
                      f"({med['own_first']:.0f}) | {med['vector_ms']:.0f} | {med['c1_ms']:.0f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
