"""OpenTelemetry instrumentation for the official neo4j Python driver (5.x and 6.x).

One CLIENT span per logical query on every driver API, sync and async, following the
stable database semantic conventions (``db.system.name=neo4j``). Private by default:
parameters are recorded only for keys you allowlist, records never.

Usage
-----

.. code-block:: python

    import neo4j
    from podcast_kg_otel_neo4j import Neo4jInstrumentor

    Neo4jInstrumentor().instrument(
        tracer_provider=provider,            # optional, default: the global provider
        query_text="on",                     # on | sanitized | raw | off
        query_text_max_length=2048,
        capture_parameters=["episode_id"],   # allowlist of parameter names
    )
    driver = neo4j.GraphDatabase.driver(uri, auth=auth)
    driver.execute_query("MATCH (e:Episode {id: $episode_id}) RETURN e", episode_id=7)

Under ``opentelemetry-instrument`` the entry point ``podcast_kg_neo4j`` loads it;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=podcast_kg_neo4j`` turns it off.

Suppress Instrumentation
------------------------

.. code-block:: python

    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        session.run("RETURN 1")  # no span

API
---
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import get_tracer
from wrapt import FunctionWrapper, wrap_object

from podcast_kg_otel_neo4j import attributes as attr
from podcast_kg_otel_neo4j import config
from podcast_kg_otel_neo4j.aio import AsyncWrappers
from podcast_kg_otel_neo4j.package import _instruments
from podcast_kg_otel_neo4j.version import __version__
from podcast_kg_otel_neo4j.wrappers import SyncWrappers

__all__ = ["Neo4jInstrumentor"]

_SESSION = "neo4j._{flavour}.work.session"
_TRANSACTION = "neo4j._{flavour}.work.transaction"
_DRIVER = "neo4j._{flavour}.driver"
# Response moved between 5.x and 6.x; the first module that has it is patched.
_RESPONSE = ("neo4j._{flavour}.io._bolt._common", "neo4j._{flavour}.io._common")
_MANAGED_METHODS = ("execute_read", "execute_write", "read_transaction", "write_transaction")


class _TransactionFunctionWrapper(FunctionWrapper):
    """Wraps a function the driver runs as a transaction function (execute_query's
    `_work`). The driver reads `metadata` and `timeout` off it on every call; on a plain
    wrapt proxy each miss costs two exceptions (1.7 us per query), so they are here."""

    metadata = None
    timeout = None


class Neo4jInstrumentor(BaseInstrumentor):
    """Instrumentor for ``neo4j`` (Driver, Session, Transaction; sync and async)."""

    _patched: list[tuple[Any, str]]

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = get_tracer(
            __name__,
            __version__,
            kwargs.get("tracer_provider"),
            schema_url="https://opentelemetry.io/schemas/1.37.0",
        )
        settings = config.load(kwargs)
        self._patched = []
        for flavour, prefix in (("sync", ""), ("async", "Async")):
            transaction = importlib.import_module(_TRANSACTION.format(flavour=flavour))
            managed_tx = getattr(transaction, f"{prefix}ManagedTransaction")
            tx_class = f"{prefix}Transaction"
            # TransactionBase.run before we wrap it: execute_query's attempts call it
            run = getattr(getattr(transaction, f"{tx_class}Base", None), "run", None)
            cls = AsyncWrappers if flavour == "async" else SyncWrappers
            wrappers = cls(tracer, settings, managed_tx, run)
            session = _SESSION.format(flavour=flavour)
            driver = _DRIVER.format(flavour=flavour)
            tx_module = transaction.__name__
            self._patch(driver, f"{prefix}Driver", "execute_query", wrappers.execute_query)
            if run is not None:
                work = wrappers.query_work
                self._patch(driver, None, "_work", work, _TransactionFunctionWrapper)
            self._patch(session, f"{prefix}Session", "run", wrappers.session_run)
            for method in _MANAGED_METHODS:
                self._patch(session, f"{prefix}Session", method, wrappers.managed(method))
            self._patch(tx_module, f"{tx_class}Base", "run", wrappers.tx_run)
            self._patch(tx_module, tx_class, "_commit", wrappers.tx_end(attr.SPAN_COMMIT))
            self._patch(tx_module, tx_class, "_rollback", wrappers.tx_end(attr.SPAN_ROLLBACK))
            for module in _RESPONSE:
                failure = wrappers.response_failure
                if self._patch(module.format(flavour=flavour), "Response", "on_failure", failure):
                    break

    def _patch(
        self,
        module_name: str,
        class_name: str | None,
        method: str,
        wrapper: Any,
        factory: type[FunctionWrapper] = FunctionWrapper,
    ) -> bool:
        """Wrap `class_name.method` (a module function without `class_name`) when the
        installed driver has it."""
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return False
        owner = module if class_name is None else getattr(module, class_name, None)
        if owner is None or not hasattr(owner, method):
            return False
        path = method if class_name is None else f"{class_name}.{method}"
        wrap_object(module, path, factory, (wrapper,))
        self._patched.append((owner, method))
        return True

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, method in reversed(getattr(self, "_patched", [])):
            unwrap(owner, method)
        self._patched = []
