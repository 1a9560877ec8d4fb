"""The local scale stack (deploy/scale/local-up) as the scale test sees it."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCALE = REPO / "deploy" / "scale"


@dataclass(frozen=True)
class ScaleStack:
    """Where the running scale stack listens, and its process ids (from its PID files)."""

    settings: dict[str, str]

    @property
    def run_dir(self) -> Path:
        return Path(self.settings["SCALE_RUN_DIR"])

    @property
    def gateways(self) -> list[str]:
        return [f"http://{host}:4318" for host in self.settings["SCALE_GATEWAY_HOSTS"].split()]

    @property
    def query_url(self) -> str:
        return f"http://{self.settings['SCALE_QUERY_HOST']}:16686"

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def processes(self) -> list[str]:
        return sorted(path.stem for path in self.run_dir.glob("*.pid"))

    def trace(self, trace_id: str) -> dict | None:
        """The trace as the query process returns it, or None when it has none."""
        try:
            with urllib.request.urlopen(f"{self.query_url}/api/traces/{trace_id}", timeout=30) as r:
                (found,) = json.load(r)["data"]
                return found
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


def scale_settings() -> dict[str, str]:
    script = f'. "{SCALE}/lib/common.sh"; load_scale_env; env'
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("SCALE_"))


def up() -> None:
    """Start whatever part of the scale stack is not running (idempotent)."""
    result = subprocess.run([str(SCALE / "local-up")], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        pytest.fail(f"deploy/scale/local-up failed:\n{result.stderr[-3000:]}", pytrace=False)


def wait_for(check, timeout: float, interval: float = 2.0):
    """Poll CHECK until it returns a truthy value or TIMEOUT passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
