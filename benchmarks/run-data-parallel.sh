#!/usr/bin/env bash
# Data-parallel scaling on one machine (DataParallelBenchmark): the 784-256-128-10 MLP's training step on 1 and 2
# CPU backends of one thread each, and the plain Trainer on one backend of 1 and of 2 threads (workers=0), in one
# JMH run; then the table:
# steps/s, samples/s, the step's parallel and serial parts, strong-scaling efficiency (same global batch on 2
# workers), weak-scaling efficiency (2 workers on twice the batch) and the exchange's price (1 worker against the
# plain Trainer). Prints the CPU model and the measured SGEMM peak beside it. Time with nothing else running.
#
#   benchmarks/run-data-parallel.sh                      # build if needed; batches 128, 256, 512
#   BUILD=1 JMH_OPTS="-wi 5 -w 1 -i 10 -r 1 -f 1" benchmarks/run-data-parallel.sh
#
# Results: benchmarks/target/data-parallel.json (JMH JSON) and data-parallel-report.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
jmh_opts="${JMH_OPTS:--wi 3 -w 1 -i 5 -r 1 -f 1}"
params="${PARAMS:--p workers=0,1,2 -p batch=128,256,512}"
build_jar -pl benchmarks -am
json="$out/data-parallel.json"
# shellcheck disable=SC2086
"$java" -jar "$jar" '\.DataParallelBenchmark\.' $params $jmh_opts -rf json -rff "$out/dp-1.json" > "$out/data-parallel-run.log" 2>&1
if [[ -z "${PARAMS:-}" ]]; then  # the other peer: one replica whose GEMMs use both threads
  # shellcheck disable=SC2086
  "$java" -jar "$jar" '\.DataParallelBenchmark\.' -p workers=0 -p threads=2 -p batch=128,256,512 $jmh_opts \
      -rf json -rff "$out/dp-2.json" >> "$out/data-parallel-run.log" 2>&1
fi
python3 -c 'import json, sys; print(json.dumps(sum((json.load(open(f)) for f in sys.argv[1:]), [])))' "$out"/dp-[12].json \
    > "$json" 2>/dev/null || cp "$out/dp-1.json" "$json"
rm -f "$out/dp-2.json"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1), family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) CPUs"
pick_coretype 2>/dev/null
peak="${PEAK:-$(measure_peak 2>/dev/null || echo '?')}"
python3 - "$json" "$cpu" "$peak" <<'PY' | tee "$out/data-parallel-report.md"
import json, sys
runs = json.load(open(sys.argv[1]))
rows = {}
for r in runs:
    p = r["params"]
    w, b, t = int(p["workers"]), int(p["batch"]), int(p.get("threads", 1))
    if t != 1:
        w = -t  # the plain Trainer on a backend of t threads
    sec = r["secondaryMetrics"]
    steps = sec.get("steps", {}).get("score", 0) or 1
    rows[(w, b)] = dict(score=r["primaryMetric"]["score"], err=r["primaryMetric"]["scoreError"],
                        par=sec.get("parallelMicros", {}).get("score", 0) / steps,
                        ser=sec.get("serialMicros", {}).get("score", 0) / steps)
print(f"Machine: {sys.argv[2]}; measured SGEMM peak (OpenBLAS, 1 thread, 1024^3): {sys.argv[3]} GFLOP/s\n")
print("| workers | global batch | steps/s | samples/s | parallel part µs/step | serial part µs/step |")
print("| --- | --- | --- | --- | --- | --- |")
for (w, b), v in sorted(rows.items()):
    name = "Trainer (1 thread)" if w == 0 else f"Trainer ({-w} threads)" if w < 0 else f"{w} × 1 thread"
    print(f"| {name} | {b} | {v['score']:.1f} ± {v['err']:.1f} | {v['score'] * b:.0f} | "
          + (f"{v['par']:.0f} | {v['ser']:.0f} |" if w > 0 else "— | — |"))
print()
for (w, b), v in sorted(rows.items()):
    if w == 2 and (-2, b) in rows:
        print(f"- batch {b}: 2 replicas run at {v['score'] / rows[(-2, b)]['score']:.2f}x one replica of 2 threads")
    if w == 2 and (1, b) in rows:
        print(f"- strong scaling, global batch {b}: efficiency {v['score'] / (2 * rows[(1, b)]['score']):.2f}")
    if w == 2 and (1, b // 2) in rows:
        e = v['score'] * b / (2 * rows[(1, b // 2)]['score'] * (b // 2))
        print(f"- weak scaling, {b // 2} per worker: efficiency {e:.2f}")
    if w == 1 and (0, b) in rows:
        print(f"- exchange price, batch {b}: 1 worker runs at {v['score'] / rows[(0, b)]['score']:.2f}x the plain Trainer")
PY
