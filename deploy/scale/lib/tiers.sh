# The collector tiers: the gateway (an OpenTelemetry Collector built once with the collector
# builder) and the Jaeger v2 processes (the local stack's binary): tail-sampling collectors
# and the query process. Each runs a config from deploy/scale/config/, the same files the
# Kubernetes ConfigMaps embed, with LISTEN_HOST set to its own loopback address.
# shellcheck shell=bash

OTELCOL_BUILDER=go.opentelemetry.io/collector/cmd/builder

otelcol_paths() {
  OTELCOL_DIR="$SCALE_CACHE_DIR/otelcol/v$SCALE_OTELCOL_VERSION"
  OTELCOL_BIN="$OTELCOL_DIR/otelcol-scale"
}

otelcol_prepare() {
  otelcol_paths
  # Rebuilt when the builder manifest changes (its copy sits next to the binary).
  if [ -x "$OTELCOL_BIN" ] && cmp -s "$SCALE_DIR/local/otelcol-builder.yaml" "$OTELCOL_DIR/manifest.yaml"; then
    return 0
  fi
  need go "Install Go 1.24 or newer (https://go.dev/doc/install, or Debian's golang package) and re-run."
  say "building the gateway collector (builder v$SCALE_OTELCOL_VERSION); a cold build takes several minutes"
  local log="$OTELCOL_DIR/build.log"
  mkdir -p "$OTELCOL_DIR"
  GOBIN="$OTELCOL_DIR" GOTOOLCHAIN=local go install "$OTELCOL_BUILDER@v$SCALE_OTELCOL_VERSION" >"$log" 2>&1 ||
    die_with_log otelcol "$log" "could not install the collector builder from the Go module proxy"
  cp "$SCALE_DIR/local/otelcol-builder.yaml" "$OTELCOL_DIR/manifest.yaml.new"
  # The manifest's output_path is relative: the builder runs in the cache directory.
  (cd "$OTELCOL_DIR" && CGO_ENABLED=0 GOTOOLCHAIN=local ./builder --config manifest.yaml.new) >>"$log" 2>&1 ||
    die_with_log otelcol "$log" "the collector builder failed"
  mv "$OTELCOL_DIR/src/otelcol-scale" "$OTELCOL_BIN"
  mv "$OTELCOL_DIR/manifest.yaml.new" "$OTELCOL_DIR/manifest.yaml"
}

tiers_prepare() {
  otelcol_prepare
  jaeger_prepare # builds the local stack's Jaeger binary when it is not cached yet
  local config
  for config in jaeger-collector jaeger-query; do
    LISTEN_HOST=127.0.0.1 "$JAEGER_BIN" validate --config "$SCALE_DIR/config/$config.yaml" >"$SCALE_RUN_DIR/validate.log" 2>&1 ||
      die_with_log "$config" "$SCALE_RUN_DIR/validate.log" "jaeger validate rejected config/$config.yaml"
  done
  LISTEN_HOST=127.0.0.1 "$OTELCOL_BIN" validate --config "$SCALE_DIR/config/gateway.yaml" \
    --config "$SCALE_DIR/local/gateway-resolver.yaml" >"$SCALE_RUN_DIR/validate.log" 2>&1 ||
    die_with_log gateway "$SCALE_RUN_DIR/validate.log" "otelcol validate rejected config/gateway.yaml"
}

# tier_start NAME HOST PORTS COMMAND...: start one process listening on HOST.
tier_start() {
  local name=$1 host=$2 ports=$3
  shift 3
  if pid_alive "$SCALE_RUN_DIR/$name.pid" && http_ok "$(tier_health_url "$name" "$host")"; then
    say "$name already running"
    return 0
  fi
  # shellcheck disable=SC2086 # PORTS is a list
  require_free "$name" "$host" $ports
  LISTEN_HOST=$host start_bg "$name" "$SCALE_RUN_DIR/$name.pid" "$SCALE_RUN_DIR/$name.log" "$@"
}

tier_health_url() {
  case "$1" in
    gateway-*) echo "http://$2:13133/" ;;
    *) echo "http://$2:13133/status" ;;
  esac
}

tier_wait() {
  local name=$1 host=$2
  wait_healthy "$name" "$SCALE_RUN_DIR/$name.pid" "$SCALE_RUN_DIR/$name.log" http_ok "$(tier_health_url "$name" "$host")"
  say "$name healthy on $host"
}

samplers_start() {
  local index host name
  for index in "${!SAMPLER_HOSTS[@]}"; do
    host=${SAMPLER_HOSTS[$index]} name="sampler-$((index + 1))"
    tier_start "$name" "$host" "4317 5778 5779 8888 13133" \
      "$JAEGER_BIN" --config "$SCALE_DIR/config/jaeger-collector.yaml"
    # The first one creates the Cassandra schema; the others start once it exists.
    [ "$index" -eq 0 ] && tier_wait "$name" "$host"
  done
  for index in "${!SAMPLER_HOSTS[@]}"; do tier_wait "sampler-$((index + 1))" "${SAMPLER_HOSTS[$index]}"; done
}

query_start() {
  tier_start query "$SCALE_QUERY_HOST" "16685 16686 8888 13133" \
    "$JAEGER_BIN" --config "$SCALE_DIR/config/jaeger-query.yaml"
  tier_wait query "$SCALE_QUERY_HOST"
}

gateways_start() {
  local index host
  for index in "${!GATEWAY_HOSTS[@]}"; do
    host=${GATEWAY_HOSTS[$index]}
    tier_start "gateway-$((index + 1))" "$host" "4317 4318 8888 13133" \
      "$OTELCOL_BIN" --config "$SCALE_DIR/config/gateway.yaml" --config "$SCALE_DIR/local/gateway-resolver.yaml"
  done
  for index in "${!GATEWAY_HOSTS[@]}"; do tier_wait "gateway-$((index + 1))" "${GATEWAY_HOSTS[$index]}"; done
}

tiers_stop() {
  local index
  for index in "${!GATEWAY_HOSTS[@]}"; do stop_pid "gateway-$((index + 1))" "$SCALE_RUN_DIR/gateway-$((index + 1)).pid"; done
  for index in "${!SAMPLER_HOSTS[@]}"; do stop_pid "sampler-$((index + 1))" "$SCALE_RUN_DIR/sampler-$((index + 1)).pid"; done
  stop_pid query "$SCALE_RUN_DIR/query.pid"
}
