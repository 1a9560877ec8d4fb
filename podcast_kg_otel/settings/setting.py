"""One declared setting (``Setting``) and the kinds of parser the loader applies.

Imports nothing: the declarations (``declarations``) and the loader (``loader``) both
stand on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOOL = "bool"
INT = "int"
FLOAT = "float"
CHOICE = "choice"
TEXT = "text"
PORT = "port"
HOST = "host"
#: A comma-separated list of names, each one of ``choices`` (case-sensitive).
NAMES = "names"
#: Read by a function of its own in ``config_env`` (the variables combine).
COMPOSITE = "composite"
#: Read where it is used, or by the SDK / an instrumentation (documented here).
ELSEWHERE = "elsewhere"

#: ``OTEL_RESOURCE_ATTRIBUTES[key]``: one key of the resource attribute list, as a level of
#: a setting's precedence (``service.name`` there beats ``TRACING_SERVICE_NAME``).
RESOURCE = "OTEL_RESOURCE_ATTRIBUTES"

_UNSET = object()
_PREFIX = "PODCAST_KG_OTEL_"


@dataclass(frozen=True)
class Setting:
    """One setting. ``default``, ``minimum`` and ``maximum`` are in the variables' unit;
    ``scale`` converts to the field's (``0.001``: milliseconds to seconds)."""

    field: str
    variables: tuple[str, ...]
    kind: str
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    scale: float = 1.0
    #: The value used in place of a bad one when it is not ``default`` (e.g. a bad sampling
    #: rate means 1.0, while leaving the rate unset means no ratio sampler).
    invalid: Any = _UNSET
    #: How the docs show the default when it is not simply ``default``.
    shown_default: str | None = None
    #: ``true`` when the variable says the opposite of the field (``OTEL_SDK_DISABLED``).
    negate: bool = False
    #: How the SDK or an instrumentation reads the variables itself (``INT``: with
    #: ``int()``, ``FLOAT``, ``CHOICE``), when it does: ``sdk_variables.repair`` rewrites a
    #: bad value to the one used before it reads it. Empty: only we read them.
    sdk: str = ""
    #: The variable the SDK reads when these are unset (``OTEL_EXPORTER_OTLP_TIMEOUT`` for
    #: ``OTEL_EXPORTER_OTLP_METRICS_TIMEOUT``): declared on its own, a bad value here falls
    #: back to it.
    inherits: str = ""

    @property
    def used_when_invalid(self) -> Any:
        return self.default if self.invalid is _UNSET else self.invalid

    @property
    def runtime(self) -> bool:
        """A field of ``RuntimeSettings`` (``TracingConfig.runtime``)."""
        return self.field.startswith("runtime.")

    @property
    def file_key(self) -> str | None:
        """The key in the configuration file's ``distribution.podcast_kg_otel`` section:
        the ``PODCAST_KG_OTEL_*`` variable without the prefix, in lower case."""
        ours = [name for name in self.variables if name.startswith(_PREFIX)]
        return ours[0][len(_PREFIX) :].lower() if self.runtime and ours else None

    @property
    def name(self) -> str:
        """The field's own name (without ``runtime.``)."""
        return self.field.rpartition(".")[2]

    def to_field(self, value: Any) -> Any:
        """A value in the variables' unit as the field holds it."""
        if value is None:
            return None
        if self.negate:
            return not value
        if self.scale != 1.0:
            return value * self.scale
        return value
