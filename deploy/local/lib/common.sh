# Shared shell helpers for deploy/local/up and down: configuration, logging, waiting.
# shellcheck shell=bash

STACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Load stack.env: each NAME=default applies only when NAME is not already set.
load_stack_env() {
  local line name value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    name=${line%%=*}
    value=${line#*=}
    if [ -z "${!name:-}" ]; then
      eval "export $name=\"$value\""
    else
      export "${name?}"
    fi
  done <"$STACK_DIR/stack.env"
  export STACK_RUN_DIR="$STACK_CACHE_DIR/run/$STACK_NAME"
  mkdir -p "$STACK_RUN_DIR"
}

say() { printf '[stack] %s\n' "$*" >&2; }

die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# die_with_log SERVICE LOGFILE MESSAGE: fail naming the service and showing its log tail.
die_with_log() {
  printf '[stack] ERROR: %s: %s\n' "$1" "$3" >&2
  if [ -f "$2" ]; then
    printf '[stack] last lines of %s:\n' "$2" >&2
    tail -n 30 "$2" | sed 's/^/    /' >&2
  fi
  exit 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed. $2"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_healthy SERVICE PIDFILE LOGFILE CHECK...: poll CHECK until it succeeds, the
# process dies, or STACK_START_TIMEOUT passes.
wait_healthy() {
  local service=$1 pidfile=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + STACK_START_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    pid_alive "$pidfile" || die_with_log "$service" "$logfile" "the process exited before it became healthy"
    [ "$SECONDS" -lt "$deadline" ] || die_with_log "$service" "$logfile" "not healthy after ${STACK_START_TIMEOUT}s"
    sleep 1
  done
}

# stop_pid SERVICE PIDFILE: TERM, wait up to 30 s, then KILL.
stop_pid() {
  local service=$1 pidfile=$2 pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "$service stopped"
}
