"""Spans from forked children reach the collector, under the child's own ``process.pid``.

After ``os.fork`` (directly, or through multiprocessing's ``fork`` start method) the
child inherits the parent's resource (with the parent's pid), the parent's open spans,
buffered traces and exporter connections, and it usually ends with ``os._exit``, which
skips ``atexit`` and so every pending span. In the child this module:

* sets ``process.pid`` (and ``process.parent_pid`` when present) on the provider's
  resource, which every tracer shares;
* resets our components that hold per-process state (``reset_after_fork()``);
* makes ``os._exit`` run the bounded exit flush first (children only).

``spawn`` children start a fresh interpreter that runs the distro again from the
inherited environment, so they need nothing here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.sdk.resources import Resource
from podcast_kg_otel_util.failopen import guard

PROCESS_PID = "process.pid"
PROCESS_PARENT_PID = "process.parent_pid"

_logger = logging.getLogger("podcast_kg_otel.fork")
_AFTER_FORK = guard(_logger, "after-fork reset")
_BEFORE_FORK = guard(_logger, "before-fork wait")
_real_exit = os._exit
_exit_flush: Callable[[], None] | None = None


def _exit_after_flush(status: int) -> None:
    # Same parameter name as os._exit: callers may pass it by keyword.
    try:
        if _exit_flush is not None:
            _exit_flush()
    except Exception:
        _logger.debug("flush before os._exit failed", exc_info=True)
    finally:
        _real_exit(status)


def update_process_ids(provider: Any) -> None:
    """Point the provider's resource (and every tracer's) at this process."""
    attributes: dict[str, int] = {PROCESS_PID: os.getpid()}
    if PROCESS_PARENT_PID in provider.resource.attributes:
        attributes[PROCESS_PARENT_PID] = os.getppid()
    update = getattr(provider, "_update_resource", None)
    if update is not None:
        update(Resource(attributes))
    else:
        provider._resource = provider.resource.merge(Resource(attributes))


def install_fork_handlers(
    provider: Any,
    resettables: Iterable[Any] = (),
    exit_flush: Callable[[], None] | None = None,
) -> None:
    """Register the after-fork work for ``provider`` and our stateful components."""
    global _exit_flush
    _exit_flush = exit_flush
    components = list(resettables)

    def after_in_child() -> None:
        with _AFTER_FORK:
            update_process_ids(provider)
            for component in components:
                component.reset_after_fork()
            if _exit_flush is not None:
                os._exit = _exit_after_flush

    def before() -> None:
        for component in components:
            before_fork = getattr(component, "before_fork", None)
            if before_fork is not None:
                with _BEFORE_FORK:
                    before_fork()

    os.register_at_fork(before=before, after_in_child=after_in_child)
