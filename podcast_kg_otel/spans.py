"""Spans by hand: the guide's ``get_tracer``, ``create_span``, ``add_span_attributes`` and
``trace_business_operation``.

Spans are started with ``start_span`` and made current with a small class-based context
manager instead of the generator-based ``start_as_current_span``: it is cheaper, and the
exception handling is ours (recorded exactly once, ERROR status, re-raised unchanged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue
from podcast_kg_otel_util.errors import record_error
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import attributes as attrs
from podcast_kg_otel.version import __version__

SCOPE = "podcast_kg_otel"
_logger = logging.getLogger(__name__)
_cached: tuple[TracerProvider | None, Tracer | None] = (None, None)


def get_tracer(
    name: str = SCOPE, version: str | None = None, tracer_provider: TracerProvider | None = None
) -> Tracer:
    """A tracer from `tracer_provider` (default: the global provider)."""
    if name == SCOPE and version is None:
        version = __version__
    return trace.get_tracer(name, version, tracer_provider=tracer_provider)


def default_tracer(tracer_provider: TracerProvider | None = None) -> Tracer:
    """The package's tracer for `tracer_provider` (default: the global one), re-resolved
    only when the provider changes: a ProxyTracer, or a fresh tracer per call, would add
    to the cost of every span."""
    global _cached
    provider = tracer_provider or trace.get_tracer_provider()
    cached_provider, tracer = _cached
    if provider is not cached_provider or tracer is None:
        tracer = get_tracer(tracer_provider=provider)
        _cached = (provider, tracer)
    return tracer


def record_failure(span: Span, error: Exception) -> None:
    """Record `error` on `span` once; a failure of our own here is logged, never raised
    (it would replace the application's exception)."""
    with guard(_logger, "recording an exception"):
        record_error(span, error)


class SpanScope:
    """Makes `span` current for a ``with`` block, records an exception escaping it once
    (ERROR status, ``error.type``), lets it propagate unchanged and ends the span.

    Only ``Exception`` counts as an error: cancellation, ``KeyboardInterrupt`` and
    ``GeneratorExit`` end the span without marking it failed.
    """

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span) -> None:
        self._span = span
        self._token: object = None

    def __enter__(self) -> Span:
        self._token = context_api.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, Exception):
                record_failure(self._span, exc)
        finally:
            context_api.detach(self._token)  # type: ignore[arg-type]
            self._span.end()


def create_span(
    name: str,
    attributes: Mapping[str, AttributeValue] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    *,
    context: Context | None = None,
    tracer_provider: TracerProvider | None = None,
) -> SpanScope:
    """``with create_span("custom_operation") as span:`` - a child of the current span, or
    of `context` (e.g. ``context=extract_context(request.headers)`` to continue a trace)."""
    tracer = default_tracer(tracer_provider)
    span = tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    return SpanScope(span)


def _attribute_value(value: Any) -> AttributeValue:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (str, bool, int, float)) for v in value
    ):
        return list(value)
    return str(value)


def add_span_attributes(attributes: Mapping[str, Any]) -> None:
    """Set `attributes` on the current span; a no-op without a recording span. ``None``
    values are skipped; values of other types are stored as their ``str``."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes(
        {key: _attribute_value(value) for key, value in attributes.items() if value is not None}
    )


def trace_business_operation(
    operation_type: str,
    operation_name: str,
    *,
    tracer_provider: TracerProvider | None = None,
    **attributes: Any,
) -> SpanScope:
    """``with trace_business_operation("episode_processing", "knowledge_extraction",
    episode_id=...)``: a span ``episode_processing.knowledge_extraction``. Keyword attributes
    are named with ``_`` replaced by ``.`` (``episode_id`` -> ``episode.id``)."""
    values: dict[str, AttributeValue] = {
        attrs.BUSINESS_OPERATION_TYPE: operation_type,
        attrs.BUSINESS_OPERATION_NAME: operation_name,
    }
    for key, value in attributes.items():
        if value is not None:
            values[key.replace("_", ".")] = _attribute_value(value)
    return create_span(
        f"{operation_type}.{operation_name}", values, tracer_provider=tracer_provider
    )
