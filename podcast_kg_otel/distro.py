"""The ``opentelemetry_distro`` entry point ``podcast_kg_otel``.

Runs first under ``opentelemetry-instrument``: it builds the configuration once, makes our
configurator the one that runs, and maps the legacy ``INSTRUMENT_*`` flags onto
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` so the upstream loader skips those instrumentors.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry.instrumentation.dependencies import DependencyConflictError
from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_CONFIGURATOR,
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS,
)
from opentelemetry.util._importlib_metadata import EntryPoint
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.configurator import load_config
from podcast_kg_otel.defaults import STABLE_SEMCONV
from podcast_kg_otel.environment_variables import (
    OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION,
    OTEL_SEMCONV_STABILITY_OPT_IN,
)
from podcast_kg_otel.lazy import defer_instrumentor

ENTRY_POINT_NAME = "podcast_kg_otel"
_logger = logging.getLogger(__name__)
_UPSTREAM_LOADER = "opentelemetry.instrumentation.auto_instrumentation._load"
# The upstream LLM provider SDK instrumentations (see providers.py).
_PROVIDER_INSTRUMENTORS = frozenset({"openai", "google-genai"})


class _OtherConfiguratorsSkipped(logging.Filter):
    """Drops the upstream loader's "Configuration of X not loaded" warning, printed at every
    start for each other installed configurator (e.g. the stock one): with ours selected,
    skipping them is the intended outcome, not a problem to report."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Configuration of %s not loaded")


class PodcastKgOtelDistro(BaseDistro):
    """Our distro; see ``docs/configuration.md`` for how it is selected."""

    def _configure(self, **kwargs: Any) -> None:
        if os.environ.setdefault(OTEL_PYTHON_CONFIGURATOR, ENTRY_POINT_NAME) == ENTRY_POINT_NAME:
            logging.getLogger(_UPSTREAM_LOADER).addFilter(_OtherConfiguratorsSkipped())
        os.environ.setdefault(OTEL_SEMCONV_STABILITY_OPT_IN, STABLE_SEMCONV)
        config = load_config()
        if not config.logs_exporters:
            # With no logs exporter, the contrib logging instrumentation's root handler would
            # export nowhere, yet its presence stops Python printing an unconfigured app's
            # own warnings (logging.lastResort). Trace-id correlation on records still works.
            os.environ.setdefault(OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION, "false")
        disabled = config.disabled_instrumentations
        if disabled:
            os.environ[OTEL_PYTHON_DISABLED_INSTRUMENTATIONS] = ",".join(sorted(disabled))

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        """Instrument one library; a failing instrumentor is logged once and skipped, so
        the ones after it still load (upstream would stop at the first failure)."""
        try:
            if entry_point.name in _PROVIDER_INSTRUMENTORS:
                from podcast_kg_otel import providers  # only with the providers extra

                kwargs = providers.configure(kwargs)
            # Lazy by default: applied on the target library's first import (lazy.py).
            if load_config().runtime.lazy_instrumentation and defer_instrumentor(
                entry_point, **kwargs
            ):
                return
            super().load_instrumentor(entry_point, **kwargs)
        except (ImportError, DependencyConflictError):
            raise  # the upstream loader reports these itself
        except Exception:
            log_once(
                _logger,
                f"instrumentor-{entry_point.name}",
                f"podcast-kg-otel: instrumentor {entry_point.name!r} failed; skipping it",
            )
