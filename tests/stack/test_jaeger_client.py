"""The span-tree parser on a trace in the query API's JSON shape (no server needed)."""

from stacktools.jaeger import parse_trace

TRACE = {
    "traceID": "t1",
    "spans": [
        {
            "traceID": "t1",
            "spanID": "b",
            "operationName": "child",
            "references": [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}],
            "startTime": 20,
            "duration": 5,
            "tags": [
                {"key": "span.kind", "type": "string", "value": "client"},
                {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                {"key": "otel.status_description", "type": "string", "value": "boom"},
                {"key": "error", "type": "bool", "value": True},
                {"key": "db.rows", "type": "int64", "value": "9007199254740993"},
                {"key": "ratio", "type": "float64", "value": 0.5},
            ],
            "logs": [
                {
                    "timestamp": 22,
                    "fields": [
                        {"key": "event", "type": "string", "value": "exception"},
                        {"key": "exception.type", "type": "string", "value": "ValueError"},
                    ],
                }
            ],
            "processID": "p1",
        },
        {
            "traceID": "t1",
            "spanID": "a",
            "operationName": "root",
            "references": [],
            "startTime": 10,
            "duration": 50,
            "tags": [],
            "logs": [],
            "processID": "p1",
        },
    ],
    "processes": {
        "p1": {
            "serviceName": "svc",
            "tags": [{"key": "service.version", "type": "string", "value": "1.2"}],
        }
    },
}


def test_parse_builds_the_tree_with_typed_attributes() -> None:
    trace = parse_trace(TRACE)
    root, child = trace.one("root"), trace.one("child")
    assert trace.root is root and root.children == [child] and child.parent is root
    assert (child.kind, root.kind) == ("client", "internal")
    assert (child.status_code, child.status_description) == ("ERROR", "boom")
    assert child.attributes == {"db.rows": 9007199254740993, "ratio": 0.5}
    assert [(e.name, e.attributes) for e in child.events] == [
        ("exception", {"exception.type": "ValueError"})
    ]
    assert (child.service, child.resource) == ("svc", {"service.version": "1.2"})
    assert trace.render().splitlines() == [
        "root  [internal, 0.1 ms]",
        "  child  [client, 0.0 ms] ERROR",
    ]
