"""The tracing guide's Python API in one program you can run.

    python examples/tracing_example.py                            # sets tracing up itself
    opentelemetry-instrument python examples/tracing_example.py   # zero-code set-up, reused

It follows one podcast episode through a small pipeline and uses one part of the guide's
API at each step: a traced function fetches the episode, coroutines transcribe it, a
business operation extracts entities with a (local, stand-in) LLM and stores them in a
(stand-in) graph, an HTTP call carries the trace to an "indexer" service (a tiny server on
127.0.0.1 in a thread of this process), a hand-made span reports, and two steps fail on
purpose to show how errors are recorded. It prints where to see the trace.

Spans go over OTLP to a Jaeger at 127.0.0.1:4318 unless the ``OTEL_*`` or the guide's
``JAEGER_*``/``TRACING_*`` variables say otherwise (see docs/configuration.md); start one
with ``deploy/local/up`` or ``docker compose -f deploy/docker-compose.yml up jaeger``.
Besides podcast-kg-otel it needs ``requests``.

Under ``opentelemetry-instrument`` the installed instrumentations are on, so ``requests``
adds its own client span (and carries the trace itself). From code, ``instrument_all()``
does the same, but at once for every installed library: it imports them all, which takes
seconds, so this example leaves it out.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.url_attributes import URL_PATH
from opentelemetry.trace import SpanContext, SpanKind, StatusCode, format_trace_id

from podcast_kg_otel import (
    TracingConfig,
    add_span_attributes,
    create_span,
    extract_context,
    get_tracer,
    init_tracing,
    inject_context,
    trace_async,
    trace_business_operation,
    trace_database,
    trace_method,
    trace_provider_call,
)

EPISODE = {
    "id": "ep-042",
    "podcast_id": "pod-7",
    "title": "Graphs all the way down",
    "guest": "Ada",
    # What the "audio" says, one string per chunk; the last one is unreadable on purpose.
    "chunks": [
        "Ada explains how Neo4j stores a Knowledge Graph.",
        "Then Jaeger shows every Span of the Pipeline.",
        "",
    ],
}
GRAPH: set[str] = set()  # stands in for Neo4j (the neo4j plugin traces a real driver)
tracer = get_tracer("tracing_example")


@trace_method(name="example.fetch_episode")
def fetch_episode(episode_id: str) -> dict:
    """Decorator, sync: one span per call, named as given."""
    add_span_attributes({"episode.id": episode_id, "episode.title": EPISODE["title"]})
    return EPISODE


@trace_async(name="example.transcribe")
async def transcribe(chunks: list[str]) -> str:
    """Decorator, async: the chunk spans started in ``gather`` nest under this one."""
    texts = await asyncio.gather(*(transcribe_chunk(i, c) for i, c in enumerate(chunks)))
    return " ".join(text for text in texts if text)


@trace_async(name="example.transcribe.chunk")
async def transcribe_chunk(index: int, chunk: str) -> str:
    add_span_attributes({"chunk.index": index, "chunk.characters": len(chunk)})
    await asyncio.sleep(0.01)  # the "model" at work
    return chunk


def check_chunks(chunks: list[str]) -> list[str]:
    """Error handling by hand, as the guide's best practice shows: record the exception and
    set ERROR on a span you manage, when you handle the error yourself.

    Re-raising from the ``except`` would record it twice: an exception that escapes
    ``create_span``, the decorators or ``start_as_current_span`` is recorded by them.
    """
    with tracer.start_as_current_span("example.check_chunks") as span:
        try:
            for index, chunk in enumerate(chunks):
                if not chunk:
                    raise ValueError(f"chunk {index} has no speech")
        except ValueError as error:
            span.record_exception(error)
            span.set_status(StatusCode.ERROR, str(error))
            return [chunk for chunk in chunks if chunk]  # handled: go on without it
        return chunks


@trace_provider_call("llm", "generate", model="gemini-pro")
def extract_entities(transcript: str) -> list[str]:
    """A provider call: a CLIENT span following the GenAI conventions. A local stand-in
    answers instead of a model: the capitalised words. Prompts and answers stay out of the
    span; counts are fine."""
    words = [word.strip(".,") for word in transcript.split()]
    entities = sorted({word for word in words[1:] if word[:1].isupper()})
    add_span_attributes(
        {"gen_ai.usage.input_tokens": len(words), "gen_ai.usage.output_tokens": len(entities)}
    )
    return entities


@trace_database(
    "write", "neo4j", query="UNWIND $names AS name MERGE (:Entity {name: name, source: 'asr'})"
)
def store_entities(names: list[str]) -> int:
    """A database call: a CLIENT span with the query text, literals replaced by ``?``."""
    created = len(set(names) - GRAPH)
    GRAPH.update(names)
    return created


class IndexerHandler(http.server.BaseHTTPRequestHandler):
    """The receiving service: continues the caller's trace from the request headers."""

    def do_POST(self) -> None:
        parent = extract_context(self.headers)
        with create_span("indexer.index_episode", kind=SpanKind.SERVER, context=parent) as span:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            span.set_attributes(
                {
                    HTTP_REQUEST_METHOD: "POST",
                    URL_PATH: self.path,
                    HTTP_RESPONSE_STATUS_CODE: 204,
                    "episode.id": body["episode_id"],
                }
            )
            self.send_response(204)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the span is the log."""


@contextmanager
def indexer_service() -> Iterator[str]:
    """The indexer on an ephemeral 127.0.0.1 port, in a thread, stopped on exit."""
    server = http.server.HTTPServer(("127.0.0.1", 0), IndexerHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/episodes"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@trace_method(name="example.notify_indexer")
def notify_indexer(url: str, episode_id: str) -> None:
    """Context propagation by hand: the trace context goes into the request headers."""
    headers = inject_context({})  # {"traceparent": "00-<trace id>-<this span's id>-01"}
    response = requests.post(url, json={"episode_id": episode_id}, headers=headers, timeout=10)
    response.raise_for_status()


@trace_method(name="example.fetch_guest_bio")
def fetch_guest_bio(guest: str) -> str:
    """Fails: the decorator records the exception (event, ERROR status, ``error.type``)
    once and re-raises it unchanged."""
    raise LookupError(f"no biography for guest {guest!r}")


def process_episode(episode_id: str, indexer_url: str) -> SpanContext:
    """One episode, one trace; returns its root span's context."""
    with create_span("example.process_episode") as root:
        episode = fetch_episode(episode_id)
        root.set_attribute("episode.id", episode["id"])
        root.set_attribute("data.size", len(episode["chunks"]))
        chunks = check_chunks(episode["chunks"])
        transcript = asyncio.run(transcribe(chunks))
        with trace_business_operation(
            "episode_processing", "knowledge_extraction", episode_id=episode["id"]
        ):
            entities = extract_entities(transcript)
            created = store_entities(entities)
            add_span_attributes({"entities.count": len(entities), "entities.created": created})
        notify_indexer(indexer_url, episode["id"])
        try:
            biography = fetch_guest_bio(episode["guest"])
        except LookupError:
            biography = ""  # handled: the episode goes out without one
        root.set_attribute("guest.has_biography", bool(biography))
        with tracer.start_as_current_span("example.report") as span:
            span.set_attributes(
                {
                    "episode.id": episode["id"],
                    "podcast.id": episode["podcast_id"],
                    "segments.count": len(chunks),
                    "entities.count": len(entities),
                    "result.status": "success",
                }
            )
        return root.get_span_context()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jaeger-url",
        default="http://localhost:16686",
        help="where Jaeger's UI and query API answer (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    # The environment, then the guide's defaults; under opentelemetry-instrument the
    # provider it already installed is reused and nothing is set up twice.
    provider = init_tracing(config=TracingConfig.from_env())
    with indexer_service() as indexer_url:
        root = process_episode(EPISODE["id"], indexer_url)
    if provider is None:
        print("Tracing is off (OTEL_SDK_DISABLED, JAEGER_ENABLED or OTEL_TRACES_EXPORTER).")
        return 0
    trace_id = format_trace_id(root.trace_id)
    if not root.trace_flags.sampled:
        print(f"Trace {trace_id} was sampled out (TRACING_SAMPLING_RATE, OTEL_TRACES_SAMPLER).")
        return 0
    # No flush needed: spans still buffered are exported at exit, within a bounded time
    # (a Jaeger that is down costs a warning line, not a wait).
    service = provider.resource.attributes.get("service.name")
    jaeger = args.jaeger_url.rstrip("/")
    print(f"Trace {trace_id} of service {service!r}:")
    print(f"  Jaeger UI:  {jaeger}/trace/{trace_id}")
    print(f"  query API:  {jaeger}/api/traces/{trace_id}")
    print("  (the Jaeger that deploy/local/up builds serves the query API only; the UI comes")
    print("  with `docker compose -f deploy/docker-compose.yml up jaeger`)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
