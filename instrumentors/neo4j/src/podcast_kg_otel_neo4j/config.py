"""Settings from instrumentor arguments, falling back to environment variables.

A bad value gives one warning naming the setting, the value and what is used instead
(see podcast_kg_otel_util.env); it never raises into the application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util import env

ENV_QUERY_TEXT = "PODCAST_KG_OTEL_NEO4J_QUERY_TEXT"
ENV_QUERY_TEXT_MAX_LENGTH = "PODCAST_KG_OTEL_NEO4J_QUERY_TEXT_MAX_LENGTH"
ENV_CAPTURE_PARAMETERS = "PODCAST_KG_OTEL_NEO4J_CAPTURE_PARAMETERS"

# on: as written when parameterized, literals replaced by ? otherwise (semconv rule);
# sanitized: literals always replaced; raw: always as written; off: no db.query.text.
QUERY_TEXT_MODES = ("on", "sanitized", "raw", "off")
DEFAULT_QUERY_TEXT_MAX_LENGTH = 2048
PARAMETER_VALUE_MAX_LENGTH = 256


@dataclass(frozen=True, eq=False)  # identity hash: a cheap key for the per-query cache
class Settings:
    query_text: str = "on"
    query_text_max_length: int = DEFAULT_QUERY_TEXT_MAX_LENGTH
    capture_parameters: frozenset[str] = frozenset()


def _kwarg_choice(name: str, value: Any, default: str) -> str:
    if isinstance(value, str) and value.strip().lower() in QUERY_TEXT_MODES:
        return value.strip().lower()
    env.report_bad_value(
        name, str(value), default, f"expected one of {', '.join(QUERY_TEXT_MODES)}"
    )
    return default


def _kwarg_length(name: str, value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    env.report_bad_value(name, str(value), default, "expected an integer >= 0")
    return default


def _kwarg_keys(name: str, value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(key.strip() for key in value.split(",") if key.strip())
    if isinstance(value, Iterable):
        return frozenset(str(key) for key in value)
    env.report_bad_value(name, str(value), [], "expected a list of parameter names")
    return frozenset()


def load(kwargs: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Instrumentor arguments win over environment variables, which win over defaults."""
    query_text = env.env_choice(ENV_QUERY_TEXT, "on", QUERY_TEXT_MODES, environ)
    if kwargs.get("query_text") is not None:
        query_text = _kwarg_choice("query_text", kwargs["query_text"], query_text)
    max_length = env.env_int(
        ENV_QUERY_TEXT_MAX_LENGTH, DEFAULT_QUERY_TEXT_MAX_LENGTH, minimum=0, environ=environ
    )
    if kwargs.get("query_text_max_length") is not None:
        max_length = _kwarg_length(
            "query_text_max_length", kwargs["query_text_max_length"], max_length
        )
    keys = frozenset(env.env_list(ENV_CAPTURE_PARAMETERS, environ))
    if kwargs.get("capture_parameters") is not None:
        keys = _kwarg_keys("capture_parameters", kwargs["capture_parameters"])
    return Settings(query_text, max_length, keys)
