# Apache Cassandra from Maven Central on Java 17: fetch the jars once, start one node per
# loopback address (the first is the seed), wait until each serves CQL and the seed sees it.
# shellcheck shell=bash

cassandra_paths() {
  CASSANDRA_LIB="$SCALE_CACHE_DIR/cassandra/$SCALE_CASSANDRA_VERSION/lib"
}

cassandra_prepare() {
  cassandra_paths
  CASSANDRA_JAVA=$(find_java17) ||
    die "Cassandra $SCALE_CASSANDRA_VERSION needs Java 17, and none was found (JAVA_HOME, PATH, /usr/lib/jvm). Install it with: apt-get install openjdk-17-jre-headless"
  [ -f "$CASSANDRA_LIB/.complete" ] && return 0
  need mvn "Install Maven (apt-get install maven) to fetch Cassandra from Maven Central."
  say "fetching Cassandra $SCALE_CASSANDRA_VERSION jars from Maven Central"
  local log="$SCALE_CACHE_DIR/cassandra/maven.log"
  rm -rf "$CASSANDRA_LIB"
  mkdir -p "$CASSANDRA_LIB"
  mvn -B -q -f "$SCALE_DIR/local/cassandra/pom.xml" -Dcassandra.version="$SCALE_CASSANDRA_VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CASSANDRA_LIB" >"$log" 2>&1 ||
    die_with_log cassandra "$log" "Maven could not fetch the Cassandra jars"
  touch "$CASSANDRA_LIB/.complete"
}

# The JVM flags Cassandra's own jvm17-server.options gives, for running on Java 17.
CASSANDRA_JVM17_FLAGS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
  --add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports=java.sql/java.sql=ALL-UNNAMED
  --add-opens=java.base/java.lang.module=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.math=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
)

cassandra_start_node() {
  local index=$1 address=${CASSANDRA_HOSTS[$1]}
  local name="cassandra-$((index + 1))" dir="$SCALE_RUN_DIR/cassandra-$((index + 1))"
  if pid_alive "$SCALE_RUN_DIR/$name.pid" && port_open "$address" "$SCALE_CASSANDRA_PORT"; then
    say "$name already running"
    return 0
  fi
  require_free "$name" "$address" "$SCALE_CASSANDRA_PORT" "$SCALE_CASSANDRA_STORAGE_PORT"
  mkdir -p "$dir/logs"
  sed -e "s|@ADDRESS@|$address|g" -e "s|@SEED@|${CASSANDRA_HOSTS[0]}|g" -e "s|@DIR@|$dir|g" \
    -e "s|@STORAGE_PORT@|$SCALE_CASSANDRA_STORAGE_PORT|g" -e "s|@NATIVE_PORT@|$SCALE_CASSANDRA_PORT|g" \
    "$SCALE_DIR/local/cassandra/cassandra.yaml.template" >"$dir/cassandra.yaml"
  start_bg "$name" "$SCALE_RUN_DIR/$name.pid" "$dir/logs/stdout.log" \
    nice -n 10 "$CASSANDRA_JAVA" -Xms"$SCALE_CASSANDRA_HEAP" -Xmx"$SCALE_CASSANDRA_HEAP" -Xss512k \
    -XX:+UseG1GC -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$dir" \
    "${CASSANDRA_JVM17_FLAGS[@]}" -javaagent:"$CASSANDRA_LIB/jamm-0.4.0.jar" \
    -Dcassandra.config="file://$dir/cassandra.yaml" -Dcassandra.storagedir="$dir" \
    -Dcassandra.logdir="$dir/logs" -Dlogback.configurationFile="$SCALE_DIR/local/cassandra/logback.xml" \
    -Dcassandra-foreground=yes -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -cp "$CASSANDRA_LIB/*" org.apache.cassandra.service.CassandraDaemon
}

# cassandra_node_ready INDEX: the node serves CQL and (for a non-seed) the seed has seen it up.
cassandra_node_ready() {
  local index=$1 address=${CASSANDRA_HOSTS[$1]}
  port_open "$address" "$SCALE_CASSANDRA_PORT" || return 1
  [ "$index" -eq 0 ] && return 0
  grep -q "/$address:$SCALE_CASSANDRA_STORAGE_PORT is now UP" "$SCALE_RUN_DIR/cassandra-1/logs/system.log"
}

cassandra_start() {
  local index
  for index in "${!CASSANDRA_HOSTS[@]}"; do
    # One node at a time: a node joins the ring only once the seed is up.
    cassandra_start_node "$index"
    wait_healthy "cassandra-$((index + 1))" "$SCALE_RUN_DIR/cassandra-$((index + 1)).pid" \
      "$SCALE_RUN_DIR/cassandra-$((index + 1))/logs/system.log" cassandra_node_ready "$index"
    say "cassandra-$((index + 1)) serving CQL on ${CASSANDRA_HOSTS[$index]}:$SCALE_CASSANDRA_PORT"
  done
}

cassandra_stop() {
  local index
  for index in "${!CASSANDRA_HOSTS[@]}"; do
    stop_pid "cassandra-$((index + 1))" "$SCALE_RUN_DIR/cassandra-$((index + 1)).pid"
  done
}
