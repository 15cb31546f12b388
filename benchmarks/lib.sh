# Sourced by run.sh and run-backends.sh: where things are, which java runs, and building the jar.
#   here   this folder (benchmarks/)        root  the project root
#   out    benchmarks/target (results)      jar   benchmarks/target/benchmarks.jar
#   java   $JAVA, else the JDK 21+ that bin/find-jdk.sh finds (JAVA_HOME, PATH, /usr/lib/jvm)
# build_jar MAVEN_ARGS...: runs "./mvnw -q MAVEN_ARGS... install -DskipTests" from the root (with that JDK)
# when BUILD=1 or the jar is missing.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/target"
jar="$out/benchmarks.jar"
# shellcheck source=bin/find-jdk.sh
. "$root/bin/find-jdk.sh"
jacobian_find_jdk
java="${JAVA:-$JAVA_HOME/bin/java}"

build_jar() {
  if [[ "${BUILD:-0}" == "1" || ! -f "$jar" ]]; then
    (cd "$root" && ./mvnw -q -B -ntp "$@" install -DskipTests)
  fi
}
