#!/usr/bin/env bash
# Regression check: TrainingStepBenchmark on the CPU backend (or BENCH, a Class.method with PARAMS) for an older
# commit and the working tree, run back to back and interleaved (old, new, old, new, ...) with the same JMH
# settings, so that both see the same machine state; prints the score per batch size for each and the new/old ratio.
#
#   benchmarks/compare-commits.sh OLD_REV                  # e.g. the commit before a refactor
#   ROUNDS=3 BATCHES=64,128 benchmarks/compare-commits.sh HEAD~5
#   JMH_OPTS="-wi 5 -w 1 -i 8 -r 1 -f 1" benchmarks/compare-commits.sh OLD_REV
#   BENCH=StepEnqueueBenchmark.enqueue PARAMS="-p batch=128" benchmarks/compare-commits.sh OLD_REV   # host us/step
#
# The old commit is checked out in a temporary git worktree and built there; a benchmark class it lacks is
# copied into it from the working tree (it must compile against the old API). Nothing else should run
# meanwhile: `nice` does not protect a timing here.
# Results: benchmarks/target/compare-<old|new>-<round>.json and compare-report.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
old_rev="${1:?usage: compare-commits.sh OLD_REV}"
rounds="${ROUNDS:-2}"
batches="${BATCHES:-64,128}"
jmh_opts="${JMH_OPTS:--wi 3 -w 1 -i 5 -r 1 -f 1}"
bench="${BENCH:-TrainingStepBenchmark.step}"
params="${PARAMS:--p backend=cpu -p batch=$batches}"
bench_class="${bench%%.*}"

# the working tree's jar is always rebuilt: a jar left from before an edit would compare the old code with itself
BUILD=1 build_jar -pl benchmarks -am
build_old_jar "$old_rev" "benchmarks/src/main/java/dev/jacobian/bench/$bench_class.java"

files=()
for r in $(seq 1 "$rounds"); do
  for which in old new; do
    j="$jar"; [[ "$which" == old ]] && j="$old_jar"
    json="$out/compare-$which-$r.json"
    echo "== round $r: $which"
    # shellcheck disable=SC2086
    "$java" -jar "$j" "\\.${bench//./\\.}\$" $params $jmh_opts \
        -rf json -rff "$json" | grep -E "^${bench//./\\.} " || true
    files+=("$json")
  done
done
pick_coretype   # for the peak printed beside the ratios
machine_header | tee "$out/compare-report.md"
python3 - "$old_rev" "$bench" "${files[@]}" <<'PY' | tee -a "$out/compare-report.md"
import json, sys, collections
old_rev, bench, files = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = collections.defaultdict(list)   # (which, batch) -> [score]
errs = collections.defaultdict(list)
for f in files:
    which = "old" if "compare-old-" in f else "new"
    for b in json.load(open(f)):
        if b["benchmark"].endswith("." + bench.split(".")[-1]):
            p = b["params"]
            key = (which, int(p["batch"]) if "batch" in p else " ".join(f"{k}={v}" for k, v in sorted(p.items())))
            runs[key].append(b["primaryMetric"]["score"])
            errs[key].append(b["primaryMetric"]["scoreError"])
first = json.load(open(files[0]))
if not first:
    sys.exit(f"compare-commits: {files[0]} holds no result: the benchmark failed (its output is above)")
unit = first[0]["primaryMetric"]["scoreUnit"]
print(f"| batch or params | {old_rev} {unit} | working tree {unit} | new / old |")
print("| --- | --- | --- | --- |")
for batch in sorted({k[1] for k in runs}, key=str):
    o, n = runs[("old", batch)], runs[("new", batch)]
    mo, mn = sum(o) / len(o), sum(n) / len(n)
    err = lambda e: f"{e:.0f}" if isinstance(e, (int, float)) else str(e)  # JMH writes "NaN" below 3 iterations
    fo = ", ".join(f"{v:.0f}±{err(e)}" for v, e in zip(o, errs[("old", batch)]))
    fn = ", ".join(f"{v:.0f}±{err(e)}" for v, e in zip(n, errs[("new", batch)]))
    print(f"| {batch} | {mo:.0f} ({fo}) | {mn:.0f} ({fn}) | {mn / mo:.3f} |")
PY
