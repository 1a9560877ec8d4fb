"""Per-context state shared between wrappers (contextvars: right in threads and tasks)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from opentelemetry.trace import Span

_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class Unit:
    """One execute_query call or one managed transaction function, across its retries.

    A slotted class, not a dataclass: one is made per execute_query call (hot path).
    """

    __slots__ = (
        "access_mode",
        "attempts",
        "database",
        "kind",
        "last_error",
        "metadata",
        "recording",
        "span",
    )

    def __init__(
        self, kind: str, span: Span, database: str | None = None, access_mode: str | None = None
    ) -> None:
        self.kind = kind  # attributes.TX_EXECUTE_QUERY or attributes.TX_MANAGED
        self.span = span
        self.recording = span.is_recording()  # unsampled: nothing to count or read
        self.database = database
        self.access_mode = access_mode
        self.attempts = 0
        self.last_error: str | None = None
        self.metadata: Mapping[str, Any] = _NO_METADATA  # the last result's summary


CURRENT_UNIT: ContextVar[Unit | None] = ContextVar("podcast_kg_neo4j_unit", default=None)
# The metadata of the Bolt FAILURE being handled right now, so a result closed by it
# can record the error before the driver raises it.
CURRENT_FAILURE: ContextVar[dict | None] = ContextVar("podcast_kg_neo4j_failure", default=None)
