"""``init_tracing``: programmatic set-up for code that does not run under
``opentelemetry-instrument``."""

from __future__ import annotations

import logging
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from podcast_kg_otel import config as config_module
from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import configure_sdk

_logger = logging.getLogger(__name__)
_lock = threading.Lock()


def init_tracing(
    service_name: str | None = None,
    jaeger_host: str | None = None,
    jaeger_port: int | None = None,
    *,
    config: TracingConfig | None = None,
    **settings: Any,
) -> TracerProvider | None:
    """Set up tracing once and return the SDK TracerProvider (``None`` when tracing is
    off).

    Idempotent: when an SDK provider is already installed (by ``opentelemetry-instrument``,
    an earlier call or the application) it is reused as is, so no second exporter is added
    and no span is sent twice. Otherwise `config`, or ``TracingConfig.from_env`` with the
    explicit arguments (any ``TracingConfig`` field in `settings`) taking precedence over
    the environment, decides the set-up.
    """
    with _lock:
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            _logger.debug("podcast-kg-otel: reusing the installed TracerProvider")
            return existing
        if config is None:
            config = TracingConfig.from_env(
                service_name=service_name,
                jaeger_host=jaeger_host,
                jaeger_port=jaeger_port,
                **settings,
            )
        config_module._current = config
        return configure_sdk(config)
