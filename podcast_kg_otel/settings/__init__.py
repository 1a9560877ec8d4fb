"""The distro's configuration layer: every setting declared once (``declarations``), read
by one loader for the environment, explicit arguments and the configuration file
(``loader``), the run-time settings as one value (``RuntimeSettings``), the ``OTEL_*``
values the SDK reads repaired before it reads them (``sdk_variables``), and
``docs/configuration.md`` generated from the declarations (``docs``).

It imports nothing from the runtime wiring (configurator, runtime, sampling, exporting):
they import it.
"""

from __future__ import annotations

from podcast_kg_otel.settings.declarations import (
    INSTRUMENT_FLAGS,
    SETTINGS,
    Setting,
    configuration_variables,
    declared,
    declared_variable,
    variables,
)
from podcast_kg_otel.settings.runtime_settings import RuntimeSettings

__all__ = [
    "INSTRUMENT_FLAGS",
    "SETTINGS",
    "RuntimeSettings",
    "Setting",
    "configuration_variables",
    "declared",
    "declared_variable",
    "variables",
]
