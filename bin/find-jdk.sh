# Sourced by bin/test and bin/jacobian: sets JAVA_HOME to a JDK >= 21 or explains what is missing.
# Order: $JAVA_HOME, the `java` on PATH, then JDKs installed under /usr/lib/jvm and /opt.
jacobian_java_major() {
  # the JDK's release file when it has one (no JVM to start: every launch asks), else the JVM itself
  local v=""
  [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$1/release" | head -n 1)
  v=${v#1.}
  if [ -n "$v" ] && [ -x "$1/bin/java" ]; then
    echo "${v%%.*}"
    return
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1
}
jacobian_find_jdk() {
  local candidates=() c major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    major=$(jacobian_java_major "$c")
    major=${major#1.}
    if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "Jacobian needs a JDK 21 or newer (with javac); none was found in JAVA_HOME, on PATH, or under /usr/lib/jvm." >&2
  echo "Install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin 21+) or point JAVA_HOME at it." >&2
  return 1
}
