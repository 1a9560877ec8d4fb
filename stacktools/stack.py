"""Where the local stack listens, read from deploy/local/stack.env, and how to start it.

The shell scripts own the stack; this module asks them for the resolved settings so
that ports and versions live in one place.
"""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.request
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = REPO_ROOT / "deploy" / "local"


class StackError(RuntimeError):
    """The local stack could not be brought up."""


@cache
def stack_settings() -> dict[str, str]:
    """The STACK_* settings as `up` resolves them (environment overrides included)."""
    script = f'. "{STACK_DIR}/lib/common.sh"; load_stack_env; env'
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("STACK_"))


@dataclass(frozen=True)
class Stack:
    """Addresses and credentials of the running local stack."""

    otlp_grpc_endpoint: str
    otlp_http_endpoint: str
    jaeger_query_url: str
    jaeger_health_url: str
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str
    redis_host: str
    redis_port: int

    @property
    def neo4j_auth(self) -> tuple[str, str]:
        return (self.neo4j_user, self.neo4j_password)

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/0"

    def otel_env(self, service_name: str) -> dict[str, str]:
        """Standard OTEL_* variables that send a process's traces to this stack."""
        return {
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_http_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }


def local_stack() -> Stack:
    s = stack_settings()
    return Stack(
        otlp_grpc_endpoint=f"http://127.0.0.1:{s['STACK_JAEGER_OTLP_GRPC_PORT']}",
        otlp_http_endpoint=f"http://127.0.0.1:{s['STACK_JAEGER_OTLP_HTTP_PORT']}",
        jaeger_query_url=f"http://127.0.0.1:{s['STACK_JAEGER_QUERY_HTTP_PORT']}",
        jaeger_health_url=f"http://127.0.0.1:{s['STACK_JAEGER_HEALTH_PORT']}/status",
        neo4j_uri=f"bolt://127.0.0.1:{s['STACK_NEO4J_BOLT_PORT']}",
        neo4j_user=s["STACK_NEO4J_USER"],
        neo4j_password=s["STACK_NEO4J_PASSWORD"],
        redis_host="127.0.0.1",
        redis_port=int(s["STACK_REDIS_PORT"]),
    )


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _jaeger_healthy(stack: Stack) -> bool:
    try:
        with urllib.request.urlopen(stack.jaeger_health_url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def is_up(stack: Stack) -> bool:
    """A cheap check: Jaeger reports healthy and the Bolt and Redis ports answer.

    `up` itself does the thorough checks (RETURN 1, PING) before it returns.
    """
    bolt_port = int(stack.neo4j_uri.rsplit(":", 1)[1])
    return _jaeger_healthy(stack) and _port_open(bolt_port) and _port_open(stack.redis_port)


def ensure_up() -> Stack:
    """Return the running stack, starting it with deploy/local/up when it is not up."""
    stack = local_stack()
    if is_up(stack):
        return stack
    result = subprocess.run(
        [str(STACK_DIR / "up")], capture_output=True, text=True, env=os.environ.copy()
    )
    if result.returncode != 0 or not is_up(stack):
        raise StackError(
            "deploy/local/up failed; the tests need the real Jaeger, Neo4j and Redis.\n"
            + result.stderr[-4000:]
        )
    return stack
