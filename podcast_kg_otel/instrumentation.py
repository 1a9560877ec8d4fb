"""``instrument_all``: turn on every installed instrumentor from code, honouring the
``INSTRUMENT_*`` flags and ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``."""

from __future__ import annotations

import logging
import os

from opentelemetry.instrumentation.dependencies import get_dist_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.trace import TracerProvider
from opentelemetry.util._importlib_metadata import entry_points
from podcast_kg_otel_util.failopen import log_once

from podcast_kg_otel.config import TracingConfig, current_config
from podcast_kg_otel.defaults import STABLE_SEMCONV
from podcast_kg_otel.environment_variables import OTEL_SEMCONV_STABILITY_OPT_IN

_logger = logging.getLogger(__name__)
INSTRUMENTOR_GROUP = "opentelemetry_instrumentor"


def instrument_all(
    config: TracingConfig | None = None, tracer_provider: TracerProvider | None = None
) -> list[str]:
    """Instrument every installed library that is not disabled; return the entry-point
    names instrumented by this call.

    Safe to call twice (and under ``opentelemetry-instrument``): instrumentors that are
    already active are left alone. A library that is not installed, has an incompatible
    version or whose instrumentor fails is skipped; the others still load.
    """
    disabled = (config or current_config()).disabled_instrumentations
    if "*" in disabled:
        return []
    # The same one vocabulary as under opentelemetry-instrument (read at instrument time).
    os.environ.setdefault(OTEL_SEMCONV_STABILITY_OPT_IN, STABLE_SEMCONV)
    done: list[str] = []
    for entry_point in entry_points(group=INSTRUMENTOR_GROUP):
        if entry_point.name in disabled:
            continue
        try:
            if entry_point.dist is not None and get_dist_dependency_conflicts(entry_point.dist):
                continue
            instrumentor: BaseInstrumentor = entry_point.load()()
            if instrumentor.is_instrumented_by_opentelemetry:
                continue
            kwargs = {"tracer_provider": tracer_provider} if tracer_provider else {}
            instrumentor.instrument(**kwargs)
            done.append(entry_point.name)
        except ModuleNotFoundError:
            continue
        except Exception:  # one broken instrumentor must not stop the rest
            log_once(
                _logger,
                f"instrument-{entry_point.name}",
                f"podcast-kg-otel: instrumentor {entry_point.name!r} failed; skipping it",
            )
    return done
