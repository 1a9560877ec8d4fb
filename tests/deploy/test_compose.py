"""deploy/docker-compose.yml, checked with compose's own `config` (no Docker engine needed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from stacktools.manifests import DEPLOY

COMPOSE_FILE = DEPLOY / "docker-compose.yml"


def compose_config(binary: Path, path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(binary), "-f", str(path), "config", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_compose_file_is_valid(compose_binary):
    result = compose_config(compose_binary, COMPOSE_FILE, "-q")
    assert result.returncode == 0, result.stderr


def test_compose_config_rejects_an_unknown_key(compose_binary, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("    ports:\n", "    portz:\n", 1))
    result = compose_config(compose_binary, broken, "-q")
    assert result.returncode != 0
    assert "portz" in result.stderr


def test_services_images_ports_and_instrumented_pipeline(compose_binary):
    result = compose_config(compose_binary, COMPOSE_FILE, "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"jaeger", "neo4j", "redis", "pipeline"}

    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/jaeger:2.")
    assert {p["target"] for p in jaeger["ports"]} == {16686, 4317, 4318, 13133, 8888}
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    assert services["neo4j"]["environment"]["NEO4J_AUTH"] == "neo4j/podcast-kg-test"

    pipeline = services["pipeline"]
    assert pipeline["build"]["dockerfile"] == "deploy/pipeline/Dockerfile"
    assert set(pipeline["depends_on"]) == {"jaeger", "neo4j", "redis"}
    env = pipeline["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert "pipeline.stages:process_episode" in env["PODCAST_KG_OTEL_TRACED_FUNCTIONS"].split(";")
    assert env["PIPELINE_NEO4J_URI"] == "bolt://neo4j:7687"
    assert (
        env["PIPELINE_NEO4J_PASSWORD"]
        == services["neo4j"]["environment"]["NEO4J_AUTH"].split("/", 1)[1]
    )
    assert env["PIPELINE_REDIS_URL"] == "redis://redis:6379/0"


def test_pipeline_image_runs_under_opentelemetry_instrument():
    dockerfile = (DEPLOY / "pipeline" / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == ["opentelemetry-instrument", "python", "-m", "pipeline"]
    # Every file the Dockerfile copies exists (the build context is the repository root).
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (DEPLOY.parent / source).exists(), source


def test_the_guides_troubleshooting_commands_reach_jaeger(compose_binary):
    """`docker logs podcast-kg-jaeger` names the container; the health check and metrics the
    README's troubleshooting section sends people to are published on the same host ports."""
    result = compose_config(compose_binary, COMPOSE_FILE, "--format", "json")
    assert result.returncode == 0, result.stderr
    jaeger = json.loads(result.stdout)["services"]["jaeger"]
    assert jaeger["container_name"] == "podcast-kg-jaeger"
    published = {p["target"]: int(p["published"]) for p in jaeger["ports"]}
    assert published[13133] == 13133  # health: /status
    assert published[8888] == 8888  # Jaeger's own metrics: /metrics
    assert 14269 not in published  # Jaeger v1's admin port: the image no longer has it
    # The healthcheck probes the port the README names.
    assert "http://localhost:13133/status" in jaeger["healthcheck"]["test"]
