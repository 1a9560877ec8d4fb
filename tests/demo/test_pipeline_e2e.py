"""The demo pipeline under `opentelemetry-instrument`, read back from the real Jaeger.

One run with tracing configured only by environment variables, one plain run: the
pipeline prints the same report either way, and each episode is one trace rooted at
`pipeline.stages.process_episode` with the Redis, HTTP, whisper, LangChain and Neo4j
spans under it; the episode whose audio is gone shows the 404 where it happened.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid

import pytest

from stacktools.demo import (
    EPISODES_IN_FEED,
    episode_traces,
    pipeline_command,
    pipeline_env,
    pipeline_settings,
)
from stacktools.jaeger import Span, Trace
from stacktools.stack import REPO_ROOT

ROOT = "pipeline.stages.process_episode"
EXPECTED_REPORT = """\
feed: Engines of Thought (4 episodes)
ok      ep-001  The Analytical Engine: transcript from whisper 'hello world', 4 entities, 3 relations
        entities: Ada Lovelace (Person), Analytical Engine (Concept), Charles Babbage (Person), London (Place)
ok      ep-002  Breaking Enigma: transcript from whisper 'hello world', 5 entities, 4 relations
        entities: Alan Turing (Person), Bletchley Park (Place), Bombe (Concept), Hut Eight (Place), Joan Clarke (Person)
skipped ep-003  The Lost Lecture: audio download failed: HTTP 404 for /audio/ep-003-removed.wav
ok      ep-004  Graphs Everywhere: transcript from whisper 'hello world', 2 entities, 1 relations
        entities: Königsberg (Place), Leonhard Euler (Person)
done: 3 of 4 episodes stored in Neo4j
"""  # noqa: E501


def run_pipeline(env: dict[str, str], instrumented: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        pipeline_command(instrumented),
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def runs(stack, jaeger):
    """(instrumented run, plain run, episode traces of the instrumented run)."""
    service = f"test-demo-pipeline-{uuid.uuid4().hex[:8]}"
    since_us = int(time.time() * 1_000_000)
    traced = run_pipeline(pipeline_env(stack, service, uuid.uuid4().hex[:8]), True)
    assert traced.returncode == 0, traced.stderr[-4000:]
    plain = run_pipeline(pipeline_settings(stack, uuid.uuid4().hex[:8]), False)
    assert plain.returncode == 0, plain.stderr[-4000:]
    traces = episode_traces(jaeger, service, since_us, timeout=60)
    return traced, plain, traces


def kind_of(span: Span) -> str:
    """What a direct child of the episode root is, by the attributes its instrumentation sets."""
    a = span.attributes
    if a.get("db.system") == "redis" or a.get("db.system.name") == "redis":
        return f"redis {span.name}"
    if span.kind == "client" and ("http.method" in a or "http.request.method" in a):
        return "http"
    if a.get("gen_ai.operation.name") == "speech_to_text":
        return "whisper"
    if any(s.attributes.get("gen_ai.operation.name") == "chat" for s in span.walk()):
        return "langchain"
    if a.get("db.system.name") == "neo4j":
        return f"neo4j {span.name}"
    return f"other {span.name}"


def http_status(span: Span) -> int:
    a = span.attributes
    return a.get("http.response.status_code", a.get("http.status_code"))


def test_output_is_identical_with_and_without_instrumentation(runs):
    traced, plain, _ = runs
    assert traced.stdout == plain.stdout == EXPECTED_REPORT


def test_one_trace_per_episode_rooted_at_process_episode(runs):
    _, _, traces = runs
    assert len(traces) == EPISODES_IN_FEED
    for trace in traces:
        assert trace.root.name == ROOT
        assert trace.root.kind == "internal"
        assert trace.root.attributes["code.function.name"] == ROOT
        assert {span.service for span in trace.spans} == {trace.root.service}
    assert [t.root.status_code for t in traces].count("ERROR") == 1


def successful(traces: list[Trace]) -> list[Trace]:
    return [t for t in traces if t.root.status_code != "ERROR"]


def test_successful_episode_has_every_step_under_its_root(runs):
    _, _, traces = runs
    for trace in successful(traces):
        root = trace.root
        assert [kind_of(child) for child in root.children] == [
            "redis GET",
            "http",
            "whisper",
            "redis SET",
            "langchain",
            "neo4j execute_write",
            "neo4j execute_read",
        ]
        _get, audio, whisper, _set, chain, write, read = root.children
        assert http_status(audio) == 200
        assert whisper.name.startswith("speech_to_text")
        assert whisper.attributes["faster_whisper.segments.count"] == 1
        assert whisper.attributes["faster_whisper.audio.duration"] == pytest.approx(2.0)
        (chat,) = [s for s in chain.walk() if s.attributes.get("gen_ai.operation.name") == "chat"]
        assert chat.name == "chat keyword-extractor-1"
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0
        assert [c.kind for c in write.children] == ["client"] * 3
        assert all(c.attributes["db.system.name"] == "neo4j" for c in write.children)
        assert [c.name.split()[0] for c in write.children] == ["MERGE", "MATCH", "UNWIND"]
        assert [c.kind for c in read.children] == ["client"]
        assert all(span.status_code != "ERROR" for span in trace.spans)


def test_failed_episode_shows_the_404_where_it_happened(runs):
    _, _, traces = runs
    (trace,) = [t for t in traces if t.root.status_code == "ERROR"]
    root = trace.root
    assert [kind_of(child) for child in root.children] == ["redis GET", "http"]
    audio = root.children[1]
    assert http_status(audio) == 404
    assert audio.status_code == "ERROR"
    (event,) = root.events_named("exception")
    assert event.attributes["exception.type"] == "requests.exceptions.HTTPError"
    assert "404" in event.attributes["exception.message"]
    assert root.attributes["error.type"] == "requests.exceptions.HTTPError"


def test_log_lines_carry_the_episode_trace_ids(runs):
    traced, _, traces = runs
    logged = {
        m.group(1): m.group(2)
        for m in re.finditer(r"trace_id=(\w+) .*\] episode (ep-\d+): ", traced.stderr)
    }
    assert {trace.trace_id.rjust(32, "0") for trace in traces} <= set(logged)
    failed = next(t for t in traces if t.root.status_code == "ERROR")
    assert logged[failed.trace_id.rjust(32, "0")] == "ep-003"
