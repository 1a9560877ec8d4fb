"""The configuration file (``OTEL_CONFIG_FILE``) as a source of our settings.

The file is upstream's declarative configuration; its ``distribution`` section is where a
distribution's own settings go. Ours are under ``distribution.podcast_kg_otel``, each key
the setting's ``PODCAST_KG_OTEL_*`` variable without the prefix, in lower case, with the
variable's unit (``exit_timeout_ms: 250``, ``tail_sampling: true``). Each value is checked
by the setting's parser (``loader.from_file``), so a bad one gives the same one warning as
a bad variable. The file wins over the variable; when both are set and differ, one warning
names both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.settings.declarations import SETTINGS

OTEL_CONFIG_FILE = "OTEL_CONFIG_FILE"
#: The spelling of SDK 1.43, before the variable was renamed.
OTEL_EXPERIMENTAL_CONFIG_FILE = "OTEL_EXPERIMENTAL_CONFIG_FILE"
INSTALL_HINT = "pip install 'podcast-kg-otel[config-file]'"
DISTRIBUTION = "podcast_kg_otel"

_logger = logging.getLogger("podcast_kg_otel.config_file")


def warn(key: str, message: str) -> None:
    log_once(_logger, f"config-file-{key}", f"podcast-kg-otel: {message}", exc_info=False)


#: Our settings the file's ``distribution.podcast_kg_otel`` section can set, by key.
FILE_SETTINGS = {setting.file_key: setting for setting in SETTINGS if setting.file_key}


def config_file_variable(environ: Mapping[str, str]) -> str | None:
    """The variable that names the file (the old name only when the new one is unset)."""
    for name in (OTEL_CONFIG_FILE, OTEL_EXPERIMENTAL_CONFIG_FILE):
        if environ.get(name, "").strip():
            return name
    return None


def config_file_path(environ: Mapping[str, str]) -> str | None:
    """The configured file, from ``OTEL_CONFIG_FILE`` or (with one warning) the old name."""
    variable = config_file_variable(environ)
    if variable is None:
        return None
    path = environ[variable].strip()
    if variable == OTEL_EXPERIMENTAL_CONFIG_FILE:
        warn(
            "old-name",
            f"{OTEL_EXPERIMENTAL_CONFIG_FILE}={path} is the old name of {OTEL_CONFIG_FILE}; "
            f"using the file. Rename the variable to {OTEL_CONFIG_FILE}.",
        )
    return path


def load_file(path: str, variable: str) -> Any:
    """The parsed file, or None with one warning when it cannot be used."""
    try:
        from opentelemetry.configuration import load_config_file
    except ImportError:
        warn(
            "missing-package",
            f"{variable}={path} is set but opentelemetry-configuration is not installed "
            f"({INSTALL_HINT}); configuring from the environment instead",
        )
        return None
    # The loader logs each failure with a traceback, then raises: our one line says it.
    loader_logger = logging.getLogger("opentelemetry.configuration.file._loader")
    disabled = loader_logger.disabled
    loader_logger.disabled = True
    try:
        return load_config_file(path)
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        warn(
            "unusable",
            f"{variable}={path} could not be used ({reason}); configuring from the "
            "environment instead",
        )
        return None
    finally:
        loader_logger.disabled = disabled


def section(environ: Mapping[str, str]) -> tuple[str, Mapping[str, Any]]:
    """(the variable naming the file, its ``distribution.podcast_kg_otel`` section); an
    empty section when no usable file is configured."""
    variable = config_file_variable(environ)
    path = config_file_path(environ)
    if variable is None or path is None:
        return "", {}
    model = load_file(path, variable)
    values = (getattr(model, "distribution", None) or {}).get(DISTRIBUTION)
    if not isinstance(values, Mapping):
        return variable, {}
    unknown = sorted(key for key in values if key not in FILE_SETTINGS)
    if unknown:
        warn(
            "unknown-keys",
            f"{variable}={path}: distribution.{DISTRIBUTION} has no setting "
            f"{', '.join(unknown)} (known: {', '.join(FILE_SETTINGS)}); ignored",
        )
    return variable, {key: value for key, value in values.items() if key in FILE_SETTINGS}
