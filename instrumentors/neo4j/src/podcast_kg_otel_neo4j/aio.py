"""The async wrappers (wrapt, coroutines): the same spans and the same fail-open rules
as the sync ones (see wrappers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from podcast_kg_otel_neo4j.spans import Steps, note_error
from podcast_kg_otel_neo4j.state import CURRENT_UNIT


class AsyncWrappers(Steps):
    """Wrappers for neo4j._async."""

    async def session_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        started = self._session_run_span(instance, args, kwargs)
        if started is None:
            return await wrapped(*args, **kwargs)
        span, known = started
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        self._watch(result, span, known, in_transaction=False)
        return result

    async def tx_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        started = self._tx_run_start(instance, args, kwargs)
        if started is None:
            return await wrapped(*args, **kwargs)
        span, known = started
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        self._watch(result, span, known)
        return result

    async def execute_query(
        self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict
    ) -> Any:
        if not is_instrumentation_enabled():
            return await _without_unit(wrapped, args, kwargs)
        started = self._execute_query_start(instance, args, kwargs)
        if started is None:
            return await _without_unit(wrapped, args, kwargs)
        unit, tokens = started
        error = None
        try:
            return await wrapped(*args, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._leave(unit, tokens, error)

    async def query_work(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        """The driver's async `_work`: see SyncWrappers.query_work."""
        unit = self._work_unit(args, kwargs)
        if unit is None:
            return await wrapped(*args, **kwargs)
        tx, query, parameters, transformer = args
        try:
            result = await self.run(tx, query, parameters)
        except BaseException as exc:
            note_error(unit, exc)
            raise
        self._work_result(unit, result)
        try:
            return await transformer(result)
        except BaseException as exc:
            note_error(unit, exc)
            raise

    def managed(self, method: str) -> Callable:
        async def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            if not is_instrumentation_enabled() or not args or not callable(args[0]):
                return await wrapped(*args, **kwargs)
            started = self._managed_start(instance, method, args[0], is_async=True)
            if started is None:
                return await wrapped(*args, **kwargs)
            unit, function, tokens = started
            error = None
            try:
                return await wrapped(function, *args[1:], **kwargs)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._leave(unit, tokens, error)

        return wrapper

    def tx_end(self, name: str) -> Callable:
        async def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            span = self._tx_end_start(instance, name) if is_instrumentation_enabled() else None
            if span is None:
                return await wrapped(*args, **kwargs)
            try:
                outcome = await wrapped(*args, **kwargs)
            except BaseException as exc:
                self._fail(span, exc)
                raise
            span.end()
            return outcome

        return wrapper

    async def response_failure(
        self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict
    ) -> Any:
        token = self._failure_start(args, kwargs)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            self._failure_end(token)


async def _without_unit(wrapped: Callable, args: tuple, kwargs: dict) -> Any:
    """execute_query without a span of its own: its attempts belong to no outer unit."""
    token = CURRENT_UNIT.set(None)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        CURRENT_UNIT.reset(token)
