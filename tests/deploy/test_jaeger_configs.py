"""Every Jaeger config in the repository passes `jaeger validate` (offline, binds nothing).

The Jaeger build (v2.13) has no loadbalancing exporter, so the gateway's config cannot be
validated as a whole by it; the test checks its structure and validates everything else
in it (receivers, processors, and the OTLP exporter settings the loadbalancing exporter
wraps) with the same binary.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacktools.manifests import (
    DEPLOY,
    MANIFEST_DIRS,
    embedded_configs,
    load_manifests,
    matching_pods,
    named,
)

JAEGER_CONFIGS = {
    "local/jaeger.yaml": (DEPLOY / "local" / "jaeger.yaml").read_text(),
    **{
        f"{directory.name}/{name}": text
        for directory in MANIFEST_DIRS
        for name, text in embedded_configs(load_manifests(directory), "jaeger.yaml").items()
    },
}


# What the scale Deployments (and deploy/scale/local-up) set for the ${env:...} in their configs.
SCALE_ENV = {
    "LISTEN_HOST": "0.0.0.0",
    "CASSANDRA_SERVERS": "[cassandra.observability.svc.cluster.local]",
    "JAEGER_CONFIG_DIR": "/etc/jaeger",
}


def validate(jaeger: Path, text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return subprocess.run(
        [str(jaeger), "validate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SCALE_ENV},
    )


def test_the_repository_has_the_expected_jaeger_configs():
    assert set(JAEGER_CONFIGS) == {
        "local/jaeger.yaml",
        "k8s/jaeger-config",
        "scale/jaeger-collector-config",
        "scale/jaeger-query-config",
    }


@pytest.mark.parametrize("name", sorted(JAEGER_CONFIGS))
def test_jaeger_validate_accepts(name, jaeger_binary, tmp_path):
    result = validate(jaeger_binary, JAEGER_CONFIGS[name], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_jaeger_validate_rejects_an_unknown_key(jaeger_binary, tmp_path):
    text = JAEGER_CONFIGS["scale/jaeger-collector-config"].replace("num_traces:", "num_tracez:")
    result = validate(jaeger_binary, text, tmp_path)
    assert result.returncode != 0
    assert "num_tracez" in result.stderr


def scale_config(configmap: str, key: str) -> dict[str, Any]:
    manifests = load_manifests(DEPLOY / "scale")
    return yaml.safe_load(named(manifests, "ConfigMap", configmap)["data"][key])


def test_collectors_tail_sample_keeping_errors_and_slow_traces_on_a_distributed_store():
    config = scale_config("jaeger-collector-config", "jaeger.yaml")
    policies = {p["type"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["latency"]["latency"]["threshold_ms"] > 0
    assert 0 < policies["probabilistic"]["probabilistic"]["sampling_percentage"] < 100
    pipeline = config["service"]["pipelines"]["traces"]
    assert "tail_sampling" in pipeline["processors"]
    assert "jaeger_query" not in config["service"]["extensions"]  # collectors only write
    writer = config["extensions"]["jaeger_storage"]["backends"]["cassandra"]["cassandra"]
    assert writer["schema"]["create"] is True
    assert writer["schema"]["replication_factor"] >= 2
    query = scale_config("jaeger-query-config", "jaeger.yaml")
    assert query["service"]["pipelines"]["traces"]["receivers"] == ["nop"]
    reader = query["extensions"]["jaeger_storage"]["backends"]["cassandra"]["cassandra"]
    assert reader["connection"]["servers"] == writer["connection"]["servers"]
    assert reader["schema"]["keyspace"] == writer["schema"]["keyspace"]


def test_gateway_balances_by_trace_id_onto_the_collectors_headless_service():
    config = scale_config("otel-gateway-config", "otelcol.yaml")
    resolver = scale_config("otel-gateway-config", "resolver.yaml")
    pipeline = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    balancer = config["exporters"]["loadbalancing"]
    assert pipeline["exporters"] == ["loadbalancing"]
    assert balancer["routing_key"] == "traceID"
    dns = resolver["exporters"]["loadbalancing"]["resolver"]["dns"]
    service_name, namespace = dns["hostname"].split(".")[:2]
    manifests = load_manifests(DEPLOY / "scale")
    service = named(manifests, "Service", service_name)
    assert service["metadata"]["namespace"] == namespace
    assert service["spec"]["clusterIP"] == "None"  # DNS returns every collector pod
    assert int(dns["port"]) in {p["port"] for p in service["spec"]["ports"]}
    collectors = matching_pods(manifests, namespace, service["spec"]["selector"])
    assert [labels["app.kubernetes.io/name"] for _ns, labels, _c in collectors] == [
        "jaeger-collector"
    ]


def test_gateway_components_validate_with_the_jaeger_build(jaeger_binary, tmp_path):
    """Everything but the loadbalancing exporter and the v1 health_check, which Jaeger lacks.

    The loadbalancing exporter's `protocol.otlp` block is an OTLP exporter config, and its
    queue and retry blocks are the same exporter-helper settings: together they are
    validated as the `otlp` exporter, pointed at the resolver's address.
    """
    config = scale_config("otel-gateway-config", "otelcol.yaml")
    balancer = config["exporters"].pop("loadbalancing")
    resolver = scale_config("otel-gateway-config", "resolver.yaml")
    dns = resolver["exporters"]["loadbalancing"]["resolver"]["dns"]
    config["exporters"]["otlp"] = {
        **balancer["protocol"]["otlp"],
        "sending_queue": balancer["sending_queue"],
        "retry_on_failure": balancer["retry_on_failure"],
        "endpoint": f"{dns['hostname']}:{dns['port']}",
    }
    config["service"]["pipelines"]["traces"]["exporters"] = ["otlp"]
    config["extensions"] = {
        "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}}
    }
    config["service"]["extensions"] = ["healthcheckv2"]
    result = validate(jaeger_binary, yaml.safe_dump(config), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_jaeger_build_lacks_the_loadbalancing_exporter(jaeger_binary):
    """Why the gateway runs the contrib collector image and is validated in parts above.

    When a Jaeger build ships the exporter, validate the gateway config whole instead.
    """
    result = subprocess.run(
        [str(jaeger_binary), "components"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    components = yaml.safe_load(result.stdout)
    exporters = {exporter["name"] for exporter in components["exporters"]}
    assert {"otlp", "jaeger_storage_exporter"} <= exporters
    assert "loadbalancing" not in exporters
    processors = {processor["name"] for processor in components["processors"]}
    assert {"tail_sampling", "memory_limiter", "batch"} <= processors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_k8s_jaeger_answers_health_and_metrics_where_the_readme_says(jaeger_binary, tmp_path):
    """The k8s config, run for real (its 0.0.0.0 listeners moved to free 127.0.0.1 ports):
    /status answers on the health listener and Jaeger's own metrics on the metrics reader,
    the two checks the README's troubleshooting section gives for the guide's :14269."""
    config = yaml.safe_load(JAEGER_CONFIGS["k8s/jaeger-config"])
    health, metrics = free_port(), free_port()
    config["extensions"]["healthcheckv2"]["http"]["endpoint"] = f"127.0.0.1:{health}"
    for server in config["extensions"]["jaeger_query"].values():
        if isinstance(server, dict) and "endpoint" in server:
            server["endpoint"] = f"127.0.0.1:{free_port()}"
    for protocol in config["receivers"]["otlp"]["protocols"].values():
        protocol["endpoint"] = f"127.0.0.1:{free_port()}"
    # The strategies file comes from the same ConfigMap (mounted at /etc/jaeger in the pod).
    sampling = config["extensions"]["remote_sampling"]
    strategies = tmp_path / "sampling-strategies.json"
    manifests = load_manifests(DEPLOY / "k8s")
    strategies.write_text(embedded_configs(manifests, "sampling-strategies.json")["jaeger-config"])
    sampling["file"]["path"] = str(strategies)
    for server in ("http", "grpc"):
        sampling[server]["endpoint"] = f"127.0.0.1:{free_port()}"
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    reader["pull"]["exporter"]["prometheus"].update(host="127.0.0.1", port=metrics)
    path = tmp_path / "jaeger.yaml"
    path.write_text(yaml.safe_dump(config))

    with (tmp_path / "jaeger.log").open("w") as log:
        process = subprocess.Popen(
            [str(jaeger_binary), "--config", str(path)], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{health}/status")
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "jaeger.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "jaeger.log").read_text()
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["status"] == "StatusOK"
        status, body = get(f"http://127.0.0.1:{metrics}/metrics")
        assert status == 200
        assert "otelcol_process_uptime_seconds_total" in body, body[:2000]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
