"""W3C context propagation: the global propagator set directly, plus the guide's
``inject_context`` / ``extract_context``.

Upstream reads ``OTEL_PROPAGATORS`` once, when ``opentelemetry.propagate`` is first imported,
which happens before any distro runs (opentelemetry-python#4679). Setting the global textmap
here makes the configured choice take effect whatever the import order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, MutableMapping

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import components

_logger = logging.getLogger(__name__)


def install_propagators(names: Iterable[str]) -> TextMapPropagator:
    """Make the propagators named by `names` (entry points) the global textmap."""
    propagators: list[TextMapPropagator] = []
    for name in names:
        with guard(
            _logger,
            f"propagator-{name}",
            f"podcast-kg-otel: propagator {name!r} failed to load; skipping it",
        ):
            propagators.append(components.load(components.PROPAGATOR_GROUP, name)())
    composite = CompositePropagator(propagators)
    propagate.set_global_textmap(composite)
    return composite


def inject_context(
    carrier: MutableMapping[str, str] | None = None, context: Context | None = None
) -> MutableMapping[str, str]:
    """Write the current (or given) trace context into `carrier` (e.g. HTTP headers) and
    return it."""
    carrier = {} if carrier is None else carrier
    propagate.inject(carrier, context=context)
    return carrier


def extract_context(carrier: Mapping[str, str], context: Context | None = None) -> Context:
    """The context carried by `carrier` (e.g. incoming HTTP headers), for
    ``opentelemetry.context.attach`` or as a span's parent."""
    return propagate.extract(carrier, context=context)
