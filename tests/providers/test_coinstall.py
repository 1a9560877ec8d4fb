"""SLOW (about a minute, more with a cold pip cache): the co-install test.

A clean virtual environment with a user's OpenTelemetry set (SDK 1.45.2, contrib 0.66b2)
gets the distro with every extra of pyproject.toml and the plugins, from this checkout.
pip must find nothing broken (`pip check`) and must not have moved the user's set: an
extra that needed another `opentelemetry-instrumentation` would downgrade it (as
opentelemetry-instrumentation-threading 0.66b1 does).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
# What a user of the 0.66b2 / 1.45.2 release set already has installed.
USER_SET = {
    "opentelemetry-api": "1.45.2",
    "opentelemetry-sdk": "1.45.2",
    "opentelemetry-instrumentation": "0.66b2",
    "opentelemetry-distro": "0.66b2",
    "opentelemetry-semantic-conventions": "0.66b2",
    "opentelemetry-instrumentation-requests": "0.66b2",
    "opentelemetry-instrumentation-redis": "0.66b2",
}
PLUGINS = ("util", "neo4j", "langchain", "faster_whisper")


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=900
    )


@pytest.mark.timeout(1200)
def test_distro_with_every_extra_coinstalls_in_a_clean_venv(tmp_path: Path) -> None:
    extras = sorted(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    assert "providers" in extras
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"

    pinned = [f"{name}=={version}" for name, version in USER_SET.items()]
    first = _pip(python, "install", "-q", *pinned)
    assert first.returncode == 0, first.stderr

    editable = [arg for plugin in PLUGINS for arg in ("-e", str(ROOT / "instrumentors" / plugin))]
    ours = _pip(python, "install", "-q", *editable, "-e", f"{ROOT}[{','.join(extras)}]")
    assert ours.returncode == 0, ours.stderr

    check = _pip(python, "check")
    assert check.returncode == 0, check.stdout + check.stderr

    listing = _pip(python, "list", "--format=json")
    installed = {item["name"].lower(): item["version"] for item in json.loads(listing.stdout)}
    assert {name: installed.get(name) for name in USER_SET} == USER_SET
    # The extra's own pins arrived as pinned (pre-releases included).
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["providers"]:
        name, version = (part.strip() for part in requirement.split("=="))
        assert installed.get(name) == version, requirement
