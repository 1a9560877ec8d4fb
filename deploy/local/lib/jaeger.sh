# Jaeger v2: build once per pinned version, validate the config, start, wait for /status.
# shellcheck shell=bash

JAEGER_MODULE=github.com/jaegertracing/jaeger

jaeger_paths() {
  JAEGER_BIN="$STACK_CACHE_DIR/jaeger/$STACK_JAEGER_MODULE_VERSION/jaeger"
  JAEGER_PID="$STACK_RUN_DIR/jaeger.pid"
  JAEGER_LOG="$STACK_RUN_DIR/jaeger.log"
  JAEGER_CONFIG="$STACK_DIR/jaeger.yaml"
}

jaeger_prepare() {
  jaeger_paths
  [ -x "$JAEGER_BIN" ] && return 0
  need go "Install Go 1.24 or newer (https://go.dev/doc/install, or Debian's golang package) and re-run."
  say "building Jaeger $STACK_JAEGER_RELEASE ($JAEGER_MODULE@$STACK_JAEGER_MODULE_VERSION); a cold build takes several minutes"
  # The module has a replace directive, so `go install pkg@version` refuses it: build
  # inside the module cache, where the module is the main module and its directives apply.
  local src build_log="$STACK_CACHE_DIR/jaeger/build.log"
  mkdir -p "$(dirname "$JAEGER_BIN")"
  GOFLAGS=-mod=mod go mod download "$JAEGER_MODULE@$STACK_JAEGER_MODULE_VERSION" >"$build_log" 2>&1 ||
    die_with_log jaeger "$build_log" "could not download $JAEGER_MODULE@$STACK_JAEGER_MODULE_VERSION from the Go module proxy"
  src=$(go list -m -f '{{.Dir}}' "$JAEGER_MODULE@$STACK_JAEGER_MODULE_VERSION")
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" \
    go build -trimpath \
      -ldflags "-X $JAEGER_MODULE/internal/version.latestVersion=$STACK_JAEGER_RELEASE" \
      -o "$JAEGER_BIN.tmp" ./cmd/jaeger) >>"$build_log" 2>&1 ||
    die_with_log jaeger "$build_log" "go build failed"
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
}

jaeger_healthy() {
  curl -fsS --max-time 3 "http://127.0.0.1:$STACK_JAEGER_HEALTH_PORT/status" >/dev/null
}

jaeger_start() {
  jaeger_paths
  if pid_alive "$JAEGER_PID" && jaeger_healthy; then
    say "jaeger already running"
    return 0
  fi
  "$JAEGER_BIN" validate --config "$JAEGER_CONFIG" >"$JAEGER_LOG" 2>&1 ||
    die_with_log jaeger "$JAEGER_LOG" "jaeger validate rejected $JAEGER_CONFIG"
  nohup "$JAEGER_BIN" --config "$JAEGER_CONFIG" >"$JAEGER_LOG" 2>&1 &
  echo $! >"$JAEGER_PID"
}

jaeger_wait() {
  jaeger_paths
  wait_healthy jaeger "$JAEGER_PID" "$JAEGER_LOG" jaeger_healthy
  say "jaeger healthy: OTLP grpc 127.0.0.1:$STACK_JAEGER_OTLP_GRPC_PORT, http 127.0.0.1:$STACK_JAEGER_OTLP_HTTP_PORT, query http://127.0.0.1:$STACK_JAEGER_QUERY_HTTP_PORT"
}

jaeger_stop() {
  jaeger_paths
  stop_pid jaeger "$JAEGER_PID"
}
