"""Jaeger's query API, read as span trees: used by ``podcast-kg-otel traces`` and the tests.

Jaeger v2 serves the JSON API its UI uses (``/api/traces``, ``/api/traces/{id}``,
``/api/services``); each trace comes back as a tree of spans with kinds, parents,
attributes, status, events, and the service and resource of each span's process. Only
the standard library is used, so the command starts fast and needs nothing extra.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Tags that Jaeger's OTLP translator adds to every span; exposed as fields instead.
_SYNTHETIC_TAGS = {
    "span.kind",
    "otel.status_code",
    "otel.status_description",
    "error",
    "otel.scope.name",
    "otel.scope.version",
}


def _tag_value(tag: dict[str, Any]) -> Any:
    value = tag.get("value")
    kind = tag.get("type")
    if kind == "int64":
        return int(value)
    if kind == "float64":
        return float(value)
    if kind == "bool":
        return value in (True, "true")
    return value


def _tags(tags: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {tag["key"]: _tag_value(tag) for tag in tags or []}


@dataclass
class Event:
    name: str
    timestamp_us: int
    attributes: dict[str, Any]


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_us: int
    duration_us: int
    attributes: dict[str, Any]
    status_code: str
    status_description: str | None
    events: list[Event]
    service: str
    resource: dict[str, Any]
    scope: str | None
    children: list[Span] = field(default_factory=list)
    parent: Span | None = field(default=None, repr=False)

    def events_named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]

    def walk(self) -> Iterator[Span]:
        """This span and its descendants, depth first, children in start order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Trace:
    trace_id: str
    spans: list[Span]

    @property
    def roots(self) -> list[Span]:
        return [span for span in self.spans if span.parent is None]

    @property
    def root(self) -> Span:
        roots = self.roots
        if len(roots) != 1:
            raise AssertionError(f"expected one root, found {[s.name for s in roots]}")
        return roots[0]

    def named(self, name: str) -> list[Span]:
        return [span for span in self.spans if span.name == name]

    def one(self, name: str) -> Span:
        spans = self.named(name)
        if len(spans) != 1:
            raise AssertionError(
                f"expected one span named {name!r}, found {len(spans)} in "
                f"{sorted(span.name for span in self.spans)}"
            )
        return spans[0]

    def render(self, attributes: Callable[[Span], str] | None = None) -> str:
        """The tree as indented text: name, duration, status, and optional details."""
        lines: list[str] = []

        def visit(span: Span, depth: int) -> None:
            status = " ERROR" if span.status_code == "ERROR" else ""
            extra = f"  {attributes(span)}" if attributes else ""
            timing = f"[{span.kind}, {span.duration_us / 1000:.1f} ms]"
            lines.append(f"{'  ' * depth}{span.name}  {timing}{status}{extra}")
            for child in span.children:
                visit(child, depth + 1)

        for root in sorted(self.roots, key=lambda s: s.start_us):
            visit(root, 0)
        return "\n".join(lines)


def parse_trace(data: dict[str, Any]) -> Trace:
    """Build a Trace from one element of the legacy API's `data` list."""
    processes = data.get("processes", {})
    spans: dict[str, Span] = {}
    for raw in data["spans"]:
        tags = _tags(raw.get("tags"))
        parent_id = next(
            (
                ref["spanID"]
                for ref in raw.get("references") or []
                if ref.get("refType") == "CHILD_OF"
            ),
            None,
        )
        process = processes.get(raw.get("processID"), {})
        spans[raw["spanID"]] = Span(
            trace_id=raw["traceID"],
            span_id=raw["spanID"],
            parent_id=parent_id,
            name=raw["operationName"],
            kind=tags.get("span.kind", "internal"),
            start_us=raw["startTime"],
            duration_us=raw["duration"],
            attributes={k: v for k, v in tags.items() if k not in _SYNTHETIC_TAGS},
            status_code=tags.get("otel.status_code", "UNSET"),
            status_description=tags.get("otel.status_description"),
            events=[
                Event(
                    name=str(_tags(log.get("fields")).get("event", "")),
                    timestamp_us=log["timestamp"],
                    attributes={k: v for k, v in _tags(log.get("fields")).items() if k != "event"},
                )
                for log in raw.get("logs") or []
            ],
            service=process.get("serviceName", ""),
            resource=_tags(process.get("tags")),
            scope=tags.get("otel.scope.name"),
        )
    for span in spans.values():
        parent = spans.get(span.parent_id) if span.parent_id else None
        if parent is not None:
            span.parent = parent
            parent.children.append(span)
    for span in spans.values():
        span.children.sort(key=lambda s: s.start_us)
    return Trace(
        trace_id=data["traceID"],
        spans=sorted(spans.values(), key=lambda s: s.start_us),
    )


class QueryClient:
    """Reads traces from Jaeger's query API (the JSON API the UI uses)."""

    def __init__(self, query_url: str) -> None:
        self.query_url = query_url.rstrip("/")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.query_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def services(self) -> list[str]:
        return self._get("/api/services")["data"] or []

    def traces(self, service: str, limit: int = 100, **params: Any) -> list[Trace]:
        """Traces of a service (newest first), parsed into span trees."""
        body = self._get("/api/traces", {"service": service, "limit": limit, **params})
        return [parse_trace(item) for item in (body or {}).get("data") or []]

    def trace(self, trace_id: str) -> Trace | None:
        body = self._get(f"/api/traces/{trace_id}")
        data = (body or {}).get("data") or []
        return parse_trace(data[0]) if data else None
