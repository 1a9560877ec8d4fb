"""How the demo prints a trace and where it points next (no stack needed)."""

from __future__ import annotations

from pipeline.server import serve_directory

from stacktools.demo import next_steps, render, serves_ui
from stacktools.jaeger import parse_trace


def tag(key, value, kind="string"):
    return {"key": key, "type": kind, "value": value}


TRACE = {
    "traceID": "ab" * 16,
    "processes": {"p1": {"serviceName": "svc", "tags": []}},
    "spans": [
        {
            "traceID": "ab" * 16,
            "spanID": "1" * 16,
            "operationName": "pipeline.stages.process_episode",
            "references": [],
            "startTime": 1_000,
            "duration": 4_000,
            "processID": "p1",
            "tags": [
                tag("span.kind", "internal"),
                tag("otel.status_code", "ERROR"),
                tag("code.file.path", "/somewhere/stages.py"),
                tag("error.type", "requests.exceptions.HTTPError"),
            ],
            "logs": [
                {
                    "timestamp": 4_900,
                    "fields": [
                        tag("event", "exception"),
                        tag("exception.type", "requests.exceptions.HTTPError"),
                        tag("exception.message", "404 Client Error: File not found " + "x" * 80),
                    ],
                }
            ],
        },
        {
            "traceID": "ab" * 16,
            "spanID": "2" * 16,
            "operationName": "GET",
            "references": [{"refType": "CHILD_OF", "traceID": "ab" * 16, "spanID": "1" * 16}],
            "startTime": 2_000,
            "duration": 1_500,
            "processID": "p1",
            "tags": [
                tag("span.kind", "client"),
                tag("otel.status_code", "ERROR"),
                tag("http.method", "GET"),
                tag("http.status_code", "404", "int64"),
                tag("faster_whisper.realtime_factor", "0.123456", "float64"),
            ],
        },
    ],
}


def test_render_shows_tree_durations_key_attributes_and_the_error():
    lines = render(parse_trace(TRACE)).splitlines()
    assert lines[0].startswith(
        "  pipeline.stages.process_episode  [internal, 4.0 ms] ERROR  "
        "error.type=requests.exceptions.HTTPError  !! requests.exceptions.HTTPError: 404 Client"
    )
    assert lines[0].endswith("…")  # long messages are cut
    assert "code.file.path" not in lines[0]  # only key attributes
    assert lines[1] == (
        "    GET  [client, 1.5 ms] ERROR  http.method=GET  http.status_code=404"
        "  faster_whisper.realtime_factor=0.123"
    )


def test_next_steps_link_the_ui_only_where_jaeger_serves_it(tmp_path):
    (tmp_path / "index.html").write_text("This is a placeholder for the Jaeger UI home page.")
    with serve_directory(tmp_path) as url:
        assert not serves_ui(url)
        (tmp_path / "index.html").write_text("<title>Jaeger UI</title>")
        assert serves_ui(url)
    assert not serves_ui(url)  # nothing listens any more

    with_ui = next_steps("http://jaeger:16686", "svc", ["abc"], ui=True)
    assert "http://jaeger:16686/api/traces/abc" in with_ui
    assert "http://jaeger:16686/trace/abc" in with_ui
    without_ui = next_steps("http://jaeger:16686", "svc", ["abc"], ui=False)
    assert "/trace/abc" not in without_ui
    assert "docker compose -f deploy/docker-compose.yml up" in without_ui
