#!/usr/bin/env bash
# Runs every OpenCL kernel of the backend under Oclgrind (an OpenCL simulator that checks each memory access) on
# small sizes, and fails when Oclgrind reports anything (a data race, an out-of-bounds access, an uninitialized
# value, an invalid API call, a fatal error), when a result differs from the reference backend's, or when a
# __kernel declared in kernels/src/main/resources/dev/jacobian/kernels/*.cl never ran. The workloads are
# gpu-backend's OclgrindDriver (test sources): every primitive; every GEMM tile configuration in the four
# transposes (their tuning variants, prefetch and float4 local reads, in two), split K and the fused GEMM variants; both reduction stages; each softmax/loss work-group size; two
# steps of a small training loop. Usage: benchmarks/oclgrind.sh (about 2.5 minutes on 2 cores). Needs a JDK 21+
# (found as bin/test finds it), the Debian/Ubuntu package `oclgrind`, perl, and the project's Maven dependencies
# in the local repository (any earlier build of the project put them there).
#
# Three Oclgrind runs, the last two side by side when there are 2+ cores:
#   canary  one deliberately broken kernel: each check must fire, else a clean run would prove nothing
#   races   --data-races --check-api, kernels optimized as drivers build them: every group, every tile size
#   uninit  --uninitialized --check-api at -cl-opt-disable (Oclgrind 21.10's uninitialized check aborts on LLVM's
#           `freeze`, which optimized kernels contain; fixed upstream by jrprice/Oclgrind#220, after 21.10); at
#           -O0 a 128 x 128 GEMM tile takes minutes, so only tiles up to UNINIT_MAX_TILE rows (default 16), and
#           no training group (there Oclgrind reports reads of pooled buffers that a kernel has just written in
#           full; the races run covers it)
# Environment: OUT_DIR (default benchmarks/target/oclgrind), UNINIT_MAX_TILE, MVN_ARGS (e.g. -o, offline),
# M2_REPO (default ~/.m2/repository), SKIP_BUILD=1 (use the classes already compiled), SERIAL=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bin/find-jdk.sh
. "$root/bin/find-jdk.sh"
jacobian_find_jdk
if ! command -v oclgrind >/dev/null 2>&1; then
  echo "oclgrind.sh: needs Oclgrind on PATH (apt-get install oclgrind)" >&2
  exit 1
fi

out="${OUT_DIR:-$root/benchmarks/target/oclgrind}"
mkdir -p "$out"
rm -f "$out"/*.out "$out"/*.rc
start=$(date +%s)

# 1. the classes (the driver is a test source of gpu-backend; its dependencies come from the local repository)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ "$(jacobian_java_major "$JAVA_HOME")" -ge 24 ] 2>/dev/null; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
  fi
  # shellcheck disable=SC2086
  ./mvnw -B -ntp -q ${MVN_ARGS:-} -pl gpu-backend -am test-compile
fi
m2="${M2_REPO:-$HOME/.m2/repository}"
version() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$root/pom.xml" | head -n 1; }
jocl=$(version jocl.version)
slf4j=$(version slf4j.version)
cp="$root/core/target/classes:$root/kernels/target/classes:$root/gpu-backend/target/classes"
cp="$cp:$root/gpu-backend/target/test-classes"
for jar in "$m2/org/jocl/jocl/$jocl/jocl-$jocl.jar" "$m2/org/slf4j/slf4j-api/$slf4j/slf4j-api-$slf4j.jar" \
           "$m2/org/slf4j/slf4j-simple/$slf4j/slf4j-simple-$slf4j.jar"; do
  [ -f "$jar" ] || { echo "oclgrind.sh: $jar is missing (build once with ./mvnw, or set M2_REPO)" >&2; exit 1; }
  cp="$cp:$jar"
done
[ -f "$root/gpu-backend/target/test-classes/dev/jacobian/opencl/OclgrindDriver.class" ] \
  || { echo "oclgrind.sh: OclgrindDriver is not compiled (run without SKIP_BUILD)" >&2; exit 1; }

# 2. the kernels the sources declare: `__kernel [__attribute__((...))] void name(`, and kernels declared through a
#    macro whose body starts with __kernel (softmax_loss.cl's ROW_KERNEL(name)); comments and #-lines ignored
declared=$(perl -0777 -ne '
  s{/\*.*?\*/}{}gs; s{//[^\n]*}{}g;
  my %macro;
  $macro{$1} = 1 while /^[ \t]*#[ \t]*define[ \t]+(\w+)\([^)]*\)[ \t]*__kernel\b/mg;
  s/^[ \t]*#.*$//mg;
  print "$1\n" while /__kernel\s+(?:__attribute__\s*\(\(.*?\)\)\s*)?void\s+(\w+)\s*\(/gs;
  for my $m (keys %macro) { print "$1\n" while /\b\Q$m\E\s*\(\s*(\w+)\s*\)/g; }
' "$root"/kernels/src/main/resources/dev/jacobian/kernels/*.cl | sort -u)
[ -n "$declared" ] || { echo "oclgrind.sh: found no __kernel in kernels/src/main/resources" >&2; exit 1; }

# 3. the runs, each into NAME.out: the driver's lines, Oclgrind's reports (on stderr; not --log, which every new
#    OpenCL context truncates, and the driver opens one per GEMM tile configuration), and the instruction counts
#    (--inst-counts) that name every kernel run
java_cmd=(java --enable-native-access=ALL-UNNAMED -Xmx1g -Djacobian.opencl.cache=off -cp "$cp" dev.jacobian.opencl.OclgrindDriver)
run() { # NAME OCLGRIND_FLAGS... -- DRIVER_ARGS...
  local name=$1 flags=()
  shift
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  local t0 rc=0
  t0=$(date +%s)
  oclgrind "${flags[@]}" --inst-counts "${java_cmd[@]}" "$@" >"$out/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$out/$name.rc"
  echo "oclgrind.sh: $name run finished in $(($(date +%s) - t0)) s (exit status $rc)"
}
launched() { sed -n "s/^Instructions executed for kernel '\(.*\)':\$/\1/p" "$1"; }
# Oclgrind's reports: every kernel diagnostic has a tab-indented "Kernel: name" line under its headline (a race, an
# invalid access, an uninitialized value, a work-group divergence, a fatal error); API errors, fatal errors and
# Oclgrind's own notes have headlines of their own
report_pattern=$'^\tKernel: |Oclgrind - OpenCL runtime error detected|OCLGRIND FATAL ERROR|^Oclgrind: |^\\[Oclgrind\\]'
reports() { grep -E -c "$report_pattern" "$1" || true; }
# headline and kernel of each kernel diagnostic, counted
report_kinds() {
  awk '/^[^[:space:]]/ { head = $0; sub(/ (at|to|from) .*/, "", head) } /^\tKernel: / { print head " in " $2 }' "$1" \
    | sort | uniq -c | sort -rn
}
# the reports themselves: the lines that are neither the driver's, nor instruction counts, nor the JVM's
report_text() {
  grep -v -E -e '^oclgrind-driver: |^Instructions executed for kernel |^ +[0-9]+ - ' -e '^\[main\] INFO |^[[:space:]]*$' \
    "$1" || true
}

run canary --data-races --uninitialized --check-api --build-options -cl-opt-disable -- --canary
missing_checks=()
kinds=$(report_kinds "$out/canary.out")
grep -q 'data race in oclgrind_canary' <<<"$kinds" || missing_checks+=("data race")
grep -q 'Invalid read of size 4 in oclgrind_canary' <<<"$kinds" || missing_checks+=("out-of-bounds read")
grep -q 'Uninitialized value .* in oclgrind_canary' <<<"$kinds" || missing_checks+=("uninitialized value")
grep -q 'Oclgrind - OpenCL runtime error detected' "$out/canary.out" || missing_checks+=("API error")
launched "$out/canary.out" | grep -qx oclgrind_canary || missing_checks+=("instruction counts (kernel names)")
if [ "${#missing_checks[@]}" -gt 0 ]; then
  echo "oclgrind.sh: FAILED: on the canary kernel, Oclgrind reported no: ${missing_checks[*]}" >&2
  echo "(see $out/canary.out); its checks or its report format changed, so a clean run would prove nothing" >&2
  head -n 80 "$out/canary.out" >&2
  exit 1
fi
echo "oclgrind.sh: canary: Oclgrind reports races, out-of-bounds reads, uninitialized values and API errors"

# 48 KiB of local memory, as NVIDIA GPUs have (Oclgrind's default is 32 KiB): the deeper 128 x 128 GEMM variant needs 33
limits=(--local-mem-size 49152)
uninit_args=(--skip=training "--max-tile=${UNINIT_MAX_TILE:-16}")
if [ "${SERIAL:-0}" = 1 ] || [ "$(nproc 2>/dev/null || echo 1)" -lt 2 ]; then
  run races --data-races --check-api "${limits[@]}" --
  run uninit --uninitialized --check-api "${limits[@]}" --build-options -cl-opt-disable -- "${uninit_args[@]}"
else
  run races --data-races --check-api "${limits[@]}" -- &
  races_pid=$!
  run uninit --uninitialized --check-api "${limits[@]}" --build-options -cl-opt-disable -- "${uninit_args[@]}" &
  uninit_pid=$!
  wait "$races_pid" || true
  wait "$uninit_pid" || true
fi

# 4. the verdict
failed=0
for name in races uninit; do
  o="$out/$name.out"
  rc=$(cat "$out/$name.rc")
  echo
  echo "=== $name run"
  grep '^oclgrind-driver: ' "$o" | grep -v -e '^oclgrind-driver: FAILED' -e 'training step' || true
  if ! grep -q '^oclgrind-driver: device .*Oclgrind' "$o"; then
    echo "oclgrind.sh: FAILED: the $name run did not run on Oclgrind's device" >&2
    failed=1
  fi
  n=$(reports "$o")
  if [ "$n" != 0 ]; then
    echo "oclgrind.sh: FAILED: Oclgrind reported $n problems in the $name run; by kind and kernel:" >&2
    report_kinds "$o" >&2
    echo "the first reports (all of them in $o):" >&2
    report_text "$o" | head -n 80 >&2
    failed=1
  fi
  if [ "$rc" != 0 ]; then
    echo "oclgrind.sh: FAILED: the driver exited with status $rc in the $name run:" >&2
    grep '^oclgrind-driver: FAILED' "$o" | head -n 40 >&2 || true
    [ "$n" != 0 ] || report_text "$o" | tail -n 40 >&2
    failed=1
  fi
  launched "$o" | sort | uniq -c | awk '{ print $2, $1 }' >"$out/$name.kernels"
  never=$(comm -23 <(echo "$declared") <(cut -d' ' -f1 "$out/$name.kernels"))
  if [ -n "$never" ]; then
    echo "oclgrind.sh: FAILED: declared in kernels/src/main/resources/dev/jacobian/kernels/*.cl but never launched" \
      "in the $name run (give OclgrindDriver a workload that launches it):" $never >&2
    failed=1
  fi
done

echo
echo "kernels declared in the .cl sources, and how often each ran under Oclgrind:"
printf '  %-28s %6s %6s\n' kernel races uninit
while read -r k; do
  printf '  %-28s %6s %6s\n' "$k" "$(awk -v k="$k" '$1 == k { print $2 }' "$out/races.kernels")" \
    "$(awk -v k="$k" '$1 == k { print $2 }' "$out/uninit.kernels")"
done <<<"$declared"
echo "oclgrind.sh: $(wc -l <<<"$declared") kernels; $(($(date +%s) - start)) s in all; output in $out"
if [ "$failed" != 0 ]; then
  echo "oclgrind.sh: FAILED" >&2
  exit 1
fi
echo "oclgrind.sh: OK: no data race, out-of-bounds access, uninitialized value or API error; every kernel ran"
