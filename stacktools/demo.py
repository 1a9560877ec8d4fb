"""`make demo`: run the podcast pipeline under opentelemetry-instrument, then show its traces.

The pipeline (examples/pipeline) has no tracing code. Everything here is configuration by
environment variables: the OTEL_* exporter settings, and the function-tracing variable
that turns each call of `pipeline.stages:process_episode` into the root span of one trace.
Afterwards the traces are read back from Jaeger's query API and one successful and one
failed episode are printed as trees.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from podcast_kg_otel.trace_view import render, serves_ui
from stacktools.jaeger import JaegerClient, Span, Trace
from stacktools.stack import REPO_ROOT, Stack, ensure_up

SERVICE_NAME = "podcast-pipeline-demo"
EPISODE_FUNCTION = "pipeline.stages:process_episode"
# The feed download and the model load get a root span (and a trace) of their own too.
TRACED_FUNCTIONS = f"{EPISODE_FUNCTION};pipeline.feed:load_feed;pipeline.transcribe:load_model"
LOG_FORMAT = "%(levelname)s %(name)s [trace_id=%(otelTraceID)s span_id=%(otelSpanID)s] %(message)s"
TRACED_FUNCTIONS_ENV = "PODCAST_KG_OTEL_TRACED_FUNCTIONS"
EPISODES_IN_FEED = 4


def pipeline_env(stack: Stack, service_name: str, run_id: str) -> dict[str, str]:
    """Environment for one instrumented pipeline run against `stack` (no code changes)."""
    return {
        **stack.otel_env(service_name),
        TRACED_FUNCTIONS_ENV: TRACED_FUNCTIONS,
        "OTEL_PYTHON_LOG_CORRELATION": "true",
        "OTEL_PYTHON_LOG_FORMAT": LOG_FORMAT,
        **pipeline_settings(stack, run_id),
    }


def pipeline_settings(stack: Stack, run_id: str) -> dict[str, str]:
    """The pipeline's own settings; a per-run cache prefix so every run transcribes."""
    return {
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "examples"), str(REPO_ROOT)]),
        "PIPELINE_REDIS_URL": stack.redis_url,
        "PIPELINE_CACHE_PREFIX": f"podcast-kg-demo:{run_id}:",
        "PIPELINE_CACHE_TTL_S": "600",
        "PIPELINE_NEO4J_URI": stack.neo4j_uri,
        "PIPELINE_NEO4J_USER": stack.neo4j_user,
        "PIPELINE_NEO4J_PASSWORD": stack.neo4j_password,
    }


def pipeline_command(instrumented: bool) -> list[str]:
    python = [sys.executable, "-m", "pipeline"]
    if not instrumented:
        return python
    return [str(Path(sys.executable).parent / "opentelemetry-instrument"), *python]


def episode_traces(
    jaeger: JaegerClient,
    service_name: str,
    since_us: int,
    count: int = EPISODES_IN_FEED,
    timeout: float = 60.0,
) -> list[Trace]:
    """The per-episode traces (root = process_episode) of a run, oldest first."""
    deadline = time.monotonic() + timeout
    found: list[Trace] = []
    while time.monotonic() < deadline:
        traces = jaeger.traces(service_name, limit=100, start=since_us)
        found = [t for t in traces if any(_is_episode_root(s) for s in t.roots)]
        if len(found) >= count:
            time.sleep(1.0)  # let late spans of the same traces land
            traces = jaeger.traces(service_name, limit=100, start=since_us)
            found = [t for t in traces if any(_is_episode_root(s) for s in t.roots)]
            return sorted(found, key=lambda t: t.roots[0].start_us)
        time.sleep(0.5)
    raise RuntimeError(
        f"Jaeger shows {len(found)} episode trace(s) for {service_name!r}, expected {count}"
    )


def _is_episode_root(span: Span) -> bool:
    return span.parent is None and "process_episode" in span.name


def next_steps(query_url: str, service_name: str, trace_ids: list[str], ui: bool) -> str:
    api = "\n".join(f"    {query_url}/api/traces/{trace_id}" for trace_id in trace_ids)
    if ui:
        pages = "\n".join(f"    {query_url}/trace/{trace_id}" for trace_id in trace_ids)
        where_ui = f"  Jaeger UI, the same traces:\n{pages}\n"
    else:
        where_ui = (
            "  Jaeger UI: this Jaeger (built with go, as deploy/local/up does) serves the API\n"
            "  only. For the UI run `docker compose -f deploy/docker-compose.yml up`: the\n"
            "  jaegertracing/jaeger image ships it, at http://localhost:16686/search\n"
        )
    return (
        "Where to look next:\n"
        f"  Jaeger query API (JSON), these traces:\n{api}\n"
        f"  all traces of this service: {query_url}/api/traces?service={service_name}\n"
        f"{where_ui}"
        "  More: deploy/README.md (laptop, Kubernetes, scale)."
    )


def run_demo(stack: Stack, service_name: str, environ: Mapping[str, str]) -> int:
    run_id = uuid.uuid4().hex[:8]
    since_us = int(time.time() * 1_000_000)
    env = {**environ, **pipeline_env(stack, service_name, run_id)}
    print(f"$ opentelemetry-instrument python -m pipeline   (service {service_name!r})")
    print(f"  {TRACED_FUNCTIONS_ENV}={TRACED_FUNCTIONS}\n", flush=True)
    result = subprocess.run(pipeline_command(instrumented=True), env=env, cwd=REPO_ROOT)
    if result.returncode != 0:
        print(f"the pipeline exited with {result.returncode}", file=sys.stderr)
        return result.returncode
    jaeger = JaegerClient(stack.jaeger_query_url)
    traces = episode_traces(jaeger, service_name, since_us)
    ok = next(t for t in traces if t.roots[0].status_code != "ERROR")
    failed = [t for t in traces if t.roots[0].status_code == "ERROR"]
    print(f"\nJaeger has {len(traces)} episode traces for this run. A successful episode")
    print(f"(trace {ok.trace_id}, read back from {stack.jaeger_query_url}):\n")
    print(render(ok))
    for trace in failed[:1]:
        print(f"\nThe episode that failed (trace {trace.trace_id}), error where it happened:\n")
        print(render(trace))
    print()
    shown = [ok.trace_id, *(t.trace_id for t in failed[:1])]
    ui = serves_ui(stack.jaeger_query_url)
    print(next_steps(stack.jaeger_query_url, service_name, shown, ui))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-name", default=SERVICE_NAME)
    args = parser.parse_args(argv)
    return run_demo(ensure_up(), args.service_name, os.environ)


if __name__ == "__main__":
    sys.exit(main())
