"""The sync wrappers (wrapt): one CLIENT span per logical query.

The driver call itself is never inside our try, so its result or exception is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from podcast_kg_otel_neo4j.spans import Steps, oops
from podcast_kg_otel_neo4j.state import CURRENT_FAILURE


class SyncWrappers(Steps):
    """Wrappers for neo4j._sync."""

    def session_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            span, known = self._session_run_span(instance, args, kwargs)
        except Exception:  # fail open
            oops("Session.run")
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        self._watch(result, span, None, known, in_transaction=False)
        return result

    def tx_run(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        unit, span = self._tx_run_start(instance, args, kwargs)
        if unit is None and span is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._tx_run_failed(unit, span, exc)
            raise
        self._watch(result, span, unit, bool(instance._database))
        return result

    def execute_query(self, wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            unit = self._execute_query_unit(instance, args, kwargs)
            call_args, call_kwargs = self._observe_transformer(unit, args, kwargs, False)
            tokens = self._enter(unit)
        except Exception:  # fail open
            oops("Driver.execute_query")
            return wrapped(*args, **kwargs)
        error = None
        try:
            return wrapped(*call_args, **call_kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._leave(unit, tokens, error)

    def managed(self, method: str) -> Callable:
        def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
            if not is_instrumentation_enabled() or not args or not callable(args[0]):
                return wrapped(*args, **kwargs)
            try:
                unit = self._managed_unit(instance, method)
                function = self._counted(args[0], unit, is_async=False)
                tokens = self._enter(unit)
            except Exception:  # fail open
                oops(f"Session.{method}")
                return wrapped(*args, **kwargs)
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
            if not is_instrumentation_enabled() or instance._closed_flag:
                return wrapped(*args, **kwargs)
            try:
                span = self._tx_end_span(instance, name)
            except Exception:  # fail open
                oops(f"Transaction.{name}")
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
            CURRENT_FAILURE.reset(token)
