"""The wrapt wrapper of `BaseCallbackManager.__init__` that adds our handler."""

from __future__ import annotations

import logging
from typing import Any

from podcast_kg_otel_util.failopen import log_once

_logger = logging.getLogger(__name__)


class AddHandler:
    """Adds `handler` as an inheritable handler to every new callback manager."""

    __slots__ = ("_handler",)

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    def __call__(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> None:
        wrapped(*args, **kwargs)
        try:
            handler = self._handler
            if handler not in instance.inheritable_handlers:
                instance.add_handler(handler, True)
        except Exception:  # fail open
            log_once(
                _logger,
                "add_handler",
                "podcast-kg-otel-langchain: could not add "
                "the tracing handler to a LangChain callback manager",
            )
