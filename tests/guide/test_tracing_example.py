"""examples/tracing_example.py runs, plainly and under opentelemetry-instrument, and the trace
whose address it prints is in Jaeger with every part of the guide's API in place."""

from __future__ import annotations

import re
import subprocess

import pytest

from stacktools.jaeger import JaegerClient, Span
from stacktools.stack import REPO_ROOT, Stack

from .conftest import sample_command

EXAMPLE = REPO_ROOT / "examples" / "tracing_example.py"
PRINTED = re.compile(r"^Trace ([0-9a-f]{32}) of service '([^']+)':$", re.MULTILINE)


def only(spans: list[Span], name: str) -> Span:
    (span,) = [span for span in spans if span.name == name]
    return span


@pytest.mark.parametrize("instrumented", [False, True], ids=["python", "opentelemetry-instrument"])
def test_the_example_runs_and_its_trace_is_in_jaeger(
    instrumented: bool,
    sample_env: dict[str, str],
    stack: Stack,
    jaeger: JaegerClient,
    service_name: str,
) -> None:
    command = sample_command(
        EXAMPLE, "--jaeger-url", stack.jaeger_query_url, instrumented=instrumented
    )
    result = subprocess.run(command, env=sample_env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    # Where to see it: the trace id and both addresses.
    (trace_id, printed_service), *_ = PRINTED.findall(result.stdout)
    assert printed_service == service_name
    assert f"{stack.jaeger_query_url}/trace/{trace_id}\n" in result.stdout
    assert f"{stack.jaeger_query_url}/api/traces/{trace_id}\n" in result.stdout
    spans_expected = 14 if instrumented else 13  # + the requests client span
    trace = jaeger.wait_for_trace(service_name, min_spans=spans_expected)
    assert trace.trace_id == trace_id and len(trace.spans) == spans_expected

    root = trace.root
    assert (root.name, root.status_code) == ("example.process_episode", "UNSET")
    assert root.attributes == {
        "episode.id": "ep-042",
        "data.size": 3,
        "guest.has_biography": False,
    }
    assert [child.name for child in root.children] == [
        "example.fetch_episode",
        "example.check_chunks",
        "example.transcribe",
        "episode_processing.knowledge_extraction",
        "example.notify_indexer",
        "example.fetch_guest_bio",
        "example.report",
    ]
    children = root.children

    # Sync decorator with add_span_attributes.
    fetch = only(children, "example.fetch_episode")
    assert fetch.attributes == {"episode.id": "ep-042", "episode.title": "Graphs all the way down"}

    # Error recorded by hand on a span of get_tracer's tracer, handled there: once.
    check = only(children, "example.check_chunks")
    assert (check.status_code, check.status_description) == ("ERROR", "chunk 2 has no speech")
    assert check.scope == "tracing_example"
    (event,) = check.events_named("exception")
    assert event.attributes["exception.type"] == "ValueError"

    # Async decorator: the coroutines gathered nest under it.
    transcribe = only(children, "example.transcribe")
    chunks = transcribe.children
    assert [chunk.name for chunk in chunks] == ["example.transcribe.chunk"] * 2
    assert sorted(chunk.attributes["chunk.index"] for chunk in chunks) == [0, 1]

    # Business operation around a provider call and a database call.
    business = only(children, "episode_processing.knowledge_extraction")
    assert business.attributes["episode.id"] == "ep-042"
    assert business.attributes["entities.count"] == business.attributes["entities.created"] > 0
    llm, database = business.children
    assert (llm.name, llm.kind) == ("generate_content gemini-pro", "client")
    assert llm.attributes["gen_ai.request.model"] == "gemini-pro"
    assert llm.attributes["gen_ai.usage.output_tokens"] == business.attributes["entities.count"]
    assert "Jaeger" not in str(llm.attributes)  # no transcript or entity in the span
    assert (database.name, database.kind) == ("neo4j.write", "client")
    assert database.attributes["db.system.name"] == "neo4j"
    assert database.attributes["db.query.text"] == (
        "UNWIND $names AS name MERGE (:Entity {name: name, source: ?})"
    )

    # The HTTP call: the server side continues the trace from the request headers.
    notify = only(children, "example.notify_indexer")
    (below,) = notify.children
    if instrumented:  # requests' own client span carries the context
        assert (below.name, below.kind) == ("POST", "client")
        assert below.attributes["http.response.status_code"] == 204
        (below,) = below.children
    server = below
    assert (server.name, server.kind, server.status_code) == (
        "indexer.index_episode",
        "server",
        "UNSET",
    )
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["url.path"] == "/episodes"
    assert server.attributes["episode.id"] == "ep-042"

    # Decorated function raising: recorded once by the decorator, re-raised, handled above.
    bio = only(children, "example.fetch_guest_bio")
    assert bio.status_code == "ERROR"
    assert bio.attributes["error.type"] == "LookupError"
    (event,) = bio.events_named("exception")
    assert event.attributes["exception.message"] == "no biography for guest 'Ada'"

    # get_tracer's span with the guide's attribute set.
    report = only(children, "example.report")
    assert report.attributes == {
        "episode.id": "ep-042",
        "podcast.id": "pod-7",
        "segments.count": 2,
        "entities.count": business.attributes["entities.count"],
        "result.status": "success",
    }
    assert {span.service for span in trace.spans} == {service_name}
    assert root.resource["telemetry.distro.name"] == "podcast-kg-otel"
