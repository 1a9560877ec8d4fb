"""Spans for embedding models, which emit no LangChain callbacks at all.

Every concrete `langchain_core.embeddings.Embeddings` subclass that defines
`embed_documents`, `embed_query`, `aembed_documents` or `aembed_query` gets those methods
wrapped: the classes that exist at `instrument()` time, and through an
`__init_subclass__` hook the ones defined later. The span is made current for the call, so
it nests under the retriever or step that asked for the embedding, and the provider's
own HTTP span nests under it. A nested call (a subclass calling `super()`, the async
default running the sync method in an executor) makes no second span.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled, unwrap
from opentelemetry.trace import SpanKind, Tracer
from podcast_kg_otel_util.failopen import guard
from wrapt import wrap_function_wrapper

from . import attributes as attr
from . import outcome
from .extract import provider_name

_logger = logging.getLogger(__name__)
_METHODS = ("embed_documents", "embed_query", "aembed_documents", "aembed_query")
_MODEL_FIELDS = ("model", "model_name", "model_id", "deployment")
_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "podcast_kg_otel_langchain.embedding", default=False
)


def _subclasses(base: type) -> Iterator[type]:
    seen: set[type] = set()
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.add(cls)
            stack.extend(cls.__subclasses__())
            yield cls


def _attributes(instance: Any) -> tuple[str, dict[str, Any]]:
    attrs: dict[str, Any] = {attr.OPERATION_NAME: attr.OP_EMBEDDINGS}
    package = type(instance).__module__.split(".", 1)[0]
    if package.startswith("langchain_") and package not in (
        "langchain_core",
        "langchain_community",
    ):
        provider = provider_name(package[len("langchain_") :])
        if provider:
            attrs[attr.PROVIDER_NAME] = provider
    model = next(
        (v for f in _MODEL_FIELDS if isinstance(v := getattr(instance, f, None), str) and v),
        None,
    )
    if model:
        attrs[attr.REQUEST_MODEL] = model
        return f"{attr.OP_EMBEDDINGS} {model}", attrs
    return attr.OP_EMBEDDINGS, attrs


def _dimension(method: str, result: Any) -> int | None:
    vector = result if method.endswith("query") else (result[0] if result else None)
    return len(vector) if isinstance(vector, list) else None


class EmbeddingsPatcher:
    """Wraps and unwraps the embedding methods of every `Embeddings` subclass."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self._patched: list[tuple[type, str]] = []
        self._base: type | None = None
        self._original_hook: Any = None

    def patch(self, base: type) -> None:
        self._base = base
        self._original_hook = base.__dict__.get("__init_subclass__")
        for cls in _subclasses(base):
            self._patch_class(cls)
        patcher = self

        def __init_subclass__(cls: type, **kwargs: Any) -> None:
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
            patcher._patch_class(cls)

        base.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]

    def unpatch(self) -> None:
        base = self._base
        if base is not None:
            if self._original_hook is not None:
                base.__init_subclass__ = self._original_hook  # type: ignore[assignment]
            elif "__init_subclass__" in base.__dict__:
                del base.__init_subclass__
        for cls, name in self._patched:
            unwrap(cls, name)
        self._patched.clear()

    def _patch_class(self, cls: type) -> None:
        with guard(_logger, "embeddings", f"podcast-kg-otel-langchain: cannot trace {cls!r}"):
            for name in _METHODS:
                if name in cls.__dict__ and not hasattr(cls.__dict__[name], "__wrapped__"):
                    wrapper = self._async if name.startswith("a") else self._sync
                    wrap_function_wrapper(cls, name, wrapper(name))
                    self._patched.append((cls, name))

    @guard(_logger, "embeddings.start", "podcast-kg-otel-langchain: embeddings span")
    def _start(self, instance: Any) -> Any:
        if _ACTIVE.get() or not is_instrumentation_enabled():
            return None
        name, attrs = _attributes(instance)
        return self._tracer.start_as_current_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            record_exception=False,
            set_status_on_exception=False,
        )

    def _sync(self, method: str) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            scope = self._start(instance)
            if scope is None:
                return wrapped(*args, **kwargs)
            with scope as span:
                token = _ACTIVE.set(True)
                try:
                    result = wrapped(*args, **kwargs)
                except BaseException as exc:
                    outcome.apply(span, exc)
                    raise
                finally:
                    _ACTIVE.reset(token)
                _finish(span, method, result)
                return result

        return wrapper

    def _async(self, method: str) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            async def traced() -> Any:
                scope = self._start(instance)
                if scope is None:
                    return await wrapped(*args, **kwargs)
                with scope as span:
                    token = _ACTIVE.set(True)
                    try:
                        result = await wrapped(*args, **kwargs)
                    except BaseException as exc:
                        outcome.apply(span, exc)
                        raise
                    finally:
                        _ACTIVE.reset(token)
                    _finish(span, method, result)
                    return result

            return traced()

        return wrapper


@guard(_logger, "embeddings.end", "podcast-kg-otel-langchain: embeddings span end")
def _finish(span: Any, method: str, result: Any) -> None:
    dimension = _dimension(method, result)
    if dimension is not None:
        span.set_attribute(attr.EMBEDDINGS_DIMENSION_COUNT, dimension)
