# Neo4j Community from Maven Central on Java 17: fetch jars once, start, wait for RETURN 1.
# shellcheck shell=bash

neo4j_paths() {
  NEO4J_LIB="$STACK_CACHE_DIR/neo4j/$STACK_NEO4J_VERSION/lib"
  NEO4J_RUN_DIR="$STACK_RUN_DIR/neo4j"
  NEO4J_PID="$STACK_RUN_DIR/neo4j.pid"
  NEO4J_LOG="$STACK_RUN_DIR/neo4j.log"
  STACK_TOOLS_VENV="$STACK_CACHE_DIR/tools-venv"
}

# find_java17: print a java 17 binary (JAVA_HOME, PATH, then /usr/lib/jvm).
find_java17() {
  local candidate
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null)" /usr/lib/jvm/*17*/bin/java; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -version 2>&1 | head -n 1 | grep -Eq 'version "17[."]'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

neo4j_prepare() {
  neo4j_paths
  NEO4J_JAVA=$(find_java17) ||
    die "Neo4j $STACK_NEO4J_VERSION needs Java 17, and none was found (JAVA_HOME, PATH, /usr/lib/jvm). Install it with: apt-get install openjdk-17-jre-headless"
  if [ ! -f "$NEO4J_LIB/.complete" ]; then
    need mvn "Install Maven (apt-get install maven) to fetch Neo4j from Maven Central."
    say "fetching Neo4j $STACK_NEO4J_VERSION jars from Maven Central"
    rm -rf "$NEO4J_LIB"
    mkdir -p "$NEO4J_LIB"
    mvn -B -q -f "$STACK_DIR/neo4j/pom.xml" -Dneo4j.version="$STACK_NEO4J_VERSION" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$NEO4J_LIB" >"$STACK_CACHE_DIR/neo4j/maven.log" 2>&1 ||
      die_with_log neo4j "$STACK_CACHE_DIR/neo4j/maven.log" "Maven could not fetch the Neo4j jars"
    touch "$NEO4J_LIB/.complete"
  fi
  if [ ! -f "$STACK_TOOLS_VENV/.complete-$STACK_NEO4J_PYTHON_DRIVER" ]; then
    need python3 "Install Python 3.10 or newer."
    python3 -m venv "$STACK_TOOLS_VENV" && "$STACK_TOOLS_VENV/bin/pip" install -q "$STACK_NEO4J_PYTHON_DRIVER" ||
      die "could not install the Neo4j Python driver ($STACK_NEO4J_PYTHON_DRIVER) used for the health check"
    touch "$STACK_TOOLS_VENV/.complete-$STACK_NEO4J_PYTHON_DRIVER"
  fi
}

neo4j_healthy() {
  "$STACK_TOOLS_VENV/bin/python" "$STACK_DIR/lib/neo4j_ready.py" 0
}

neo4j_start() {
  neo4j_paths
  if pid_alive "$NEO4J_PID" && neo4j_healthy; then
    say "neo4j already running"
    return 0
  fi
  mkdir -p "$NEO4J_RUN_DIR/conf"
  sed -e "s|@STACK_NEO4J_BOLT_PORT@|$STACK_NEO4J_BOLT_PORT|g" \
    -e "s|@STACK_NEO4J_PAGECACHE@|$STACK_NEO4J_PAGECACHE|g" \
    -e "s|@NEO4J_RUN_DIR@|$NEO4J_RUN_DIR|g" \
    "$STACK_DIR/neo4j/neo4j.conf.template" >"$NEO4J_RUN_DIR/conf/neo4j.conf"
  nohup "$NEO4J_JAVA" -Xms256m -Xmx"$STACK_NEO4J_HEAP" -XX:+UseSerialGC \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true \
    -cp "$NEO4J_LIB/*" org.neo4j.server.CommunityEntryPoint \
    --home-dir="$NEO4J_RUN_DIR" --config-dir="$NEO4J_RUN_DIR/conf" >"$NEO4J_LOG" 2>&1 &
  echo $! >"$NEO4J_PID"
}

neo4j_wait() {
  neo4j_paths
  local deadline=$((SECONDS + STACK_START_TIMEOUT))
  local rc=0
  until "$STACK_TOOLS_VENV/bin/python" "$STACK_DIR/lib/neo4j_ready.py" 2 >>"$NEO4J_LOG" 2>&1; do
    rc=$?
    [ "$rc" -ne 2 ] || die_with_log neo4j "$NEO4J_LOG" "the password check failed"
    pid_alive "$NEO4J_PID" || die_with_log neo4j "$NEO4J_RUN_DIR/logs/neo4j.log" "the process exited before it became healthy (see also $NEO4J_LOG)"
    [ "$SECONDS" -lt "$deadline" ] || die_with_log neo4j "$NEO4J_RUN_DIR/logs/neo4j.log" "RETURN 1 over Bolt did not succeed within ${STACK_START_TIMEOUT}s"
  done
  say "neo4j healthy: bolt://127.0.0.1:$STACK_NEO4J_BOLT_PORT (user $STACK_NEO4J_USER, authentication on)"
}

neo4j_stop() {
  neo4j_paths
  stop_pid neo4j "$NEO4J_PID"
}
