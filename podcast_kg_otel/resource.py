"""The resource every span carries: service identity, process, host and the distro itself."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk.resources import (
    OsResourceDetector,
    ProcessResourceDetector,
    Resource,
    ResourceDetector,
    ServiceInstanceIdResourceDetector,
    _HostResourceDetector,
    get_aggregated_resources,
)
from opentelemetry.sdk.version import __version__ as sdk_version
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import components
from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.version import __version__

DISTRO_NAME = "podcast-kg-otel"

#: The SDK's own detectors, built without scanning entry points (start-up time).
_SDK_DETECTORS: dict[str, type[ResourceDetector]] = {
    "process": ProcessResourceDetector,
    "os": OsResourceDetector,
    "host": _HostResourceDetector,
}

_logger = logging.getLogger("podcast_kg_otel.resource")


class HashOnceResource(Resource):
    """A ``Resource`` that computes its hash once.

    The OTLP encoders group every exported span (and metric point, log record) by its
    resource, hashing it each time: the SDK's hash is a sorted JSON dump of all the
    attributes, 25 µs for our ~20, in the export thread, per span. Resources are
    immutable, so the value never changes; ``merge`` keeps the class (the fork handler
    and the configuration file merge into ours), and a pickled copy hashes afresh (string
    hashes differ between processes).
    """

    def __init__(self, attributes: Any, schema_url: str | None = None) -> None:
        super().__init__(attributes, schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def merge(self, other: Resource) -> Resource:
        merged = super().merge(other)
        return HashOnceResource(merged.attributes, merged.schema_url)

    def __reduce__(self) -> tuple[Any, ...]:
        return (HashOnceResource, (dict(self.attributes), self.schema_url))


def _detectors(names: Iterable[str]) -> list[ResourceDetector]:
    """A service.instance.id, then the named detectors in order (a later one's value wins).
    One that cannot be loaded or built is left out with one warning naming it."""
    detectors: list[ResourceDetector] = [ServiceInstanceIdResourceDetector()]
    for name in names:
        with guard(_logger, f"resource detector {name!r}"):
            factory: Any = _SDK_DETECTORS.get(name) or components.load(
                components.RESOURCE_DETECTOR_GROUP, name
            )
            detectors.append(factory())
    return detectors


def build_resource(config: TracingConfig) -> Resource:
    """The detectors' attributes (``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS``; by default
    process, os and host) and a service.instance.id, overridden by
    ``OTEL_RESOURCE_ATTRIBUTES``, overridden by the resolved service settings.

    The SDK's process detector leaves command-line arguments out (they may hold
    credentials).
    """
    detected = get_aggregated_resources(
        _detectors(config.resource_detectors),
        # Not the default Resource.create(): it parses OTEL_RESOURCE_ATTRIBUTES again
        # (`config` already did, with one warning for a bad value) and warns again.
        initial_resource=Resource.get_empty(),
    )
    identity = Resource(
        {
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": sdk_version,
            "telemetry.distro.name": DISTRO_NAME,
            "telemetry.distro.version": __version__,
            "service.name": config.service_name,
            "service.version": config.service_version,
            "deployment.environment.name": config.environment,
        }
    )
    merged = detected.merge(Resource(dict(config.resource_attributes))).merge(identity)
    return HashOnceResource(merged.attributes, merged.schema_url)
