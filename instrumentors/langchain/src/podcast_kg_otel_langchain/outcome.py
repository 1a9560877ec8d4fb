"""How a run's exception ends its span: an error, a cancellation, or control flow.

A consumer that stops reading a stream (GeneratorExit) or a cancelled task is not a
failure. LangGraph's interrupts and commands (`GraphBubbleUp` and its subclasses
`GraphInterrupt`, `NodeInterrupt`, `ParentCommand`) are raised to steer the graph; they
are recognised by their `is_bubble_up` marker or class hierarchy, never by message text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import traceback

from langchain_core.exceptions import OutputParserException
from opentelemetry.trace import Span, Status, StatusCode
from podcast_kg_otel_util.content import truncate
from podcast_kg_otel_util.errors import ERROR_TYPE, error_type, record_error
from pydantic import ValidationError

from . import attributes as attr

_BUBBLE_UP = frozenset({"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"})
_CANCELLED = (GeneratorExit, asyncio.CancelledError, concurrent.futures.CancelledError)
# Their messages quote content: a parser error the model's output, a validation error
# the tool's (or model's) input values.
_QUOTES_CONTENT = (OutputParserException, ValidationError)
_WITHHELD = "message withheld: it may quote prompts, completions or tool arguments"


class Outcome(enum.Enum):
    ERROR = "error"
    CANCELLED = "cancelled"
    CONTROL_FLOW = "control_flow"


def classify(exc: BaseException) -> Outcome:
    if isinstance(exc, _CANCELLED):
        return Outcome.CANCELLED
    if getattr(exc, "is_bubble_up", False) is True:
        return Outcome.CONTROL_FLOW
    if any(cls.__name__ in _BUBBLE_UP for cls in type(exc).__mro__):
        return Outcome.CONTROL_FLOW
    return Outcome.ERROR


def apply(
    span: Span,
    exc: BaseException,
    capture_content: bool = True,
    content_max_length: int | None = None,
) -> Outcome:
    """Mark `span` for `exc`: ERROR only for real failures.

    An exception whose message quotes content is recorded without its message when
    content capture is off, and with it cut to `content_max_length` when it is on.
    """
    outcome = classify(exc)
    if outcome is Outcome.CANCELLED:
        span.set_attribute(attr.RUN_CANCELLED, True)
    elif outcome is Outcome.CONTROL_FLOW:
        span.add_event(attr.EVENT_INTERRUPT, {attr.EXCEPTION_TYPE: error_type(exc)})
    elif not isinstance(exc, _QUOTES_CONTENT):
        record_error(span, exc)
    elif not capture_content:
        _record_with_message(span, exc, _WITHHELD)
    elif content_max_length is not None:
        _record_with_message(span, exc, truncate(str(exc), content_max_length))
    else:
        record_error(span, exc)
    return outcome


def _record_with_message(span: Span, exc: BaseException, message: str) -> None:
    """`record_error` with `message` in place of the exception's own (in the event, its
    stack trace and the status)."""
    if not span.is_recording():
        return
    frames = "".join(traceback.format_tb(exc.__traceback__))
    span.record_exception(
        exc,
        {
            attr.EXCEPTION_MESSAGE: message,
            attr.EXCEPTION_STACKTRACE: f"Traceback (most recent call last):\n{frames}"
            f"{error_type(exc)}: {message}\n",
        },
    )
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {message}"))
    span.set_attribute(ERROR_TYPE, error_type(exc))
