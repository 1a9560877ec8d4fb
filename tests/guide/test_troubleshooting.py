"""The README's troubleshooting section, local-stack column: each check it gives for one of
the guide's (which assumed Jaeger v1) answers on the running stack as the README says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from stacktools.stack import REPO_ROOT, Stack, stack_settings

from .conftest import without_otel

SECTION = "## Troubleshooting: the tracing guide's checks on Jaeger v2"


def local_column() -> dict[str, str]:
    """{the guide's check: the local stack's answer} from the README's table."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # no header
    return {row.split(" | ")[0][2:]: row.split(" | ")[1] for row in rows}


def commands(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_jaeger_is_running_and_did_spans_arrive(stack: Stack) -> None:
    """The health check and the query API instead of v1's admin port and the UI."""
    column = local_column()
    running = column["Jaeger is running: `curl http://localhost:14269/metrics`"]
    arrived = column["Did spans arrive? (the UI)"]
    (health,) = commands(running)
    services = commands(arrived)[0]
    assert health == f"curl -fsS {stack.jaeger_health_url}"
    assert services == f"curl -fsS {stack.jaeger_query_url}/api/services"

    with urllib.request.urlopen(health.split()[-1], timeout=5) as response:
        assert response.status == 200
        assert json.load(response)["status"] == "StatusOK"
    with urllib.request.urlopen(services.split()[-1], timeout=5) as response:
        assert response.status == 200
        assert "data" in json.load(response)


def test_verify_configuration() -> None:
    """Instead of `echo $JAEGER_HOST`: what the process makes of the variables."""
    (command,) = [
        c
        for c in commands(local_column()["`echo $JAEGER_HOST` / `echo $JAEGER_PORT`"])
        if c.startswith("python -c")
    ]
    code = command.removeprefix('python -c "').removesuffix('"')
    env = {**without_otel(dict(os.environ)), "JAEGER_HOST": "localhost", "JAEGER_PORT": "6831"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "podcast-kg-pipeline",
        "('otlp',)",
        "http://localhost:4318/v1/traces",
        "parentbased_always_on",
        "None",
    ]
    assert "JAEGER_PORT=6831 is the Jaeger agent's UDP port" in result.stderr


def test_jaegers_log(stack: Stack) -> None:
    """Instead of `docker logs podcast-kg-jaeger`: the log file `up` writes."""
    (tail,) = commands(local_column()["`docker logs podcast-kg-jaeger`"])[:1]
    readme_path = Path(os.path.expanduser(tail.removeprefix("tail ")))
    assert readme_path == Path.home() / ".cache/podcast-kg-otel/run/default/jaeger.log"

    settings = stack_settings()
    running = Path(settings["STACK_CACHE_DIR"]) / "run" / settings["STACK_NAME"] / "jaeger.log"
    assert "Everything is ready" in running.read_text()


def test_jaegers_own_metrics_are_off_locally() -> None:
    """The local column says the local stack's Jaeger exports no metrics of its own; its
    config says the same (Docker Compose and Kubernetes serve them on 8888)."""
    cell = local_column()["Jaeger's own metrics (also 14269 in v1)"]
    assert cell.startswith("off (`telemetry.metrics.level: none` in `deploy/local/jaeger.yaml`)")
    config = yaml.safe_load((REPO_ROOT / "deploy" / "local" / "jaeger.yaml").read_text())
    assert config["service"]["telemetry"]["metrics"] == {"level": "none"}
