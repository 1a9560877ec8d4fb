"""The second example pipeline (examples/feedworker) under ``opentelemetry-instrument``,
read back from the real Jaeger.

It is written nothing like the demo: one entry script run as ``python main.py``, episodes
on a thread pool, downloads and Redis look-ups on another, CPU work in a spawn process
pool, an event loop with ``run_in_executor`` and ``asyncio.to_thread``, the OpenAI SDK
called directly and once through LangChain. With only environment variables, each
episode must be exactly one trace rooted at the entry script's ``process_episode``, with
every span under it, no orphan trace, one chat span per model call and the tokens the
provider returned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from stacktools.jaeger import JaegerClient, Span, Trace
from stacktools.pytest_plugin import BIN_DIR
from stacktools.stack import Stack
from tests.providers.fakes import OPENAI_STREAM_USAGE, OPENAI_USAGE

from .conftest import FEEDWORKER

ROOT = "main.process_episode"
TARGETS = "main:process_episode;main:score_chunks"
OK_EPISODES = ("fw-01", "fw-02", "fw-03")
REMOVED = "fw-04"
CHAT = "chat gpt-feedworker"
SDK_SCOPE = "opentelemetry.util.genai.handler"  # openai-v2 records through util-genai
LANGCHAIN_SCOPE = "podcast_kg_otel_langchain"


#: A run takes 10-40 s on a loaded 2-core machine (each spawn worker imports LangChain).
RUN_TIMEOUT = 240
#: Left at their defaults, whatever the calling shell has.
DEFAULTS = ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "PODCAST_KG_OTEL_RUN_SPAN")


def _run(args: list[str], env: dict[str, str], instrumented: bool) -> subprocess.CompletedProcess:
    command = [sys.executable, "main.py", *args]
    if instrumented:
        command.insert(0, str(BIN_DIR / "opentelemetry-instrument"))
    inherited = {name: value for name, value in os.environ.items() if name not in DEFAULTS}
    # Its own session, so a run that hangs is stopped with every worker it started.
    with subprocess.Popen(
        command,
        env={**inherited, **env},
        cwd=FEEDWORKER,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"{' '.join(args)}: still running after {RUN_TIMEOUT} s\n{stderr[-4000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.fixture(scope="module", params=["spawn", "fork"])
def runs(request, stack: Stack, jaeger: JaegerClient, transcripts_url: str, fake_openai):
    """(instrumented run, plain run, every trace of the instrumented run's service), with the
    process pool's workers spawned or forked (from an episode's thread)."""
    service = f"test-feedworker-{request.param}-{uuid.uuid4().hex[:8]}"
    args = [
        *("--transcripts-url", transcripts_url, "--llm-url", f"{fake_openai.base_url}/v1"),
        *("--start-method", request.param),
    ]
    env = {
        **stack.otel_env(service),
        "OPENAI_API_KEY": "test-key",
        "PODCAST_KG_OTEL_TRACED_FUNCTIONS": TARGETS,
    }
    calls_before = len(fake_openai.requests)
    traced = _run([*args, "--namespace", f"{service}-traced"], env, instrumented=True)
    plain = _run([*args, "--namespace", f"{service}-plain"], {}, instrumented=False)
    assert traced.returncode == 0, traced.stderr[-4000:]
    assert plain.returncode == 0, plain.stderr[-4000:]
    # two model calls per summarized episode in each run, none retried
    assert len(fake_openai.requests) - calls_before == 2 * 2 * len(OK_EPISODES)
    jaeger.wait_for_traces(service, count=len(OK_EPISODES) + 1, timeout=60, settle=2.0)
    time.sleep(1.0)  # late worker spans would show up as extra traces or spans
    return traced, plain, jaeger.traces(service, limit=1000)


def _episode(trace: Trace) -> str:
    """The episode a trace belongs to, from the transcript URL its download span fetched."""
    (download,) = [s for s in trace.spans if "/transcripts/" in s.attributes.get("url.full", "")]
    return download.attributes["url.full"].rsplit("/", 1)[-1].split(".")[0].removesuffix("-removed")


def _children(span: Span) -> list[str]:
    return sorted(child.name for child in span.children)


def _redis(span: Span, command: str) -> bool:
    return span.name == command and span.attributes.get("db.system.name") == "redis"


def test_one_trace_per_episode_every_span_under_its_root(runs) -> None:
    traced, plain, traces = runs
    assert traced.stdout == plain.stdout  # the pipeline's own behaviour is unchanged
    assert "done: 3 of 4 episodes summarized" in traced.stdout
    for noise in ("TRACED_FUNCTIONS", "Traceback", "Failed to detach context"):
        assert noise not in traced.stderr, traced.stderr[-4000:]

    # Exactly one trace per episode, and nothing else: no orphan span made a trace of its own.
    assert sorted(_episode(trace) for trace in traces) == [*OK_EPISODES, REMOVED]
    assert [trace.root.name for trace in traces] == [ROOT] * 4  # one root each, connected

    for trace in traces:
        root = trace.root
        if _episode(trace) == REMOVED:
            assert root.status_code == "ERROR"
            assert root.attributes["error.type"] == "requests.exceptions.HTTPError"
            assert _children(root) == ["GET", "GET"]
            (download,) = [s for s in root.children if "url.full" in s.attributes]
            assert download.status_code == "ERROR"
            assert download.attributes["http.response.status_code"] == 404
            continue
        assert root.status_code == "UNSET"
        assert _children(root) == sorted(["GET", "GET", "main.score_chunks", CHAT, CHAT, "SET"]), (
            trace.render()
        )
        assert len(trace.spans) == 9, trace.render()  # the six above and one POST per chat
        assert [s.name for s in root.children if _redis(s, "GET")] == ["GET"]
        assert [s.name for s in root.children if _redis(s, "SET")] == ["SET"]
        # the CPU work ran in a worker process, under the episode that submitted it
        worker = trace.one("main.score_chunks")
        assert worker.resource["process.pid"] != root.resource["process.pid"]


def _usage(span: Span) -> tuple[int, int]:
    return span.attributes["gen_ai.usage.input_tokens"], span.attributes[
        "gen_ai.usage.output_tokens"
    ]


def _returned(usage: dict[str, int]) -> tuple[int, int]:
    return usage["prompt_tokens"], usage["completion_tokens"]


def test_one_chat_span_per_model_call_with_the_providers_tokens(runs) -> None:
    _, _, traces = runs
    ok = [trace for trace in traces if _episode(trace) != REMOVED]
    assert len(ok) == 3
    for trace in ok:
        chats = [s for s in trace.spans if s.attributes.get("gen_ai.operation.name") == "chat"]
        by_scope = {span.scope: span for span in chats}
        # 0 duplicates: the SDK call made directly has the SDK's span; the call LangChain
        # drives has LangChain's span only, the SDK's own span inside it is not made.
        assert len(chats) == 2 and set(by_scope) == {SDK_SCOPE, LANGCHAIN_SCOPE}
        for chat in chats:
            assert chat.parent is trace.root
            assert chat.kind == "client"
            assert [child.name for child in chat.children] == ["POST"]
            assert chat.children[0].attributes["url.full"].endswith("/v1/chat/completions")
        direct, langchain = by_scope[SDK_SCOPE], by_scope[LANGCHAIN_SCOPE]
        # what the fake returned: the streamed usage for the direct call, the plain one
        # for LangChain's ainvoke
        assert _usage(direct) == _returned(OPENAI_STREAM_USAGE)
        assert _usage(langchain) == _returned(OPENAI_USAGE)
        total = sum(s.attributes.get("gen_ai.usage.input_tokens", 0) for s in trace.spans)
        assert total == OPENAI_STREAM_USAGE["prompt_tokens"] + OPENAI_USAGE["prompt_tokens"]
        for chat in chats:  # private by default: no prompt or completion in the spans
            assert not any("message" in key or "content" in key for key in chat.attributes)


def test_with_the_run_span_the_whole_run_is_one_trace(
    stack: Stack, jaeger: JaegerClient, transcripts_url: str, fake_openai
) -> None:
    service = f"test-feedworker-run-{uuid.uuid4().hex[:8]}"
    args = ["--transcripts-url", transcripts_url, "--llm-url", f"{fake_openai.base_url}/v1"]
    env = {
        **stack.otel_env(service),
        "OPENAI_API_KEY": "test-key",
        "PODCAST_KG_OTEL_TRACED_FUNCTIONS": TARGETS,
        "PODCAST_KG_OTEL_RUN_SPAN": "true",
    }

    result = _run([*args, "--namespace", service], env, instrumented=True)

    assert result.returncode == 0, result.stderr[-4000:]
    trace = jaeger.wait_for_trace(service, min_spans=1 + 3 * 9 + 3, timeout=60, settle=2.0)
    assert len(jaeger.traces(service)) == 1  # no span outside it
    root = trace.root
    assert root.name == "main.py"
    assert root.attributes["process.exit.code"] == 0
    assert "podcast_kg_otel.span.ended_at_exit" not in root.attributes
    assert [child.name for child in root.children] == [ROOT] * 4  # the episodes, in threads
    assert sorted(len(list(episode.walk())) for episode in root.children) == [3, 9, 9, 9]
