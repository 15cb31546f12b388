# Sourced by run.sh and run-backends.sh: where things are, which java runs, and building the jar.
#   here   this folder (benchmarks/)        root  the project root
#   out    benchmarks/target (results)      jar   benchmarks/target/benchmarks.jar
#   java   $JAVA, else java on the PATH
# build_jar MAVEN_ARGS...: runs "mvn -q MAVEN_ARGS... install -DskipTests" from the root when BUILD=1 or the
# jar is missing.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/target"
jar="$out/benchmarks.jar"
java="${JAVA:-java}"

build_jar() {
  if [[ "${BUILD:-0}" == "1" || ! -f "$jar" ]]; then
    (cd "$root" && mvn -q "$@" install -DskipTests)
  fi
}
