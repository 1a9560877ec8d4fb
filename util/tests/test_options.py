import logging

import pytest
from podcast_kg_otel_util import env
from podcast_kg_otel_util.content import capture_option
from podcast_kg_otel_util.env import ConfigurationError
from podcast_kg_otel_util.options import (
    option_bool,
    option_choice,
    option_float,
    option_int,
    option_names,
)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "_warned", set())
    for name in ("X_BOOL", "X_INT", "X_FLOAT", "X_CHOICE", "X_NAMES", env.STRICT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_keyword_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, raw in [("X_BOOL", "true"), ("X_INT", "5"), ("X_FLOAT", "0.5")]:
        monkeypatch.setenv(name, raw)
    monkeypatch.setenv("X_CHOICE", "raw")
    monkeypatch.setenv("X_NAMES", "a,b")
    kwargs = {"b": False, "i": 9, "f": "0.25", "c": " OFF ", "n": ["x", " y ", ""]}
    assert option_bool(kwargs, "b", "X_BOOL", True) is False
    assert option_int(kwargs, "i", "X_INT", 1, minimum=1) == 9
    assert option_float(kwargs, "f", "X_FLOAT", 1.0, maximum=1) == 0.25
    assert option_choice(kwargs, "c", "X_CHOICE", "on", ("on", "off", "raw")) == "off"
    assert option_names(kwargs, "n", "X_NAMES") == {"x", "y"}
    assert option_names({"n": "p, q"}, "n", "X_NAMES") == {"p", "q"}


def test_without_a_keyword_argument_the_environment_then_the_default_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_INT", "5")
    monkeypatch.setenv("X_NAMES", "a,b")
    assert option_int({}, "i", "X_INT", 1) == 5
    assert option_int({"i": None}, "i", "X_MISSING", 1) == 1
    assert option_names({}, "n", "X_NAMES") == {"a", "b"}
    assert option_bool({}, "b", "X_BOOL", True) is True


@pytest.mark.parametrize(
    ("call", "expected", "words"),
    [
        (lambda: option_bool({"b": "maybe"}, "b", "X_BOOL", False), False, "b='maybe'"),
        (lambda: option_int({"i": 0}, "i", "X_INT", 7, minimum=1), 7, "i='0'"),
        (lambda: option_int({"i": True}, "i", "X_INT", 7), 7, "i='True'"),
        (lambda: option_int({"i": "ten"}, "i", "X_INT", 7), 7, "i='ten'"),
        (lambda: option_float({"f": 2}, "f", "X_FLOAT", 1.0, maximum=1), 1.0, "f='2'"),
        (lambda: option_choice({"c": "loud"}, "c", "X_CHOICE", "on", ("on",)), "on", "c='loud'"),
        (lambda: option_choice({"c": 3}, "c", "X_CHOICE", "on", ("on",)), "on", "c='3'"),
        (lambda: option_names({"n": 3}, "n", "X_NAMES"), frozenset(), "n='3'"),
    ],
)
def test_a_bad_keyword_value_warns_once_naming_it_and_keeps_the_fallback(
    call, expected, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert call() == expected
    assert call() == expected
    messages = warnings(caplog)
    assert len(messages) == 1 and words in messages[0] and "instead" in messages[0]


def test_a_bad_keyword_value_falls_back_to_the_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_INT", "5")
    assert option_int({"i": -3}, "i", "X_INT", 1, minimum=0) == 5


def test_strict_mode_raises_for_a_bad_keyword_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env.STRICT_ENV, "true")
    with pytest.raises(ConfigurationError, match="i='x'"):
        option_int({"i": "x"}, "i", "X_INT", 1)


def test_content_capture_option(monkeypatch: pytest.MonkeyPatch) -> None:
    assert capture_option(None, "capture") is False
    assert capture_option("false", "capture") is False
    assert capture_option("SPAN_ONLY", "capture") is True
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    assert capture_option(None, "capture") is True
    assert capture_option(False, "capture") is False
