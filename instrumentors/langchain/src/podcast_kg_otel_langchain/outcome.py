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

from opentelemetry.trace import Span
from podcast_kg_otel_util.errors import error_type, record_error

from . import attributes as attr

_BUBBLE_UP = frozenset({"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"})
_CANCELLED = (GeneratorExit, asyncio.CancelledError, concurrent.futures.CancelledError)


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


def apply(span: Span, exc: BaseException) -> Outcome:
    """Mark `span` for `exc`: ERROR only for real failures."""
    outcome = classify(exc)
    if outcome is Outcome.CANCELLED:
        span.set_attribute(attr.RUN_CANCELLED, True)
    elif outcome is Outcome.CONTROL_FLOW:
        span.add_event(attr.EVENT_INTERRUPT, {attr.EXCEPTION_TYPE: error_type(exc)})
    else:
        record_error(span, exc)
    return outcome
