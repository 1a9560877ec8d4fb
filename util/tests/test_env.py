import logging

import pytest
from podcast_kg_otel_util import env
from podcast_kg_otel_util.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "_warned", set())


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_valid_values_are_parsed() -> None:
    environ = {"B": "Yes", "I": " 12 ", "F": "0.25", "L": "a, b,,c", "C": "HTTP"}
    assert env_bool("B", False, environ) is True
    assert env_int("I", 1, minimum=0, environ=environ) == 12
    assert env_float("F", 1.0, minimum=0, maximum=1, environ=environ) == 0.25
    assert env_list("L", environ) == ["a", "b", "c"]
    assert env_choice("C", "grpc", {"grpc", "http"}, environ) == "http"


def test_unset_and_blank_give_the_default_silently(caplog: pytest.LogCaptureFixture) -> None:
    assert env_int("I", 7, environ={"I": "  "}) == 7
    assert env_bool("B", True, environ={}) is True
    assert env_list("L", {}) == []
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda e: env_bool("B", True, e),
            "B='maybe' is invalid (expected true or false); using True instead",
        ),
        (
            lambda e: env_int("I", 5, minimum=1, environ=e),
            "I='maybe' is invalid (expected an integer); using 5 instead",
        ),
        (
            lambda e: env_float("F", 1.0, environ=e),
            "F='maybe' is invalid (expected a number); using 1.0 instead",
        ),
        (
            lambda e: env_choice("C", "grpc", {"grpc"}, e),
            "C='maybe' is invalid (expected one of grpc); using 'grpc' instead",
        ),
    ],
)
def test_bad_value_warns_once_with_variable_value_and_fallback(
    call, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {"B": "maybe", "I": "maybe", "F": "maybe", "C": "maybe"}
    call(environ)
    call(environ)
    assert warnings(caplog) == [message]


def test_out_of_range_number_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    assert env_float("RATE", 1.0, minimum=0, maximum=1, environ={"RATE": "1.5"}) == 1.0
    assert env_int("PORT", 4318, minimum=0, environ={"PORT": "-1"}) == 4318
    assert env_float("NAN", 0.5, minimum=0, maximum=1, environ={"NAN": "nan"}) == 0.5
    assert warnings(caplog) == [
        "RATE='1.5' is invalid (expected a value between 0 and 1); using 1.0 instead",
        "PORT='-1' is invalid (expected a value >= 0); using 4318 instead",
        "NAN='nan' is invalid (expected a value between 0 and 1); using 0.5 instead",
    ]


def test_infinite_number_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    # An infinite timeout or delay makes threading waits raise OverflowError.
    assert env_float("DELAY", 5000.0, minimum=0, environ={"DELAY": "inf"}) == 5000.0
    assert warnings(caplog) == [
        "DELAY='inf' is invalid (expected a value >= 0); using 5000.0 instead",
    ]


def test_strict_mode_raises_instead() -> None:
    with pytest.raises(ConfigurationError, match="I='x' is invalid"):
        env_int("I", 1, environ={"I": "x", "PODCAST_KG_OTEL_STRICT": "true"})
