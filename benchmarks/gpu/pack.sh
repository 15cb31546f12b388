#!/usr/bin/env bash
# Builds .gpucheck/ in the project root: everything benchmarks/gpu/run-on-device.sh needs on a bare NVIDIA
# machine (no JDK, no Maven, no network, maybe no OpenCL ICD loader). Run HERE, on the CPU machine:
#
#     bash benchmarks/gpu/pack.sh
#
# then the device tool's run with   carry: [".gpucheck"]   timeout_s: 600   command: bash .gpucheck/run.sh
#
# The bundle (about 25 MB) holds: benchmarks.jar (the shaded JMH jar: core, kernels, both backends, JOCL), the
# core and gpu-backend test classes and JUnit's console launcher (the OpenCL suite runs on the GPU), a jlinked
# Java runtime packed with xz (tracked files plus bundle must stay under the 64 MiB the tool carries), Debian's
# ocl-icd loader and clinfo (unpacked here, so the device needs no dpkg), the cltrace counter, and the scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
out=.gpucheck
grep -qxF "/$out/" .git/info/exclude 2>/dev/null || echo "/$out/" >> .git/info/exclude
rm -rf "$out" && mkdir -p "$out/lib" "$out/ocl" "$out/trace"
# shellcheck source=bin/find-jdk.sh
. bin/find-jdk.sh
jacobian_find_jdk
J=$JAVA_HOME

# 1. the project, built here
./mvnw -B -q -ntp -pl benchmarks -am install -DskipTests
cp benchmarks/target/benchmarks.jar "$out/lib/"
cp core/target/jacobian-core-*-tests.jar "$out/lib/core-tests.jar"
./mvnw -B -q -ntp -pl gpu-backend test-compile
"$J/bin/jar" cf "$out/lib/gpu-backend-tests.jar" -C gpu-backend/target/test-classes .
m2=${M2_REPO:-$HOME/.m2/repository}
junit=$m2/org/junit/platform/junit-platform-console-standalone/1.11.3/junit-platform-console-standalone-1.11.3.jar
[ -f "$junit" ] || ./mvnw -B -q -ntp dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.3
cp "$junit" "$out/lib/junit-console.jar"

# 2. a Java runtime: jlink uncompressed, then xz (python's tarfile unpacks it where tar lacks xz)
tmp=$(mktemp -d)
"$J/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.management,jdk.management,java.logging,jdk.unsupported,java.xml,java.naming,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$tmp/jre" 2>&1 | grep -v 'incubator' || true
tar cJf "$out/jre.txz" -C "$tmp" jre
rm -rf "$tmp"

# 3. the OpenCL ICD loader (ocl-icd reads OCL_ICD_VENDORS) and clinfo
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download ocl-icd-libopencl1 clinfo >/dev/null && for d in *.deb; do dpkg -x "$d" x; done)
cp -L "$tmp"/x/usr/lib/x86_64-linux-gnu/libOpenCL.so.1 "$out/ocl/"
ln -sf libOpenCL.so.1 "$out/ocl/libOpenCL.so"
cp "$tmp"/x/usr/bin/clinfo "$out/ocl/"
rm -rf "$tmp"

# 4. the OpenCL call counter (../shared/device/tools): a stand-in libOpenCL.so that forwards to the carried loader,
# for run.sh's per-kernel trace of one step (StepTrace); skipped where the shared kit or gcc is missing
tools=$root/../shared/device/tools
if [ -f "$tools/cltrace.c" ] && command -v gcc >/dev/null; then
  gcc -O2 -shared -fPIC -o "$out/trace/libOpenCL.so" -Wl,-soname,libOpenCL.so "$tools/cltrace.c" \
      -L"$out/ocl" -Wl,--no-as-needed -l:libOpenCL.so.1 -ldl
  cp "$tools/cltrace_report.py" "$out/trace/"
fi

# 5. the scripts
cp "$here/run-on-device.sh" "$out/run.sh"
du -sh "$out"
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
bundle=$(du -sb "$out" | cut -f1)
echo "tracked files $((tracked / 1048576)) MiB + bundle $((bundle / 1048576)) MiB = $(((tracked + bundle) / 1048576)) MiB of 64"
echo "ready: run with carry [\".gpucheck\"], timeout_s 600 and command: bash .gpucheck/run.sh"
