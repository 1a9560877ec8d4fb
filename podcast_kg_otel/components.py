"""Names of the pluggable SDK components (exporters, samplers, propagators, resource
detectors) that are installed, so a misspelled name can be reported instead of failing the
whole set-up."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from opentelemetry.util._importlib_metadata import entry_points

TRACES_EXPORTER_GROUP = "opentelemetry_traces_exporter"
METRICS_EXPORTER_GROUP = "opentelemetry_metrics_exporter"
LOGS_EXPORTER_GROUP = "opentelemetry_logs_exporter"
SAMPLER_GROUP = "opentelemetry_traces_sampler"
PROPAGATOR_GROUP = "opentelemetry_propagator"
RESOURCE_DETECTOR_GROUP = "opentelemetry_resource_detector"


@cache
def installed(group: str) -> frozenset[str]:
    """Entry-point names registered in `group` (scanned once per process)."""
    return frozenset(entry_point.name for entry_point in entry_points(group=group))


def load(group: str, name: str) -> object:
    """The object behind entry point `name` of `group`."""
    (entry_point,) = entry_points(group=group, name=name)
    return entry_point.load()


def split_known(
    group: str, names: Iterable[str], always: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """``names`` in order, split into the known ones (in ``always``, or installed in
    ``group``) and the others; ``group`` is only scanned when a name is not in ``always``."""
    names, known = list(names), set(always)
    if not known.issuperset(names):
        known |= installed(group)
    return [name for name in names if name in known], [n for n in names if n not in known]
