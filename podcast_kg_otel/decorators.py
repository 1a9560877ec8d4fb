"""The guide's decorators: ``trace_method``, ``trace_async``, ``trace_database`` and
``trace_provider_call``.

One wrapper per function kind (plain, coroutine, generator, async generator). For
generators the span covers the whole iteration and is current only while the generator's
own code runs, never in the consumer between items. The exception is recorded exactly once
(ERROR status, ``error.type``) and re-raised unchanged.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.util.types import AttributeValue

from podcast_kg_otel import attributes as attrs
from podcast_kg_otel.spans import SpanScope, default_tracer, record_failure

F = TypeVar("F", bound=Callable[..., Any])
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\b\d+(?:\.\d+)?\b")
_GEN_AI_OPERATIONS = {
    "generate": "generate_content",
    "chat": "chat",
    "complete": "text_completion",
    "completion": "text_completion",
    "embed": "embeddings",
    "embeddings": "embeddings",
}


def wrap_callable(
    func: F,
    name: str | None,
    attributes: Mapping[str, AttributeValue] | None,
    kind: SpanKind,
    tracer_provider: TracerProvider | None,
) -> F:
    """`func` wrapped in a span per call, whatever kind of function it is; the one wrapper
    behind the decorators and the traced-by-configuration functions (functions.py)."""
    span_name = name or f"{func.__module__}.{func.__qualname__}"
    span_attributes = dict(attributes) if attributes else None

    def start() -> trace.Span:
        tracer = default_tracer(tracer_provider)
        return tracer.start_span(span_name, kind=kind, attributes=span_attributes)

    if inspect.isasyncgenfunction(func):
        return _wrap_async_generator(func, start)  # type: ignore[return-value]
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(func, start)  # type: ignore[return-value]
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with SpanScope(start()):
                return await func(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with SpanScope(start()):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _wrap_generator(
    func: Callable[..., Any], start: Callable[[], trace.Span]
) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = start()
        span_context = trace.set_span_in_context(span)
        generator = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                token = context_api.attach(span_context)
                try:
                    item = generator.throw(thrown) if thrown is not None else generator.send(sent)
                except StopIteration as stop:
                    return stop.value
                finally:
                    context_api.detach(token)
                try:
                    sent, thrown = (yield item), None
                except GeneratorExit:
                    generator.close()
                    raise
                except BaseException as error:  # forwarded into the generator
                    thrown = error
        except Exception as error:
            record_failure(span, error)
            raise
        finally:
            span.end()

    return wrapper


def _wrap_async_generator(
    func: Callable[..., Any], start: Callable[[], trace.Span]
) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = start()
        span_context = trace.set_span_in_context(span)
        generator = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                token = context_api.attach(span_context)
                try:
                    if thrown is not None:
                        item = await generator.athrow(thrown)
                    else:
                        item = await generator.asend(sent)
                except StopAsyncIteration:
                    return
                finally:
                    context_api.detach(token)
                try:
                    sent, thrown = (yield item), None
                except GeneratorExit:
                    await generator.aclose()
                    raise
                except BaseException as error:  # forwarded into the generator
                    thrown = error
        except Exception as error:
            record_failure(span, error)
            raise
        finally:
            span.end()

    return wrapper


@overload
def trace_method(name: F) -> F: ...
@overload
def trace_method(
    name: str | None = None,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    tracer_provider: TracerProvider | None = None,
) -> Callable[[F], F]: ...
def trace_method(
    name: str | F | None = None,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    tracer_provider: TracerProvider | None = None,
) -> Callable[[F], F] | F:
    """Trace every call of a function, method, coroutine, generator or async generator.

    ``@trace_method`` or ``@trace_method(name="my_operation", attributes={...})``; the
    default span name is ``module.qualname``.
    """
    if callable(name):
        return wrap_callable(name, None, attributes, kind, tracer_provider)

    def decorate(func: F) -> F:
        return wrap_callable(func, name, attributes, kind, tracer_provider)

    return decorate


trace_async = trace_method
"""The guide's name for tracing coroutines; the same decorator (it handles every kind)."""


def sanitize_query(query: str) -> str:
    """The query with string and number literals replaced by ``?``."""
    return _LITERALS.sub("?", query)


def trace_database(
    operation: str,
    db_system: str,
    query: str | None = None,
    *,
    name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    **attributes: AttributeValue,
) -> Callable[[F], F]:
    """``@trace_database("query", "neo4j", query="MATCH (n) RETURN n")``: a CLIENT span
    ``neo4j.query`` with ``db.system.name``, ``db.operation.name`` and the query text
    stripped of literals in ``db.query.text``."""
    values: dict[str, AttributeValue] = {
        attrs.DB_SYSTEM_NAME: db_system,
        attrs.DB_OPERATION_NAME: operation,
        **attributes,
    }
    if query:
        values[attrs.DB_QUERY_TEXT] = sanitize_query(query)

    def decorate(func: F) -> F:
        function_values = {attrs.CODE_FUNCTION_NAME: func.__qualname__, **values}
        span_name = name or f"{db_system}.{operation}"
        return wrap_callable(func, span_name, function_values, SpanKind.CLIENT, tracer_provider)

    return decorate


def trace_provider_call(
    provider_type: str,
    operation: str,
    model: str | None = None,
    *,
    provider: str | None = None,
    name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    **attributes: AttributeValue,
) -> Callable[[F], F]:
    """``@trace_provider_call("llm", "generate", model="gemini-pro")``: a CLIENT span.

    For ``llm`` calls it follows the GenAI conventions (span ``generate_content
    gemini-pro``, ``gen_ai.operation.name``, ``gen_ai.request.model``,
    ``gen_ai.provider.name`` when `provider` is given); other provider types get
    ``podcast_kg.provider.*`` attributes and the span ``<type>.<operation>``.
    """
    values: dict[str, AttributeValue] = {
        attrs.PROVIDER_TYPE: provider_type,
        attrs.PROVIDER_OPERATION: operation,
        **attributes,
    }
    if provider_type == "llm":
        gen_ai_operation = _GEN_AI_OPERATIONS.get(operation, operation)
        values[attrs.GEN_AI_OPERATION_NAME] = gen_ai_operation
        if model:
            values[attrs.GEN_AI_REQUEST_MODEL] = model
        if provider:
            values[attrs.GEN_AI_PROVIDER_NAME] = provider
        default_name = f"{gen_ai_operation} {model}" if model else gen_ai_operation
    else:
        if model:
            values[attrs.PROVIDER_MODEL] = model
        default_name = f"{provider_type}.{operation}"

    def decorate(func: F) -> F:
        function_values = {attrs.CODE_FUNCTION_NAME: func.__qualname__, **values}
        span_name = name or default_name
        return wrap_callable(func, span_name, function_values, SpanKind.CLIENT, tracer_provider)

    return decorate
