"""Settings from instrumentor arguments, falling back to environment variables.

A bad value gives one warning naming the setting, the value and what is used instead
(see podcast_kg_otel_util.options); it never raises into the application.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel_util.options import option_choice, option_int, option_names

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


def load(kwargs: Mapping[str, Any]) -> Settings:
    """Instrumentor arguments win over environment variables, which win over defaults."""
    return Settings(
        option_choice(kwargs, "query_text", ENV_QUERY_TEXT, "on", QUERY_TEXT_MODES),
        option_int(
            kwargs,
            "query_text_max_length",
            ENV_QUERY_TEXT_MAX_LENGTH,
            DEFAULT_QUERY_TEXT_MAX_LENGTH,
            minimum=0,
        ),
        option_names(kwargs, "capture_parameters", ENV_CAPTURE_PARAMETERS),
    )
