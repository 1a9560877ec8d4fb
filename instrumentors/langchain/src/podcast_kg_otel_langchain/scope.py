"""Making a run's span the current span, without ever logging "Failed to detach context".

The handler runs inline (`run_inline = True`), so a run's start callback executes in the
caller's thread or task: attaching there makes HTTP or database spans created inside the
step nest under it. The context we attach also carries the run's entry, which lets us
recognise our own spans later:

* a root run (no parent in LangChain's run tree) never takes one of our run spans as its
  ambient parent: that is a sibling started in the same context (`batch()` starts every
  input before running any) or an ended span whose detach happened elsewhere (an
  abandoned async stream is closed by the event loop's finalizer in another task). It
  skips to that run's own parent and, for an ended run attached in this very context,
  repairs the context (the stale-parent guard);
* a run's end detaches silently, and only when the context still shows our span or a
  later-started run of ours on top of it; a token from another context is ignored.
"""

from __future__ import annotations

import contextlib
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _RUNTIME_CONTEXT, Context, create_key
from opentelemetry.trace import Span

_RUN_KEY = create_key("podcast_kg_otel_langchain.run")
_MAX_HOPS = 32


def child_context(span: Span, parent_ctx: Context, entry: Any) -> Context:
    """The context a run's children (and other instrumentations inside it) see."""
    return otel_context.set_value(_RUN_KEY, entry, trace.set_span_in_context(span, parent_ctx))


def _ours(ctx: Context) -> Any:
    """Our run entry when its span is the current span of `ctx`, else None."""
    entry = ctx.get(_RUN_KEY)
    if entry is None or trace.get_current_span(ctx) is not entry.span:
        return None
    return entry


def attach(ctx: Context) -> Any:
    return otel_context.attach(ctx)


def release(entry: Any) -> None:
    """Undo the run's attach if this context is where it happened (silently)."""
    top = _ours(otel_context.get_current())
    if top is None or (top is not entry and top.started < entry.started):
        return
    # A token of another context raises: nothing to undo here.
    with contextlib.suppress(Exception):
        _RUNTIME_CONTEXT.detach(entry.token)


def ambient() -> Context:
    """The current context for a root run, never one of our own run spans."""
    ctx = otel_context.get_current()
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
                ctx = otel_context.get_current()
                continue
        live = False
        ctx = entry.parent_ctx
    return ctx
