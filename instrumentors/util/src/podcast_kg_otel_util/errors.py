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
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.set_attribute(ERROR_TYPE, error_type_value or error_type(exc))
