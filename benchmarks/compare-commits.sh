#!/usr/bin/env bash
# Regression check: TrainingStepBenchmark on the CPU backend for an older commit and the working tree, run
# back to back and interleaved (old, new, old, new, ...) with the same JMH settings, so that both see the
# same machine state; prints steps/s per batch size for each and the new/old ratio.
#
#   benchmarks/compare-commits.sh OLD_REV                  # e.g. the commit before a refactor
#   ROUNDS=3 BATCHES=64,128 benchmarks/compare-commits.sh HEAD~5
#   JMH_OPTS="-wi 5 -w 1 -i 8 -r 1 -f 1" benchmarks/compare-commits.sh OLD_REV
#
# The old commit is checked out in a temporary git worktree and built there (its benchmarks.jar must have
# TrainingStepBenchmark). Nothing else should run meanwhile: `nice` does not protect a timing here.
# Results: benchmarks/target/compare-<old|new>-<round>.json and compare-report.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
old_rev="${1:?usage: compare-commits.sh OLD_REV}"
rounds="${ROUNDS:-2}"
batches="${BATCHES:-64,128}"
jmh_opts="${JMH_OPTS:--wi 3 -w 1 -i 5 -r 1 -f 1}"

build_jar -pl benchmarks -am
old_tree="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$old_tree" >/dev/null 2>&1 || true' EXIT
git -C "$root" worktree add --detach "$old_tree" "$old_rev" >/dev/null
(cd "$old_tree" && ./mvnw -q -B -ntp -pl benchmarks -am package -DskipTests)
old_jar="$out/benchmarks-old.jar"
cp "$old_tree/benchmarks/target/benchmarks.jar" "$old_jar"

files=()
for r in $(seq 1 "$rounds"); do
  for which in old new; do
    j="$jar"; [[ "$which" == old ]] && j="$old_jar"
    json="$out/compare-$which-$r.json"
    echo "== round $r: $which"
    "$java" -jar "$j" "\\.TrainingStepBenchmark\\.step" -p backend=cpu -p batch="$batches" $jmh_opts \
        -rf json -rff "$json" | grep -E "^TrainingStepBenchmark\.step " || true
    files+=("$json")
  done
done
python3 - "$old_rev" "${files[@]}" <<'PY' | tee "$out/compare-report.md"
import json, sys, collections
old_rev, files = sys.argv[1], sys.argv[2:]
runs = collections.defaultdict(list)   # (which, batch) -> [score]
errs = collections.defaultdict(list)
for f in files:
    which = "old" if "compare-old-" in f else "new"
    for b in json.load(open(f)):
        if b["benchmark"].endswith(".step"):
            key = (which, int(b["params"]["batch"]))
            runs[key].append(b["primaryMetric"]["score"])
            errs[key].append(b["primaryMetric"]["scoreError"])
print(f"| batch | {old_rev} steps/s | working tree steps/s | new / old |")
print("| --- | --- | --- | --- |")
for batch in sorted({k[1] for k in runs}):
    o, n = runs[("old", batch)], runs[("new", batch)]
    mo, mn = sum(o) / len(o), sum(n) / len(n)
    fo = ", ".join(f"{v:.0f}±{e:.0f}" for v, e in zip(o, errs[("old", batch)]))
    fn = ", ".join(f"{v:.0f}±{e:.0f}" for v, e in zip(n, errs[("new", batch)]))
    print(f"| {batch} | {mo:.0f} ({fo}) | {mn:.0f} ({fn}) | {mn / mo:.3f} |")
PY
