#!/usr/bin/env python3
"""The CPU backend's parallel calls per site, from a JDK Flight Recorder file with its thread-pool events
(dev.jacobian.cpu.ParallelCall, one per call; dev.jacobian.cpu.ParallelSite, each site's stack), as StepThreads writes
with -Dprofile=FILE (benchmarks/run-step-threads.sh with PROFILE=true).

Per site (the task body's class, named by the first frames of its stack outside the pool), over the recorded calls:
calls per step, and per call the means of the call's length, of the caller's and the busiest worker's busy time (over
the calls in which every thread worked), of the caller's wait for the last worker after its own tasks, and of the
latency of the first worker to join; the share of the calls in which a thread did no task (the worker came too late
and the caller ran them all); and the step's time that the sites' calls took. Where the caller's and the worker's
busy times differ, the faster one waited for the other.

    parallel_profile.py FILE [STEPS]     # STEPS: the steps the recording holds (per-step figures)
    parallel_profile.py FILE --slices N  # instead: the calls in N equal slices of time, and in how many of them a
                                         # thread did no task (where a run's second thread went missing, and when)
"""
import json
import os
import subprocess
import sys

from jit_phases import iso_duration as seconds, seconds_of


def events(jfr, path):
    text = subprocess.run([jfr, "print", "--json", "--events", "dev.jacobian.cpu.ParallelCall,dev.jacobian.cpu"
                           ".ParallelSite", path], check=True, capture_output=True, text=True).stdout
    return json.loads(text)["recording"]["events"]


def site_name(event):
    """The first two frames of a site event's stack outside dev.jacobian.cpu.Parallel and lambdas."""
    frames = []
    for f in (event["values"].get("stackTrace") or {}).get("frames", []):
        cls = f["method"]["type"]["name"].replace("/", ".")
        name = f["method"]["name"]
        if cls.endswith(".Parallel") or "$$Lambda" in cls or name.startswith("lambda$"):
            continue
        frames.append(f"{cls.rsplit('.', 1)[-1]}.{name}:{f.get('lineNumber', '?')}")
        if len(frames) == 2:
            break
    return " < ".join(frames)


def slices(calls, n):
    """The calls (start s, a thread idle) in n equal slices of the recording's time."""
    calls.sort()
    first, last = calls[0][0], calls[-1][0]
    width = max(1e-9, (last - first) / n)
    print(f"parallel calls in {n} slices of {width:.2f} s, and the calls a thread did no task in")
    print("| from s | calls | a thread idle |")
    print("|---|---|---|")
    for k in range(n):
        inside = [idle for t, idle in calls if k == min(n - 1, int((t - first) / width))]
        if inside:
            print(f"| {k * width:.2f} | {len(inside)} | {100 * sum(inside) / len(inside):.1f}% |")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    path = sys.argv[1]
    java_home = os.environ.get("JAVA_HOME", "")
    jfr = os.path.join(java_home, "bin", "jfr") if java_home else "jfr"
    if len(sys.argv) > 3 and sys.argv[2] == "--slices":
        slices([(seconds_of(e["values"]["startTime"]), e["values"]["worked"] < e["values"]["threads"])
                for e in events(jfr, path) if e["type"] == "dev.jacobian.cpu.ParallelCall"], int(sys.argv[3]))
        return
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    names, sites = {}, {}
    for e in events(jfr, path):
        v = e["values"]
        if e["type"] == "dev.jacobian.cpu.ParallelSite":
            names[v["site"]] = site_name(e)
            continue
        s = sites.setdefault(v["site"], dict(calls=0, length=0.0, caller=0.0, worker=0.0, wait=0.0, join=0.0,
                                             joins=0, short=0))
        s["calls"] += 1
        s["length"] += seconds(v["duration"])
        s["wait"] += seconds(v["callerWait"])
        if seconds(v["joinLatency"]) > 0:
            s["join"] += seconds(v["joinLatency"])
            s["joins"] += 1
        if v["worked"] < v["threads"]:
            s["short"] += 1
        else:  # the busy times of the calls that every thread worked in: how evenly the work split
            s["caller"] += seconds(v["callerBusy"])
            s["worker"] += seconds(v["workerBusy"])
    if not sites:
        raise SystemExit(f"{path} holds no dev.jacobian.cpu.ParallelCall events")
    total = sum(s["length"] for s in sites.values())
    print(f"parallel calls per site ({sum(s['calls'] for s in sites.values())} calls"
          + (f", {steps} steps" if steps else "") + "); per call, means in us: the call; the caller's and the busiest "
          "worker's busy time in the calls every thread worked in; the caller's wait after its tasks; the first "
          "join's latency; the calls a thread did no task in; the site's share of the calls' time")
    print("| site | calls/step | call us | caller busy | worker busy | caller wait | join | a thread idle | share |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, s in sorted(sites.items(), key=lambda kv: -kv[1]["length"]):
        n = s["calls"]
        per_step = f"{n / steps:.2f}" if steps else "-"
        full = max(1, n - s["short"])
        print(f"| {names.get(key, key.rsplit('.', 1)[-1])} | {per_step} | {1e6 * s['length'] / n:.1f} "
              f"| {1e6 * s['caller'] / full:.1f} | {1e6 * s['worker'] / full:.1f} | {1e6 * s['wait'] / n:.1f} "
              f"| {1e6 * s['join'] / max(1, s['joins']):.1f} | {100 * s['short'] / n:.1f}% "
              f"| {100 * s['length'] / total:.0f}% |")
    if steps:
        print(f"the calls took {1e6 * total / steps:.0f} us per step")


if __name__ == "__main__":
    main()
