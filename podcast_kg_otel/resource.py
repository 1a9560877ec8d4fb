"""The resource every span carries: service identity, process, host and the distro itself."""

from __future__ import annotations

from opentelemetry.sdk.resources import (
    OsResourceDetector,
    ProcessResourceDetector,
    Resource,
    ServiceInstanceIdResourceDetector,
    _HostResourceDetector,
    get_aggregated_resources,
)
from opentelemetry.sdk.version import __version__ as sdk_version

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.version import __version__

DISTRO_NAME = "podcast-kg-otel"


def build_resource(config: TracingConfig) -> Resource:
    """Detected process/host/os attributes and a service.instance.id, overridden by
    ``OTEL_RESOURCE_ATTRIBUTES``, overridden by the resolved service settings.

    Command-line arguments are left out on purpose: they may hold credentials.
    """
    detected = get_aggregated_resources(
        [
            ProcessResourceDetector(),
            OsResourceDetector(),
            _HostResourceDetector(),
            ServiceInstanceIdResourceDetector(),
        ],
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
    return detected.merge(Resource(dict(config.resource_attributes))).merge(identity)
