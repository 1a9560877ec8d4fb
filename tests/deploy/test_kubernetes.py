"""deploy/k8s and deploy/scale: schema-valid offline, and wired together correctly.

kubernetes-validate checks each object against the Kubernetes schemas; the tests below
check what a schema cannot: Services and NetworkPolicies really select pods, their ports
exist on those pods, and OTLP can flow from the pipeline to Jaeger.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacktools.manifests import (
    DEPLOY,
    MANIFEST_DIRS,
    Object,
    allowed_ports,
    container_ports,
    load_manifests,
    matching_pods,
    named,
    of_kind,
)

KUBERNETES_VERSION = "1.30.0"
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"


@pytest.fixture(params=MANIFEST_DIRS, ids=lambda path: path.name)
def manifests(request: pytest.FixtureRequest) -> list[Object]:
    """Every object of one manifest directory."""
    return load_manifests(request.param)


def run_validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VALIDATE), "--strict", "-k", KUBERNETES_VERSION, *map(str, paths)],
        capture_output=True,
        text=True,
    )


def test_every_manifest_passes_strict_schema_validation():
    paths = [path for directory in MANIFEST_DIRS for path in sorted(directory.glob("*.yaml"))]
    result = run_validate(*paths)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every object was checked against a schema (a kind without one only warns).
    objects = sum(len(load_manifests(directory)) for directory in MANIFEST_DIRS)
    assert result.stdout.count(" passed for resource ") == objects, result.stdout


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path):
    broken = (DEPLOY / "k8s" / "redis.yaml").read_text().replace("replicas: 1", "replicaz: 1")
    path = tmp_path / "redis.yaml"
    path.write_text(broken)
    result = run_validate(path)
    assert result.returncode != 0
    assert "replicaz" in result.stdout + result.stderr


def test_services_select_pods_and_target_their_ports(manifests):
    services = of_kind(manifests, "Service")
    assert services
    for service in services:
        namespace = service["metadata"]["namespace"]
        selector = service["spec"]["selector"]
        pods = matching_pods(manifests, namespace, selector)
        assert pods, f"Service {service['metadata']['name']} selects no pod ({selector})"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for _ns, _labels, containers in pods:
                assert target in container_ports(containers), (
                    f"Service {service['metadata']['name']}: targetPort {target!r} "
                    f"is not a port of the selected pods"
                )


def test_network_policies_select_pods_and_open_real_ports(manifests):
    policies = of_kind(manifests, "NetworkPolicy")
    assert policies
    for policy in policies:
        name = policy["metadata"]["name"]
        namespace = policy["metadata"]["namespace"]
        target = policy["spec"]["podSelector"].get("matchLabels", {})
        targets = matching_pods(manifests, namespace, target)
        assert targets, f"NetworkPolicy {name} selects no pod"
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    labels = peer["podSelector"]["matchLabels"]
                    assert matching_pods(manifests, namespace, labels), (
                        f"NetworkPolicy {name}: no pod matches peer {labels}"
                    )
            for port in rule.get("ports", []):
                assert all(port["port"] in container_ports(pod[2]) for pod in targets), (
                    f"NetworkPolicy {name}: port {port['port']} is not open on its pods"
                )


def test_default_deny_is_in_place(manifests):
    denies = [
        p
        for p in of_kind(manifests, "NetworkPolicy")
        if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
    ]
    assert len(denies) == 1
    assert denies[0]["spec"]["policyTypes"] == ["Ingress"]


def test_laptop_cluster_lets_the_pipeline_send_otlp_to_jaeger():
    manifests = load_manifests(DEPLOY / "k8s")
    pipeline = {"app.kubernetes.io/name": "pipeline"}
    jaeger = {"app.kubernetes.io/name": "jaeger"}
    assert {4317, 4318} <= allowed_ports(manifests, "podcast-kg", jaeger, pipeline)
    assert 7687 in allowed_ports(
        manifests, "podcast-kg", {"app.kubernetes.io/name": "neo4j"}, pipeline
    )
    assert 6379 in allowed_ports(
        manifests, "podcast-kg", {"app.kubernetes.io/name": "redis"}, pipeline
    )
    # Nobody else may send spans.
    stranger = {"app.kubernetes.io/name": "redis"}
    assert not {4317, 4318} & allowed_ports(manifests, "podcast-kg", jaeger, stranger)


def test_pipeline_cronjob_is_configured_by_otel_environment_only():
    manifests = load_manifests(DEPLOY / "k8s")
    (cronjob,) = of_kind(manifests, "CronJob")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["opentelemetry-instrument", "python", "-m"]
    config_map = named(manifests, "ConfigMap", container["envFrom"][0]["configMapRef"]["name"])
    env = config_map["data"]
    assert "pipeline.stages:process_episode" in env["PODCAST_KG_OTEL_TRACED_FUNCTIONS"].split(";")
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    # The OTLP endpoint is the jaeger Service, on a port it exposes.
    host, port = env["OTEL_EXPORTER_OTLP_ENDPOINT"].removeprefix("http://").split(":")
    service_name, namespace = host.split(".")[:2]
    service = named(manifests, "Service", service_name)
    assert service["metadata"]["namespace"] == namespace
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}


def test_scale_tier_routes_otlp_gateway_to_collectors():
    manifests = load_manifests(DEPLOY / "scale")
    gateway = {"app.kubernetes.io/name": "otel-gateway"}
    collector = {"app.kubernetes.io/name": "jaeger-collector"}
    assert {4317, 4318} <= allowed_ports(manifests, "observability", gateway, None)
    assert 4317 in allowed_ports(manifests, "observability", collector, gateway)
    assert 4317 not in allowed_ports(manifests, "observability", collector, None)
    # Cassandra is reachable by both Jaeger tiers.
    store = {"app.kubernetes.io/name": "cassandra"}
    for reader in (collector, {"app.kubernetes.io/name": "jaeger-query"}):
        assert 9042 in allowed_ports(manifests, "observability", store, reader)


GUIDE_MANIFEST = DEPLOY.parent / "k8s" / "12-jaeger.yaml"


def test_the_guides_manifest_path_is_our_jaeger_manifest():
    """`kubectl apply -f k8s/12-jaeger.yaml` (the tracing guide) applies deploy/k8s/jaeger.yaml:
    a relative link, so it holds in any clone, schema-valid under its own name."""
    assert GUIDE_MANIFEST.is_symlink()
    assert str(GUIDE_MANIFEST.readlink()) == "../deploy/k8s/jaeger.yaml"
    assert GUIDE_MANIFEST.resolve() == (DEPLOY / "k8s" / "jaeger.yaml").resolve()
    result = run_validate(GUIDE_MANIFEST)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_guides_manifest_applies_on_its_own():
    """Its namespace comes first, identical to namespace.yaml's (applying both is a no-op)."""
    objects = [doc for doc in yaml.safe_load_all(GUIDE_MANIFEST.read_text()) if doc]
    assert objects[0]["kind"] == "Namespace"
    assert objects[0] == yaml.safe_load((DEPLOY / "k8s" / "namespace.yaml").read_text())
    namespaces = {obj["metadata"].get("namespace") for obj in objects[1:]}
    assert namespaces == {objects[0]["metadata"]["name"]}


def test_the_guides_port_forward_finds_the_jaeger_query_service():
    """`kubectl port-forward svc/jaeger-query 16686:16686 -n podcast-kg` reaches Jaeger's
    query port (API and UI)."""
    manifests = load_manifests(DEPLOY / "k8s")
    service = named(manifests, "Service", "jaeger-query")
    assert service["metadata"]["namespace"] == "podcast-kg"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 16686
    pods = matching_pods(manifests, "podcast-kg", service["spec"]["selector"])
    assert [labels["app.kubernetes.io/name"] for _ns, labels, _c in pods] == ["jaeger"]
    (_ns, _labels, containers) = pods[0]
    (container,) = containers
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert by_name[port["targetPort"]] == 16686


def test_jaeger_health_and_metrics_ports_are_declared_and_configured():
    """What the README's troubleshooting section sends people to: /status on 13133 (the
    probes use it) and Jaeger's own metrics on 8888, listening beyond localhost."""
    manifests = load_manifests(DEPLOY / "k8s")
    (container,) = named(manifests, "Deployment", "jaeger")["spec"]["template"]["spec"][
        "containers"
    ]
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert by_name["health"] == 13133 and by_name["metrics"] == 8888
    assert container["readinessProbe"]["httpGet"] == {"path": "/status", "port": "health"}
    config = yaml.safe_load(named(manifests, "ConfigMap", "jaeger-config")["data"]["jaeger.yaml"])
    assert config["extensions"]["healthcheckv2"]["http"]["endpoint"] == "0.0.0.0:13133"
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    assert reader["pull"]["exporter"]["prometheus"] == {"host": "0.0.0.0", "port": 8888}
