"""What the sync and async wrappers share: starting, feeding and ending spans.

Every step of ours is guarded (podcast_kg_otel_util.failopen.guard): a bug here is
logged once and never reaches the driver call. A guarded step that returns something
returns None when it failed; the wrappers then call the driver without a span.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind, Tracer
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel_neo4j import attributes as attr
from podcast_kg_otel_neo4j import errors, results, summary
from podcast_kg_otel_neo4j.config import Settings
from podcast_kg_otel_neo4j.query import start_attributes
from podcast_kg_otel_neo4j.state import CURRENT_FAILURE, CURRENT_UNIT, Unit

logger = logging.getLogger(__name__)
_EXECUTE_QUERY_OPTIONS = ("query_", "parameters_", "routing_", "database_")
_RUN_ARGUMENTS = ("query", "parameters")
_CLIENT = SpanKind.CLIENT
_TRANSFORMER_INDEX = 7  # execute_query(query_, ..., auth_, result_transformer_)


_WORK_RESULT = guard(logger, "execute_query result")
_ENDING_UNIT = guard(logger, "ending a transaction span")
_BOLT_FAILURE = guard(logger, "Bolt failure")
_RECORDING_ERROR = guard(logger, "recording an error")
_RESULT_TRACKING = guard(logger, "result tracking")


def _run_arguments(args: tuple, kwargs: dict) -> tuple[Any, Any, dict]:
    """(query, parameters, keyword parameters) of `run(query, parameters=None, **kwargs)`."""
    if "query" in kwargs or "parameters" in kwargs:  # rare: named in the call
        extra = {k: v for k, v in kwargs.items() if k not in _RUN_ARGUMENTS}
        query = args[0] if args else kwargs.get("query")
        return query, args[1] if len(args) > 1 else kwargs.get("parameters"), extra
    return args[0] if args else None, args[1] if len(args) > 1 else None, kwargs


def _address(owner: Any) -> Any:
    pool = getattr(owner, "_pool", None)
    return getattr(pool, "address", None)


@guard(logger, "recording a retry")
def _retry_event(unit: Unit) -> None:
    unit.span.add_event(
        attr.EVENT_RETRY,
        {
            attr.NEO4J_TRANSACTION_ATTEMPT: unit.attempts,
            attr.ERROR_TYPE: unit.last_error or "_OTHER",
        },
    )


def attempt(unit: Unit) -> None:
    """An attempt of `unit` starts (retries start again): count it, note the retry."""
    unit.attempts += 1
    if unit.attempts > 1:
        _retry_event(unit)


@guard(logger, "transaction function error")
def note_error(unit: Unit, exc: BaseException) -> None:
    """Remember why an attempt failed, for the next retry event."""
    unit.last_error = getattr(exc, "code", None) or errors.error_type(exc)


class Steps:
    """Span steps bound to one tracer and one set of settings."""

    def __init__(
        self, tracer: Tracer, settings: Settings, managed_tx_cls: type, run: Callable | None
    ) -> None:
        self.tracer = tracer
        self.settings = settings
        self.managed_tx_cls = managed_tx_cls
        # TransactionBase.run as it was before we wrapped it: execute_query's own query
        # (see query_work) calls it directly, as it is folded into the execute_query span.
        self.run = run

    # -- span starts -------------------------------------------------------------------

    @guard(logger, "Session.run")
    def _session_run_span(
        self, session: Any, args: tuple, kwargs: dict
    ) -> tuple[Span, bool] | None:
        """(span, whether the database is known); None: our code failed."""
        if len(args) == 1 and "query" not in kwargs and "parameters" not in kwargs:
            query, parameters, extra = args[0], None, kwargs  # run(query, **params)
        else:
            query, parameters, extra = _run_arguments(args, kwargs)
        config = session._config
        database = config.database
        name, attributes = start_attributes(
            self.settings,
            query,
            parameters,
            extra,
            database,
            config.default_access_mode,
            attr.TX_AUTO_COMMIT,
            _address(session),
        )
        span = self.tracer.start_span(name, kind=_CLIENT, attributes=attributes)
        return span, database is not None

    def _tx_run_span(self, tx: Any, args: tuple, kwargs: dict, unit: Unit | None) -> Span:
        query, parameters, extra = _run_arguments(args, kwargs)
        managed = unit is not None and unit.kind == attr.TX_MANAGED
        name, attributes = start_attributes(
            self.settings,
            query,
            parameters,
            extra,
            tx._database,
            unit.access_mode if managed else None,
            attr.TX_MANAGED if managed else attr.TX_EXPLICIT,
            getattr(tx._connection, "unresolved_address", None),
        )
        if managed:
            attributes = {**attributes, attr.NEO4J_TRANSACTION_ATTEMPT: unit.attempts}
        return self.tracer.start_span(name, kind=_CLIENT, attributes=attributes)

    def _execute_query_unit(self, driver: Any, args: tuple, kwargs: dict) -> tuple[Unit, bool]:
        """(unit, whether the call runs code of the user's: a result transformer)."""
        # keyword query parameters: names not ending in exactly one "_" (the options)
        extra = {k: v for k, v in kwargs.items() if k[-1:] != "_" or k[-2:] == "__"}
        options = kwargs
        if len(args) > 1:  # rare: options given positionally
            options = {**kwargs, **dict(zip(_EXECUTE_QUERY_OPTIONS, args, strict=False))}
        database = options.get("database_")
        name, attributes = start_attributes(
            self.settings,
            args[0] if args else options.get("query_"),
            options.get("parameters_"),
            extra,
            database,
            options.get("routing_", "w"),
            attr.TX_EXECUTE_QUERY,
            _address(driver),
        )
        span = self.tracer.start_span(name, kind=_CLIENT, attributes=attributes)
        user_code = len(args) > _TRANSFORMER_INDEX or "result_transformer_" in options
        return Unit(attr.TX_EXECUTE_QUERY, span, database), user_code

    @guard(logger, "Driver.execute_query")
    def _execute_query_start(
        self, driver: Any, args: tuple, kwargs: dict
    ) -> tuple[Unit, tuple[Any, Any]] | None:
        """(unit, tokens to leave it); None: our code failed."""
        unit, user_code = self._execute_query_unit(driver, args, kwargs)
        return unit, self._enter(unit, user_code)

    @guard(logger, "Session.execute_read/write")
    def _managed_start(
        self, session: Any, method: str, function: Callable, is_async: bool
    ) -> tuple[Unit, Callable, tuple[Any, Any]] | None:
        """(unit, the user's function counting attempts, tokens to leave the unit);
        None: our code failed."""
        unit = self._managed_unit(session, method)
        counted = self._counted(function, unit, is_async)
        return unit, counted, self._enter(unit)

    def _managed_unit(self, session: Any, method: str) -> Unit:
        database = session._config.database
        mode = "READ" if "read" in method else "WRITE"
        attributes: dict[str, Any] = {
            attr.DB_SYSTEM_NAME: attr.DB_SYSTEM_NEO4J,
            attr.NEO4J_TRANSACTION_TYPE: attr.TX_MANAGED,
            attr.NEO4J_ACCESS_MODE: mode,
        }
        if database:
            attributes[attr.DB_NAMESPACE] = database
        name = f"{method} {database}" if database else method
        span = self.tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        return Unit(attr.TX_MANAGED, span, database, mode)

    def _end_unit(self, unit: Unit, exc: BaseException | None) -> None:
        span = unit.span
        try:
            if unit.recording:
                if exc is not None:
                    errors.record_exception(span, exc)
                found = {attr.NEO4J_TRANSACTION_ATTEMPTS: unit.attempts}
                if unit.kind == attr.TX_EXECUTE_QUERY:
                    summary.apply(span, unit.metadata, unit.database is not None, found)
                else:
                    span.set_attributes(found)
        finally:
            span.end()

    def _counted(self, function: Callable, unit: Unit, is_async: bool) -> Callable:
        """The user's transaction function, counting attempts (retries call it again)
        and noting its errors for the retry events."""
        if is_async:

            async def counted(*args: Any, **kwargs: Any) -> Any:
                attempt(unit)
                try:
                    return await function(*args, **kwargs)
                except BaseException as exc:
                    note_error(unit, exc)
                    raise

        else:

            def counted(*args: Any, **kwargs: Any) -> Any:
                attempt(unit)
                try:
                    return function(*args, **kwargs)
                except BaseException as exc:
                    note_error(unit, exc)
                    raise

        with contextlib.suppress(AttributeError, TypeError):
            functools.update_wrapper(counted, function)
        for name in ("metadata", "timeout"):  # read by the driver (@unit_of_work)
            if hasattr(function, name):
                setattr(counted, name, getattr(function, name))
        return counted

    # -- shared steps (each guarded) ----------------------------------------------

    @guard(logger, "Transaction.run")
    def _tx_run_start(self, tx: Any, args: tuple, kwargs: dict) -> tuple[Span, bool] | None:
        """(span, whether the database is known) of an explicit or managed `tx.run`;
        None: our code failed. All that is read of `tx` is read here, before the call."""
        unit = CURRENT_UNIT.get()
        if unit is not None and not isinstance(tx, self.managed_tx_cls):
            unit = None
        return self._tx_run_span(tx, args, kwargs, unit), bool(tx._database)

    @guard(logger, "execute_query attempt")
    def _work_unit(self, args: tuple, kwargs: dict) -> Unit | None:
        """The execute_query unit a call of the driver's `_work(tx, query, parameters,
        transformer)` belongs to (None: not ours, or our code failed: call it as it is)."""
        unit = CURRENT_UNIT.get()
        if unit is None or kwargs or len(args) != 4 or unit.kind != attr.TX_EXECUTE_QUERY:
            return None
        if unit.recording:
            attempt(unit)
        return unit

    def _work_result(self, unit: Unit, result: Any) -> None:
        """The driver fills the result's metadata dict in place until the summary has
        arrived: keep a reference, read when execute_query ends."""
        if unit.recording:
            with _WORK_RESULT:
                unit.metadata = result._metadata

    def _tx_end_span(self, tx: Any, name: str) -> Span:
        attributes: dict[str, Any] = {
            attr.DB_SYSTEM_NAME: attr.DB_SYSTEM_NEO4J,
            attr.NEO4J_TRANSACTION_TYPE: attr.TX_EXPLICIT,
        }
        if tx._database:
            attributes[attr.DB_NAMESPACE] = tx._database
        address = getattr(tx._connection, "unresolved_address", None)
        if address:
            attributes[attr.SERVER_ADDRESS] = str(address[0])
            attributes[attr.SERVER_PORT] = int(address[1])
        return self.tracer.start_span(name, kind=_CLIENT, attributes=attributes)

    def _fail(self, span: Span, exc: BaseException) -> None:
        try:
            with _RECORDING_ERROR:
                if span.is_recording():
                    errors.record_exception(span, exc)
        finally:
            span.end()

    def _watch(self, result: Any, span: Span, known: bool, in_transaction: bool = True) -> None:
        """End `span` when `result` is done."""
        with _RESULT_TRACKING:
            if span.is_recording():  # unsampled: nothing to add, ending it is a no-op
                results.watch(result, span, known, in_transaction)
            return
        span.end()  # only reached when our code failed: nothing will end it later

    def _enter(self, unit: Unit, current: bool = True) -> tuple[Any, Any]:
        """Make `unit` the one its attempts report to and, with `current`, its span the
        current span. Only code of the user's can start spans under it, so execute_query
        without a result transformer skips that (1.5 us of context copy and restore)."""
        context_token = context.attach(trace.set_span_in_context(unit.span)) if current else None
        return CURRENT_UNIT.set(unit), context_token

    def _leave(self, unit: Unit, tokens: tuple[Any, Any], error: BaseException | None) -> None:
        with _ENDING_UNIT:
            if tokens[1] is not None:
                context.detach(tokens[1])
            CURRENT_UNIT.reset(tokens[0])
            self._end_unit(unit, error)

    @_BOLT_FAILURE
    def _failure_start(self, args: tuple, kwargs: dict) -> Any:
        """Note a Bolt FAILURE's metadata for the results it closes; the token to reset
        (None: our code failed, nothing to reset)."""
        metadata = args[0] if args else kwargs.get("metadata")
        if not isinstance(metadata, dict):
            metadata = None
        unit = CURRENT_UNIT.get()
        if unit is not None and metadata is not None:
            unit.last_error = errors.failure_code(metadata) or unit.last_error
        return CURRENT_FAILURE.set(metadata)

    def _failure_end(self, token: Any) -> None:
        if token is not None:
            with _BOLT_FAILURE:
                CURRENT_FAILURE.reset(token)

    @guard(logger, "Transaction.commit/rollback")
    def _tx_end_start(self, tx: Any, name: str) -> Span | None:
        """The span of a commit or rollback; None: the transaction is already closed
        (the driver's call does nothing to trace) or our code failed."""
        return None if tx._closed_flag else self._tx_end_span(tx, name)
