"""The upstream LLM provider SDK instrumentations (openai-v2, google-genai) under our distro.

One chat span per model call. Our LangChain plugin makes a ``chat {model}`` CLIENT span for
every model call, with the model, token usage and finish reasons LangChain reports. When the
model is langchain-openai or langchain-google-genai, the provider SDK's own instrumentation
would make a second span for the same call inside it, with the same tokens, and every usage
sum over the trace would count them twice. The rule applied here: a provider SDK span started
while the current span is a GenAI inference span of another instrumentation is not recorded,
and what runs inside it (the HTTP or gRPC request, with its retries) nests directly under the
outer span. Called directly, or from inside another provider SDK call (a tool that calls a
second model), provider SDK spans are recorded as usual.

Ours is the span that stays: it sits in LangChain's run tree, exists for every LangChain
model (whether or not its SDK is instrumented), and speaks the same GenAI vocabulary. It is
the rule util-genai 1.3 applies itself (a nested inference makes no span); openai-v2 2.4b0
still needs util-genai 1.1, which predates it, so the distro applies it through the
``tracer_provider`` argument every instrumentor accepts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind
from opentelemetry.util.types import Attributes
from podcast_kg_otel_util.content import CAPTURE_CONTENT_ENV
from podcast_kg_otel_util.failopen import guard

_logger = logging.getLogger(__name__)

# util-genai reads the content setting as a mode (SPAN_ONLY, ...) and ignores, with a
# warning, the true/false our plugins and the older GenAI instrumentations accept.
_CAPTURE_MODES = {"true": "SPAN_ONLY", "false": "NO_CONTENT"}


@cache
def _inference() -> tuple[str, frozenset[str]]:
    """The operation-name attribute and its inference values. Imported on first use: the
    incubating semantic conventions take tens of milliseconds to import, and only the
    provider instrumentations (which import them anyway) reach this."""
    from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
        GEN_AI_OPERATION_NAME,
        GenAiOperationNameValues,
    )

    values = (
        GenAiOperationNameValues.CHAT,
        GenAiOperationNameValues.TEXT_COMPLETION,
        GenAiOperationNameValues.GENERATE_CONTENT,
    )
    return GEN_AI_OPERATION_NAME, frozenset(value.value for value in values)


def configure(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Settings for a provider SDK instrumentor, called before it is registered: the
    nested-inference tracer provider (unless the caller passed its own), and a boolean
    content setting spelled as the util-genai mode it means (SPAN_ONLY or NO_CONTENT), so
    one setting opts provider SDK spans in or out like our plugins."""
    value = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower()
    if value in _CAPTURE_MODES:
        os.environ[CAPTURE_CONTENT_ENV] = _CAPTURE_MODES[value]
    if "tracer_provider" in kwargs:
        return dict(kwargs)
    return {**kwargs, "tracer_provider": _shared_provider()}


@cache
def _shared_provider() -> NestedInferenceTracerProvider:
    """One for all provider instrumentors, so each knows the others' spans as provider
    spans (a Gemini call inside an OpenAI call's tool is a call of its own)."""
    return NestedInferenceTracerProvider()


class NestedInferenceTracerProvider(trace.TracerProvider):
    """Tracers of ``provider`` (the global one when None) that apply the nested-inference
    rule. The global provider is looked up when an instrumentor asks for its tracer."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        self._provider = provider
        self._scopes: set[str] = set()

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> trace.Tracer:
        self._scopes.add(instrumenting_module_name)
        provider = self._provider or trace.get_tracer_provider()
        tracer = provider.get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )
        return _NestedInferenceTracer(tracer, self._scopes)


class _NestedInferenceTracer(trace.Tracer):
    def __init__(self, tracer: trace.Tracer, scopes: set[str]) -> None:
        self._tracer = tracer
        self._scopes = scopes

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        outer = _outer_inference(context, self._scopes)
        if outer is not None:
            absorbed = _AbsorbedSpan(outer)
            absorbed.set_attributes(attributes or {})
            return absorbed
        return self._tracer.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )

    @contextmanager
    def start_as_current_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        span = self.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )
        with trace.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current


class _AbsorbedSpan(NonRecordingSpan):
    """What a provider SDK instrumentation gets inside another instrumentation's inference
    span. It has the outer span's context, so the SDK's request nests under that span, and
    nothing it does ends the outer span or sets its status or ``error.type`` (the outer
    span records its own outcome). The other attributes it sets that the
    outer span lacks (``server.address``, ``server.port``, a provider-specific response
    field) are added to the outer span: one span, the best data of both."""

    def __init__(self, outer: Span) -> None:
        super().__init__(outer.get_span_context())
        self._outer = outer

    def is_recording(self) -> bool:
        return self._outer.is_recording()

    def set_attribute(self, key: str, value: Any) -> None:
        self.set_attributes({key: value})

    @guard(  # the outer span keeps what it has
        _logger,
        "providers:absorb",
        "podcast-kg-otel: could not add a provider SDK call's attributes to its span",
    )
    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        present = getattr(self._outer, "attributes", None) or {}
        missing = {
            key: value
            for key, value in attributes.items()
            if key not in present and key != ERROR_TYPE  # the outer span's own outcome
        }
        if missing:
            self._outer.set_attributes(missing)


@guard(  # None: the provider span is then recorded as usual
    _logger,
    "providers:outer",
    "podcast-kg-otel: could not inspect the current span for a provider SDK call",
)
def _outer_inference(context: Context | None, provider_scopes: set[str]) -> Span | None:
    """The current span when it is another instrumentation's GenAI inference span."""
    span = trace.get_current_span(context)
    if not span.is_recording():
        return None
    # SDK spans (and the LangChain plugin's stand-in for its run span) expose these.
    attributes = getattr(span, "attributes", None) or {}
    operation, inference = _inference()
    if attributes.get(operation) not in inference:
        return None
    scope = getattr(span, "instrumentation_scope", None)
    if scope is not None and scope.name in provider_scopes:
        return None  # a provider SDK span: a call made inside it is a call of its own
    return span
