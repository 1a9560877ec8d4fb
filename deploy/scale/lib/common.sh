# Shared helpers for deploy/scale/local-up and local-down. The generic ones (say, die, need,
# pid_alive, wait_healthy, stop_pid) and the Jaeger build come from the local stack's lib.
# shellcheck shell=bash

SCALE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../../local/lib/common.sh
. "$SCALE_DIR/../local/lib/common.sh"
# shellcheck source=../../local/lib/jaeger.sh
. "$SCALE_DIR/../local/lib/jaeger.sh"
# shellcheck source=../../local/lib/neo4j.sh
. "$SCALE_DIR/../local/lib/neo4j.sh" # find_java17

# Load scale.env (each NAME=default applies only when NAME is not already set), then the
# local stack's settings for the Jaeger build; wait_healthy's bound becomes SCALE_START_TIMEOUT.
load_scale_env() {
  local line name value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    name=${line%%=*}
    value=${line#*=}
    if [ -z "${!name:-}" ]; then
      eval "export $name=$value"
    else
      export "${name?}"
    fi
  done <"$SCALE_DIR/scale.env"
  load_stack_env
  export STACK_START_TIMEOUT=$SCALE_START_TIMEOUT
  export SCALE_RUN_DIR="$SCALE_CACHE_DIR/run/$SCALE_NAME"
  mkdir -p "$SCALE_RUN_DIR"
  read -r -a CASSANDRA_HOSTS <<<"$SCALE_CASSANDRA_NODES"
  read -r -a GATEWAY_HOSTS <<<"$SCALE_GATEWAY_HOSTS"
  read -r -a SAMPLER_HOSTS <<<"$SCALE_SAMPLER_HOSTS"
  # The YAML lists the shared configs read through ${env:...}.
  export CASSANDRA_SERVERS="[$(join_by ', ' "${CASSANDRA_HOSTS[@]/%/:$SCALE_CASSANDRA_PORT}")]"
  export SCALE_SAMPLER_ENDPOINTS="[$(join_by ', ' "${SAMPLER_HOSTS[@]/%/:4317}")]"
  export JAEGER_CONFIG_DIR="$SCALE_DIR/config"
}

join_by() {
  local separator=$1 first=$2
  shift 2 || return 0
  printf '%s' "$first" "${@/#/$separator}"
}

# port_free HOST PORT: nothing listens there yet (so we never talk to someone else's server).
port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# require_free NAME HOST PORT...: fail before starting anything if a port is taken.
require_free() {
  local name=$1 host=$2 port
  shift 2
  for port in "$@"; do
    port_free "$host" "$port" || die "$name: $host:$port is already in use (another process listens there; run deploy/scale/local-down or change scale.env)"
  done
}

# start_bg NAME PIDFILE LOGFILE COMMAND...: start in the background, PID recorded.
start_bg() {
  local name=$1 pidfile=$2 logfile=$3
  shift 3
  nohup "$@" >"$logfile" 2>&1 &
  echo $! >"$pidfile"
  say "$name started (pid $(cat "$pidfile"), log $logfile)"
}

http_ok() { curl -fsS --max-time 3 "$1" >/dev/null; }
