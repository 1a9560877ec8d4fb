"""The wrappers read nothing of the driver's objects outside their fail-open guard.

The wrappers are driven directly with stand-ins for the driver's objects: ones whose
every attribute read raises, ones that lack the attributes, and ones that break during
the call (as a session or transaction torn down by it). In every case the user's call
runs exactly once, with its own arguments, and its result or exception comes back
unchanged; our code logs at most one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import neo4j
import pytest
from podcast_kg_otel_neo4j import attributes as attr
from podcast_kg_otel_neo4j.aio import AsyncWrappers
from podcast_kg_otel_neo4j.config import Settings
from podcast_kg_otel_neo4j.state import CURRENT_UNIT
from podcast_kg_otel_neo4j.wrappers import SyncWrappers
from podcast_kg_otel_util import failopen

ADDRESS = ("127.0.0.1", 7687)


class DriverObject:
    """Enough of a Session, Transaction or Driver for our wrappers to read. Once broken,
    every attribute read raises."""

    def __init__(self, broken: bool = False) -> None:
        self._config = SimpleNamespace(database="neo4j", default_access_mode="WRITE")
        self._pool = SimpleNamespace(address=ADDRESS)
        self._database = "neo4j"
        self._connection = SimpleNamespace(unresolved_address=ADDRESS)
        self._closed_flag = False
        self._broken = broken

    def __getattribute__(self, name: str) -> Any:
        if object.__getattribute__(self, "_broken"):
            raise RuntimeError(f"driver object torn down, no {name}")
        return object.__getattribute__(self, name)

    def break_(self) -> None:
        object.__setattr__(self, "_broken", True)


class Missing:
    """A driver object without any of the attributes we read."""

    __slots__ = ()


class UserCall:
    """The wrapped driver call: records each call, breaks `instance` while running if
    asked, then returns or raises `outcome`."""

    def __init__(self, outcome: Any, breaks: DriverObject | None = None) -> None:
        self.outcome = outcome
        self.breaks = breaks
        self.calls: list[tuple[tuple, dict]] = []

    def run(self, args: tuple, kwargs: dict) -> Any:
        self.calls.append((args, kwargs))
        if self.breaks is not None:
            self.breaks.break_()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def sync(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(args, kwargs)

    async def coroutine(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(args, kwargs)


def user_function(tx: Any) -> None:
    """A transaction function of the user's."""


# wrapper name -> (how to call it, the arguments the user passed)
CALLS: dict[str, tuple[Callable[[Any], Callable], tuple]] = {
    "Session.run": (lambda w: w.session_run, ("RETURN $x AS x", {"x": 1})),
    "Transaction.run": (lambda w: w.tx_run, ("RETURN $x AS x", {"x": 1})),
    "Driver.execute_query": (lambda w: w.execute_query, ("RETURN $x AS x", {"x": 1})),
    "Session.execute_write": (lambda w: w.managed("execute_write"), (user_function,)),
    "Transaction.commit": (lambda w: w.tx_end(attr.SPAN_COMMIT), ()),
    "Transaction.rollback": (lambda w: w.tx_end(attr.SPAN_ROLLBACK), ()),
}
# the results the driver hands back: a Result whose summary has arrived, or a value
RETURNS = {"Session.run", "Transaction.run"}


def done_result() -> SimpleNamespace:
    return SimpleNamespace(
        _on_closed=None, _on_error=None, _tx_failure=None, _metadata={"type": "r", "db": "neo4j"}
    )


@pytest.fixture
def our_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable:
    """The lines our code logs in this test (the once-per-place memory starts empty)."""
    monkeypatch.setattr(failopen, "_logged", set())
    caplog.set_level(logging.WARNING)
    return lambda: [r for r in caplog.records if r.name.startswith("podcast_kg_otel")]


def wrappers(spans: Any, is_async: bool) -> SyncWrappers | AsyncWrappers:
    tracer = spans.provider.get_tracer("podcast_kg_otel_neo4j")
    if is_async:
        return AsyncWrappers(tracer, Settings(), neo4j.AsyncManagedTransaction, None)
    return SyncWrappers(tracer, Settings(), neo4j.ManagedTransaction, None)


async def call(wrapper: Callable, user: UserCall, instance: Any, args: tuple, is_async: bool):
    if is_async:
        return await wrapper(user.coroutine, instance, args, {})
    return wrapper(user.sync, instance, args, {})


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("fails", [False, True], ids=["returns", "raises"])
@pytest.mark.parametrize("name", list(CALLS))
async def test_attributes_that_raise(spans, our_log, name, fails, is_async):
    get, args = CALLS[name]
    outcome = ValueError("the user's own error") if fails else object()
    user = UserCall(outcome)
    wrapper = get(wrappers(spans, is_async))
    if fails:
        with pytest.raises(ValueError) as info:
            await call(wrapper, user, DriverObject(broken=True), args, is_async)
        assert info.value is outcome
    else:
        assert await call(wrapper, user, DriverObject(broken=True), args, is_async) is outcome
    assert user.calls == [(args, {})]  # once, with the user's own arguments
    [line] = our_log()
    assert "unaffected" in line.getMessage()
    assert spans.neo4j() == []


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", list(CALLS))
async def test_attributes_that_are_missing(spans, our_log, name, is_async):
    get, args = CALLS[name]
    outcome = object()
    user = UserCall(outcome)
    wrapper = get(wrappers(spans, is_async))
    assert await call(wrapper, user, Missing(), args, is_async) is outcome
    assert user.calls == [(args, {})]
    if name == "Driver.execute_query":  # reads only the optional pool: a span, no address
        assert our_log() == []
        [span] = spans.neo4j()
        assert attr.SERVER_ADDRESS not in span.attributes
    else:
        assert len(our_log()) == 1
        assert spans.neo4j() == []


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("fails", [False, True], ids=["returns", "raises"])
@pytest.mark.parametrize("name", list(CALLS))
async def test_object_broken_by_the_call(spans, our_log, name, fails, is_async):
    """Nothing of the driver object is read after the call: one whose attributes raise
    from then on changes nothing, and the span is complete."""
    get, args = CALLS[name]
    instance = DriverObject()
    if fails:
        outcome: Any = ValueError("the user's own error")
    else:
        outcome = done_result() if name in RETURNS else object()
    user = UserCall(outcome, breaks=instance)
    wrapper = get(wrappers(spans, is_async))
    if fails:
        with pytest.raises(ValueError) as info:
            await call(wrapper, user, instance, args, is_async)
        assert info.value is outcome
    else:
        assert await call(wrapper, user, instance, args, is_async) is outcome
    assert len(user.calls) == 1
    assert our_log() == []
    [span] = spans.neo4j()
    assert span.end_time is not None
    assert span.attributes[attr.DB_SYSTEM_NAME] == "neo4j"
    assert span.status.status_code.name == ("ERROR" if fails else "UNSET")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_broken_unit_in_execute_query_attempt(spans, our_log, is_async):
    """The driver's `_work` called while the current unit cannot be read: called as is."""
    outcome = object()
    user = UserCall(outcome)
    args = (DriverObject(), "RETURN 1", None, lambda result: result)
    token = CURRENT_UNIT.set(DriverObject(broken=True))  # type: ignore[arg-type]
    try:
        wrapper = wrappers(spans, is_async).query_work
        assert await call(wrapper, user, None, args, is_async) is outcome
    finally:
        CURRENT_UNIT.reset(token)
    assert user.calls == [(args, {})]
    assert len(our_log()) == 1
