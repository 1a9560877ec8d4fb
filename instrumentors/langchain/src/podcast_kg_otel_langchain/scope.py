"""Making a run's span the current span, without ever logging "Failed to detach context".

The handler runs inline (`run_inline = True`), so a run's start callback executes in the
caller's thread or task: attaching there makes HTTP or database spans created inside the
step nest under it. Undoing that attach is not always possible: LangChain's async run
managers deliver end events from a shielded task with a copied context
(`@shielded`), and an abandoned stream is closed by the event loop's finalizer. So:

* what we attach is a `StepSpan`, a stand-in that is the run's span while the run is
  open and becomes its parent once the run ends. An attach that outlives its run is
  therefore harmless: later spans in that context get the right parent, never an ended
  span of ours;
* the end detaches silently when it runs in the context of the attach (and only when our
  span, or a later-started run of ours, is on top); a token of another context is
  ignored. For async ends, `settle` does it afterwards in the caller's own task
  (`async_ends.py`), so the caller gets its own current span back;
* a root run (no parent in LangChain's run tree) never takes one of our runs as its
  ambient parent: that is a sibling started in the same context (`batch()` starts every
  input before running any) or an ended run whose attach outlived it; it skips to that
  run's parent, and repairs the context when the attach was made in this very context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import _RUNTIME_CONTEXT, Context, create_key
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_INSTRUMENTATION_KEY as _SUPPRESS_KEY,
)
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_INSTRUMENTATION_KEY_PLAIN as _SUPPRESS_KEY_PLAIN,
)
from opentelemetry.trace import Span, SpanContext, Status, StatusCode
from opentelemetry.trace.propagation import _SPAN_KEY
from opentelemetry.util.types import Attributes, AttributeValue

_RUN_KEY = create_key("podcast_kg_otel_langchain.run")
_get_current = _RUNTIME_CONTEXT.get_current
_MAX_HOPS = 32


class StepSpan(Span):
    """The current span inside a run: the run's span while it is open, then its parent."""

    __slots__ = ("_entry",)

    def __init__(self, entry: Any) -> None:
        self._entry = entry

    def _target(self) -> Span:
        entry = self._entry
        if entry.closed:
            return trace.get_current_span(above(entry))
        return entry.span

    def get_span_context(self) -> SpanContext:
        return self._target().get_span_context()

    def is_recording(self) -> bool:
        return self._target().is_recording()

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        self._target().set_attributes(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self._target().set_attribute(key, value)

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        self._target().add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        self._target().add_link(context, attributes)

    def update_name(self, name: str) -> None:
        self._target().update_name(name)

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        self._target().set_status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self._target().record_exception(exception, attributes, timestamp, escaped)

    def end(self, end_time: int | None = None) -> None:
        # The run's own callbacks end its span; someone else's end() must not.
        return None

    def __getattr__(self, name: str) -> Any:
        # Anything beyond the Span API (an SDK span's `name`, `attributes`, ...).
        if name == "_entry":
            raise AttributeError(name)
        return getattr(self._target(), name)

    def __repr__(self) -> str:
        return f"StepSpan({self._target()!r})"


def above(entry: Any) -> Context:
    """Where work outside the run belongs: under its nearest ancestor still open, else in
    the context its tree started in. Never under an ended span: an evicted run's parent
    may have ended before it, and its attach may outlive them both."""
    parent = entry.parent
    while parent is not None and (parent.closed or parent.span is None):
        entry, parent = parent, parent.parent
    return entry.parent_ctx if parent is None else parent.child_ctx


def contexts(span: Span, parent_ctx: Context, entry: Any) -> tuple[Context, Context]:
    """(context for our child runs, context attached for the step's own work).

    Built as one dict each, not with `set_span_in_context`/`set_value`: three copies of
    the parent context and their calls, on every run that gets a span."""
    tree_ctx = Context({**parent_ctx, _SPAN_KEY: span})
    step_ctx = Context({**parent_ctx, _SPAN_KEY: StepSpan(entry), _RUN_KEY: entry})
    return tree_ctx, step_ctx


def start_context() -> Context | None:
    """The current context, or None inside `suppress_instrumentation()` (the check of
    `is_instrumentation_enabled()`, on the context a root run takes its parent from)."""
    ctx = _get_current()
    if ctx.get(_SUPPRESS_KEY) or ctx.get(_SUPPRESS_KEY_PLAIN):
        return None
    return ctx


def _ours(ctx: Context) -> Any:
    """Our run entry when its stand-in is the current span of `ctx`, else None."""
    entry = ctx.get(_RUN_KEY)
    if entry is None:
        return None
    current = ctx.get(_SPAN_KEY)
    if type(current) is not StepSpan or current._entry is not entry:
        return None
    return entry


def attach(ctx: Context) -> Any:
    return _RUNTIME_CONTEXT.attach(ctx)


def release(entry: Any, *, own_only: bool = False) -> None:
    """Undo the run's attach if this context is where it happened (silently).

    `own_only`: only when the run's own stand-in is on top. An eviction happens while an
    unrelated later run is being opened; undoing the evicted attach under it would also
    drop that run's attach and everything the caller attached in between.
    """
    top = _ours(_get_current())
    if top is None or (top is not entry and (own_only or top.started < entry.started)):
        return
    try:
        _RUNTIME_CONTEXT.detach(entry.token)
    except Exception:  # a token of another context: nothing to undo here
        return


def ambient(ctx: Context) -> Context:
    """The current context `ctx` for a root run, never one of our own runs."""
    live = True
    for _ in range(_MAX_HOPS):
        entry = _ours(ctx)
        if entry is None:
            return ctx
        if live and entry.closed:
            try:
                _RUNTIME_CONTEXT.detach(entry.token)
            except Exception:  # attached in another context
                pass
            else:
                ctx = _get_current()
                continue
        live = False
        ctx = above(entry)
    return ctx


def settle(run_id: Any) -> None:
    """Undo the attach of run `run_id`, and of runs already ended, while their stand-in
    is on top of this context.

    Called in the task that started the run once its end has been delivered from
    another task: the run's own end could not detach from the copied context it ran in.
    """
    for _ in range(_MAX_HOPS):
        entry = _ours(_get_current())
        if entry is None or not (entry.closed or entry.run_id == run_id):
            return
        try:
            _RUNTIME_CONTEXT.detach(entry.token)
        except Exception:  # a token of another context: nothing to undo here
            return
