import logging

import pytest
from podcast_kg_otel_util import failopen
from podcast_kg_otel_util.failopen import guard, log_once


@pytest.fixture(autouse=True)
def fresh_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failopen, "_logged", set())


def test_guard_swallows_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.guard")
    for _ in range(3):
        with guard(logger, "span start"):
            raise KeyError("ours")
    records = [r for r in caplog.records if r.name == "test.guard"]
    assert len(records) == 1
    assert "span start" in records[0].getMessage()
    assert records[0].exc_info[0] is KeyError


def test_guard_passes_through_without_error() -> None:
    done = []
    with guard(logging.getLogger("test.guard"), "x"):
        done.append(1)
    assert done == [1]


def test_log_once_is_per_logger_and_key() -> None:
    first, second = logging.getLogger("a.one"), logging.getLogger("a.two")
    assert log_once(first, "k", "m", exc_info=False) is True
    assert log_once(first, "k", "m", exc_info=False) is False
    assert log_once(second, "k", "m", exc_info=False) is True
    assert log_once(first, "other", "m", exc_info=False) is True
