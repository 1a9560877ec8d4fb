"""Per-context state shared between wrappers (contextvars: right in threads and tasks)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import Span


@dataclass
class Unit:
    """One execute_query call or one managed transaction function, across its retries."""

    kind: str  # attributes.TX_EXECUTE_QUERY or attributes.TX_MANAGED
    span: Span
    attempts: int = 0
    last_error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # last result's summary
    database: str | None = None
    access_mode: str | None = None


CURRENT_UNIT: ContextVar[Unit | None] = ContextVar("podcast_kg_neo4j_unit", default=None)
# The metadata of the Bolt FAILURE being handled right now, so a result closed by it
# can record the error before the driver raises it.
CURRENT_FAILURE: ContextVar[dict | None] = ContextVar("podcast_kg_neo4j_failure", default=None)
