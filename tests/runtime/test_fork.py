"""The ``os._exit`` replacement in forked children behaves like the real one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD_EXIT = textwrap.dedent(
    """
    import os

    from opentelemetry.sdk.trace import TracerProvider

    from podcast_kg_otel.fork import install_fork_handlers

    install_fork_handlers(
        TracerProvider(shutdown_on_exit=False),
        exit_flush=lambda: print("flushed", flush=True),
    )
    child = os.fork()
    if child == 0:
        os._exit(status=7)
    _, status = os.waitpid(child, 0)
    print("child exit code", os.waitstatus_to_exitcode(status))
    """
)


def test_child_os_exit_accepts_status_keyword_and_flushes_first() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD_EXIT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["flushed", "child exit code 7"], result.stderr
