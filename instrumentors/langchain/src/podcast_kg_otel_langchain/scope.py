"""Making a run's span the current span, without ever logging "Failed to detach context".

The handler runs inline (`run_inline = True`), so a run's start callback executes in the
caller's thread or task: attaching there makes HTTP or database spans created inside the
step nest under it. The end callback may still run elsewhere (an abandoned async stream
is closed by the event loop's finalizer in another task). Detaching is therefore
silent and only done when our span is still the current one; otherwise the attach is
remembered as a leak, and the next root run that finds such an ended span as its ambient
parent repairs the context (or skips to that span's own parent): the stale-parent guard.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _RUNTIME_CONTEXT, Context
from opentelemetry.trace import Span

_MAX_LEAKS = 256
_MAX_HOPS = 16


class ContextScope:
    def __init__(self) -> None:
        self._leaks: OrderedDict[Span, tuple[Context, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def attach(self, ctx: Context) -> Any:
        return otel_context.attach(ctx)

    def release(self, span: Span, parent_ctx: Context, token: Any) -> None:
        """Undo `attach` if this context still shows our span; remember it otherwise."""
        if trace.get_current_span() is span:
            try:
                _RUNTIME_CONTEXT.detach(token)
                return
            except Exception:  # a token from another context: remember it
                pass
        with self._lock:
            leaks = self._leaks
            leaks[span] = (parent_ctx, token)
            if len(leaks) > _MAX_LEAKS:
                leaks.popitem(last=False)

    def ambient(self) -> Context:
        """The current context for a root run, skipping spans of ours that already ended."""
        ctx = otel_context.get_current()
        if not self._leaks:
            return ctx
        live = True
        with self._lock:
            for _ in range(_MAX_HOPS):
                span = trace.get_current_span(ctx)
                leak = self._leaks.get(span)
                if leak is None:
                    break
                parent_ctx, token = leak
                if live:
                    try:
                        _RUNTIME_CONTEXT.detach(token)
                    except Exception:  # attached in another context
                        live = False
                    else:
                        del self._leaks[span]
                        ctx = otel_context.get_current()
                        continue
                ctx = parent_ctx
        return ctx
