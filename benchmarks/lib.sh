# Sourced by run.sh and run-backends.sh: where things are, which java runs, and building the jar.
#   here   this folder (benchmarks/)        root  the project root
#   out    benchmarks/target (results)      jar   benchmarks/target/benchmarks.jar
#   java   $JAVA, else the JDK 21+ that bin/find-jdk.sh finds (JAVA_HOME, PATH, /usr/lib/jvm)
# measure_peak: the machine's SGEMM peak; pick_coretype: OpenBLAS's right kernel; machine_header: both in a report's
# first lines (see below).
# build_jar MAVEN_ARGS...: runs "./mvnw -q MAVEN_ARGS... install -DskipTests" from the root (with that JDK)
# when BUILD=1, when the jar is missing, or when a source or pom of the modules it holds is newer than the jar (a jar
# left from before an edit would time the old code); BUILD=0 never rebuilds an existing jar. build_old_jar REV SRC...:
# an older commit's jar (the compare-*.sh scripts).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/target"
jar="$out/benchmarks.jar"
# shellcheck source=bin/find-jdk.sh
. "$root/bin/find-jdk.sh"
jacobian_find_jdk
java="${JAVA:-$JAVA_HOME/bin/java}"

build_jar() {
  if [[ "${BUILD:-}" == "1" || ! -f "$jar" ]] || { [[ "${BUILD:-}" != "0" ]] && jar_is_stale; }; then
    (cd "$root" && ./mvnw -q -B -ntp "$@" install -DskipTests)
  fi
}

# jar_is_stale: whether a main source, resource or pom of the modules in benchmarks.jar is newer than the jar.
jar_is_stale() {
  local m dirs=("$root/pom.xml")
  for m in core cpu-backend gpu-backend kernels benchmarks; do
    [[ -d "$root/$m" ]] && dirs+=("$root/$m/src/main" "$root/$m/pom.xml")
  done
  [[ -n "$(find "${dirs[@]}" -newer "$jar" -type f -print -quit 2>/dev/null)" ]]
}

# pick_coretype: exports OPENBLAS_CORETYPE as OpenBLAS's fastest kernel here, for peers must run their best: Debian's
# OpenBLAS 0.3.21 picks slow generic kernels on newer Intel CPUs, and an image may preset a narrower one (one such preset
# Haswell on an AVX-512 Zen 5, whose SkylakeX kernels ran twice as fast). The candidates are a preset
# OPENBLAS_CORETYPE and the kernel the CPU's flags name (SkylakeX with AVX-512, Haswell with AVX2); with numpy each
# candidate's peak is measured (measure_peak) and the faster kept, its peak in PEAK for machine_header.
# CORETYPE=NAME forces one without measuring.
pick_coretype() {
  local flags candidates=() best="" best_peak=0 c p
  if [[ -n "${CORETYPE:-}" ]]; then export OPENBLAS_CORETYPE="$CORETYPE"; return 0; fi
  flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
  [[ -n "${OPENBLAS_CORETYPE:-}" ]] && candidates+=("$OPENBLAS_CORETYPE")
  if [[ "$flags" == *avx512f* ]]; then candidates+=(SkylakeX); elif [[ "$flags" == *avx2* ]]; then candidates+=(Haswell); fi
  if [[ ${#candidates[@]} -gt 1 && "${candidates[0]}" != "${candidates[1]}" ]] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    for c in "${candidates[@]}"; do
      p="$(OPENBLAS_CORETYPE="$c" measure_peak)"
      echo "OpenBLAS's $c kernels: $p GFLOP/s (1 thread, 1024^3)" >&2
      if awk -v a="$p" -v b="$best_peak" 'BEGIN { exit !(a > b) }'; then best="$c"; best_peak="$p"; fi
    done
    export OPENBLAS_CORETYPE="$best" PEAK="$best_peak"
  elif [[ ${#candidates[@]} -gt 0 ]]; then
    export OPENBLAS_CORETYPE="${candidates[-1]}"
  fi
  return 0
}

# machine_header: the two lines a report starts with: the CPU model, and its SGEMM peak with OpenBLAS's kernel (when
# /usr/bin/python3 has numpy); call pick_coretype first.
machine_header() {
  echo "CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) logical processors"
  if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    echo "SGEMM peak: ${PEAK:-$(measure_peak)} GFLOP/s (OpenBLAS through numpy, 1 thread, 1024^3, best of 5 one-second rounds," \
         "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
  fi
}

# measure_peak: prints this machine's SGEMM peak in GFLOP/s (OpenBLAS, 1 thread, 1024^3, best of 5 one-second rounds,
# through numpy), the figure every benchmark report prints beside its ratios.
measure_peak() {
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -c '
import numpy as np, time
a = np.random.rand(1024, 1024).astype(np.float32); b = a.copy(); a @ b
best = 0.0
for _ in range(5):
    t = time.perf_counter(); n = 0
    while time.perf_counter() - t < 1: a @ b; n += 1
    best = max(best, 2 * 1024 ** 3 * n / (time.perf_counter() - t) / 1e9)
print(f"{best:.1f}")'
}

# build_old_jar REV SRC...: builds the benchmarks jar of commit REV in a temporary git worktree (removed when the script
# exits), after copying in from the working tree each benchmark source SRC (a path from the root) that REV lacks (it
# must compile against REV's API); sets old_jar to that jar's copy in $out (benchmarks-old.jar).
build_old_jar() {
  local rev="$1" src
  shift
  old_tree="$(mktemp -d)"
  trap 'git -C "$root" worktree remove --force "$old_tree" >/dev/null 2>&1 || true' EXIT
  git -C "$root" worktree add --detach "$old_tree" "$rev" >/dev/null
  for src in "$@"; do
    [[ -f "$old_tree/$src" ]] || cp "$root/$src" "$old_tree/$src"
  done
  (cd "$old_tree" && ./mvnw -q -B -ntp -pl benchmarks -am package -DskipTests -Dmaven.javadoc.skip)
  old_jar="$out/benchmarks-old.jar"
  cp "$old_tree/benchmarks/target/benchmarks.jar" "$old_jar"
}
