import logging
from collections.abc import Callable
from typing import Any

import pytest
from podcast_kg_otel_util import failopen
from podcast_kg_otel_util.failopen import guard, log_once


@pytest.fixture(autouse=True)
def fresh_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failopen, "_logged", set())


def ours(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_guard_swallows_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.guard")
    for _ in range(3):
        with guard(logger, "span start"):
            raise KeyError("ours")
    records = ours(caplog, "test.guard")
    assert len(records) == 1
    assert "span start" in records[0].getMessage()
    assert records[0].exc_info[0] is KeyError


def test_guard_passes_through_without_error() -> None:
    done = []
    with guard(logging.getLogger("test.guard"), "x"):
        done.append(1)
    assert done == [1]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_guard_never_swallows_what_is_not_an_error(
    stop: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    raised = stop()
    with pytest.raises(stop) as info, guard(logging.getLogger("test.stop"), "step"):
        raise raised
    assert info.value is raised
    assert ours(caplog, "test.stop") == []


# A wrapper written the way the plugins and the distro write theirs: our steps guarded,
# the user's call beside them, never inside.
_logger = logging.getLogger("podcast_kg_otel_example.wrappers")
_BEFORE = guard(_logger, "span start")


@guard(_logger, "span end")
def _after(result: Any, broken: bool) -> None:
    if broken:
        raise RuntimeError("a bug of ours at the end")


def traced(user: Callable[..., Any], *args: Any, broken: bool = False) -> Any:
    with _BEFORE:
        if broken:
            raise RuntimeError("a bug of ours at the start")
    result = user(*args)
    _after(result, broken)
    return result


def test_an_error_in_our_code_is_logged_once_and_the_call_proceeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def user(value: int) -> int:
        calls.append(value)
        return value * 2

    assert [traced(user, n, broken=True) for n in (1, 2, 3)] == [2, 4, 6]
    assert calls == [1, 2, 3]
    records = ours(caplog, _logger.name)
    assert [r.getMessage() for r in records] == [
        "podcast-kg-otel-example: instrumentation error in span start; "
        "telemetry for this call may be incomplete, the application is unaffected",
        "podcast-kg-otel-example: instrumentation error in span end; "
        "telemetry for this call may be incomplete, the application is unaffected",
    ]
    assert [str(r.exc_info[1]) for r in records] == [
        "a bug of ours at the start",
        "a bug of ours at the end",
    ]


@pytest.mark.parametrize("broken", [False, True], ids=["ours-fine", "ours-broken"])
def test_the_users_exception_passes_unchanged(
    broken: bool, caplog: pytest.LogCaptureFixture
) -> None:
    error = ValueError("the user's own")

    def user() -> None:
        raise error

    with pytest.raises(ValueError) as info:
        traced(user, broken=broken)
    assert info.value is error
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert info.traceback[-1].name == "user"
    assert not [r for r in ours(caplog, _logger.name) if r.exc_info[1] is error]


def test_a_guarded_function_returns_none_on_an_error() -> None:
    @guard(logging.getLogger("test.decorated"), "start")
    def start(fail: bool) -> str:
        if fail:
            raise LookupError("ours")
        return "span"

    assert start(False) == "span"
    assert start(True) is None
    assert start.__name__ == "start"


def test_an_own_message_replaces_the_default(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("podcast_kg_otel.example")
    with guard(logger, "thread-start", "podcast-kg-otel: could not capture a thread's context"):
        raise RuntimeError("ours")
    assert [r.getMessage() for r in ours(caplog, logger.name)] == [
        "podcast-kg-otel: could not capture a thread's context"
    ]


def test_log_once_is_per_logger_and_key() -> None:
    first, second = logging.getLogger("a.one"), logging.getLogger("a.two")
    assert log_once(first, "k", "m", exc_info=False) is True
    assert log_once(first, "k", "m", exc_info=False) is False
    assert log_once(second, "k", "m", exc_info=False) is True
    assert log_once(first, "other", "m", exc_info=False) is True
