"""The semconv `error.type` of an exception, and recording it once on a span."""

from __future__ import annotations

from opentelemetry.trace import Span, Status, StatusCode

ERROR_TYPE = "error.type"


def error_type(exc: BaseException) -> str:
    """Fully qualified class name; builtins keep their short name (`ValueError`)."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def record_error(span: Span, exc: BaseException, error_type_value: str | None = None) -> None:
    """Record `exc` once as an exception event, set ERROR status and `error.type`."""
    if not span.is_recording():
        return
    if not _already_recorded(span, exc):
        span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.set_attribute(ERROR_TYPE, error_type_value or error_type(exc))


def _already_recorded(span: Span, exc: BaseException) -> bool:
    """Whether the application recorded `exc` on `span` itself (the tracing guide's
    pattern: ``record_exception``, ``set_status``, ``raise`` inside a traced block), so the
    exception appears once, not twice. Same class (as SDK versions spell it) and message."""
    cls = type(exc)
    kinds = {cls.__name__, cls.__qualname__, f"{cls.__module__}.{cls.__qualname__}"}
    message = str(exc)
    for event in getattr(span, "events", None) or ():
        attributes = event.attributes or {}
        if (
            event.name == "exception"
            and attributes.get("exception.type") in kinds
            and attributes.get("exception.message") == message
        ):
            return True
    return False
