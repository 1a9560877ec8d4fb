# Redis from Debian's packages: install once, start on loopback, wait for PING.
# shellcheck shell=bash

redis_paths() {
  REDIS_PID="$STACK_RUN_DIR/redis.pid"
  REDIS_LOG="$STACK_RUN_DIR/redis.log"
}

redis_prepare() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "redis-server is not installed and apt-get is unavailable: install Redis 7 (redis-server, redis-cli) by hand."
  [ "$(id -u)" = 0 ] || die "redis-server is not installed: run 'sudo apt-get install redis-server' (this script installs it only as root)."
  say "installing redis-server from Debian's packages"
  local log="$STACK_CACHE_DIR/apt.log"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server; } >"$log" 2>&1 ||
    die_with_log redis "$log" "apt-get could not install redis-server"
}

redis_healthy() {
  timeout 3 redis-cli -h 127.0.0.1 -p "$STACK_REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

redis_start() {
  redis_paths
  if pid_alive "$REDIS_PID" && redis_healthy; then
    say "redis already running"
    return 0
  fi
  # Debian's policy-rc.d blocks the package's own service, so we start it ourselves.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$STACK_REDIS_PORT" --save '' --appendonly no \
    --dir "$STACK_RUN_DIR" --logfile "$REDIS_LOG" --pidfile "$REDIS_PID" ||
    die_with_log redis "$REDIS_LOG" "redis-server did not start"
  local i
  for i in $(seq 50); do [ -f "$REDIS_PID" ] && break; sleep 0.1; done
}

redis_wait() {
  redis_paths
  wait_healthy redis "$REDIS_PID" "$REDIS_LOG" redis_healthy
  say "redis healthy: 127.0.0.1:$STACK_REDIS_PORT"
}

redis_stop() {
  redis_paths
  stop_pid redis "$REDIS_PID"
}
