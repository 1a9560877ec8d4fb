"""The Jaeger query client of the tests: the product's client (podcast_kg_otel.jaeger_query)
plus waiting for traces to arrive.

Tests use it to assert on what really reached Jaeger: span names, kinds, parents,
attributes, status, events, and the service name and resource of each span's process.
"""

from __future__ import annotations

import time
from typing import Any

from podcast_kg_otel.jaeger_query import Event, QueryClient, Span, Trace, parse_trace

__all__ = ["Event", "JaegerClient", "Span", "Trace", "parse_trace"]


class JaegerClient(QueryClient):
    """The query client, with waits that fail the test when traces do not arrive."""

    def wait_for_traces(
        self,
        service: str,
        *,
        count: int = 1,
        min_spans: int = 1,
        timeout: float = 30.0,
        settle: float = 0.5,
        **params: Any,
    ) -> list[Trace]:
        """Poll until `service` has at least `count` traces of `min_spans` spans each.

        After that it waits `settle` seconds and reads once more, so that late spans
        of the same traces are included. Raises AssertionError on timeout with what
        was found, so a missing trace fails the test rather than skipping it.
        """
        deadline = time.monotonic() + timeout
        found: list[Trace] = []
        while time.monotonic() < deadline:
            found = [t for t in self.traces(service, **params) if len(t.spans) >= min_spans]
            if len(found) >= count:
                time.sleep(settle)
                return [t for t in self.traces(service, **params) if len(t.spans) >= min_spans]
            time.sleep(0.25)
        raise AssertionError(
            f"Jaeger has {len(found)} trace(s) of >= {min_spans} span(s) for service "
            f"{service!r} after {timeout}s; expected {count}. Services: {self.services()}"
        )

    def wait_for_trace(self, service: str, **kwargs: Any) -> Trace:
        """The single trace of `service` (see wait_for_traces)."""
        traces = self.wait_for_traces(service, **kwargs)
        if len(traces) != 1:
            raise AssertionError(f"expected one trace for {service!r}, found {len(traces)}")
        return traces[0]
