"""The sync wrappers (wrapt): one CLIENT span per logical query.

Everything we read of the driver's objects and the call's arguments is read inside our
guarded steps (spans.Steps: on an error, logged once through podcast_kg_otel_util.failopen
and the call goes ahead without a span); the driver call itself is never inside a guard
and runs exactly once, so its result or exception is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from podcast_kg_otel_neo4j.spans import Steps, note_error
from podcast_kg_otel_neo4j.state import CURRENT_UNIT


class SyncWrappers(Steps):
    """Wrappers for neo4j._sync."""

    def session_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        started = self._session_run_span(instance, args, kwargs)
        if started is None:
            return wrapped(*args, **kwargs)
        span, known = started
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        self._watch(result, span, known, in_transaction=False)
        return result

    def tx_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        started = self._tx_run_start(instance, args, kwargs)
        if started is None:
            return wrapped(*args, **kwargs)
        span, known = started
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        self._watch(result, span, known)
        return result

    def execute_query(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return _without_unit(wrapped, args, kwargs)
        started = self._execute_query_start(instance, args, kwargs)
        if started is None:
            return _without_unit(wrapped, args, kwargs)
        unit, tokens = started
        error = None
        try:
            return wrapped(*args, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._leave(unit, tokens, error)

    def query_work(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        """The driver's `_work(tx, query, parameters, transformer)`, one per attempt of
        execute_query: its query is part of the execute_query span, so it runs through
        the original `tx.run` (no second wrapper, no second span)."""
        unit = self._work_unit(args, kwargs)
        if unit is None:
            return wrapped(*args, **kwargs)
        tx, query, parameters, transformer = args
        try:
            result = self.run(tx, query, parameters)
        except BaseException as exc:
            note_error(unit, exc)
            raise
        self._work_result(unit, result)
        try:
            return transformer(result)
        except BaseException as exc:
            note_error(unit, exc)
            raise

    def managed(self, method: str) -> Callable:
        def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            if not is_instrumentation_enabled() or not args or not callable(args[0]):
                return wrapped(*args, **kwargs)
            started = self._managed_start(instance, method, args[0], is_async=False)
            if started is None:
                return wrapped(*args, **kwargs)
            unit, function, tokens = started
            error = None
            try:
                return wrapped(function, *args[1:], **kwargs)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._leave(unit, tokens, error)

        return wrapper

    def tx_end(self, name: str) -> Callable:
        def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            span = self._tx_end_start(instance, name) if is_instrumentation_enabled() else None
            if span is None:
                return wrapped(*args, **kwargs)
            try:
                outcome = wrapped(*args, **kwargs)
            except BaseException as exc:
                self._fail(span, exc)
                raise
            span.end()
            return outcome

        return wrapper

    def response_failure(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        token = self._failure_start(args, kwargs)
        try:
            return wrapped(*args, **kwargs)
        finally:
            self._failure_end(token)


def _without_unit(wrapped: Callable, args: tuple, kwargs: dict) -> Any:
    """execute_query without a span of its own: its attempts belong to no outer unit."""
    token = CURRENT_UNIT.set(None)
    try:
        return wrapped(*args, **kwargs)
    finally:
        CURRENT_UNIT.reset(token)
