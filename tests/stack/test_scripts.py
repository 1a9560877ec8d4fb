"""deploy/local/up fails clearly: a missing prerequisite says what to install, and a
service that cannot start is named with the tail of its log."""

import os
import socket
import subprocess
from pathlib import Path

from stacktools.stack import STACK_DIR


def run_up(tmp_path: Path, *services: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "STACK_NAME": "script-test",
        "STACK_CACHE_DIR": str(tmp_path / "cache"),
        "STACK_START_TIMEOUT": "20",
        **env,
    }
    return subprocess.run(
        [str(STACK_DIR / "up"), *services],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_go_is_named_with_how_to_get_it(tmp_path: Path) -> None:
    result = run_up(tmp_path, "jaeger", PATH="/usr/bin:/bin")
    assert result.returncode == 1
    assert "ERROR: go is required but not installed. Install Go 1.24 or newer" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_service_is_rejected(tmp_path: Path) -> None:
    result = run_up(tmp_path, "postgres")
    assert result.returncode == 1
    assert "unknown service 'postgres'" in result.stderr


def test_service_that_cannot_start_is_named_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run_up(tmp_path, "redis", STACK_REDIS_PORT=str(port))
    assert result.returncode == 1
    assert "ERROR: redis:" in result.stderr
    assert "last lines of" in result.stderr
    assert "Address already in use" in result.stderr
