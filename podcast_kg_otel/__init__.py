"""podcast-kg-otel: an OpenTelemetry distribution for Python pipelines, and the tracing
guide's Python API.

Zero-code: ``opentelemetry-instrument python -m app``. In code::

    from podcast_kg_otel import init_tracing, trace_method, create_span

    init_tracing(service_name="podcast-kg-pipeline")

    @trace_method()
    def process(episode): ...

Names are imported lazily and this module imports nothing heavy (not even ``typing``): the
package's ``.pth`` start-up hook imports it in every interpreter of the environment.
"""

from podcast_kg_otel.version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from podcast_kg_otel.accounting import ExportStats, export_stats
    from podcast_kg_otel.config import TracingConfig
    from podcast_kg_otel.decorators import (
        trace_async,
        trace_database,
        trace_method,
        trace_provider_call,
    )
    from podcast_kg_otel.initialization import init_tracing
    from podcast_kg_otel.instrumentation import instrument_all
    from podcast_kg_otel.propagation import extract_context, inject_context
    from podcast_kg_otel.spans import (
        add_span_attributes,
        create_span,
        get_tracer,
        trace_business_operation,
    )

_EXPORTS = {
    "ExportStats": "podcast_kg_otel.accounting",
    "export_stats": "podcast_kg_otel.accounting",
    "TracingConfig": "podcast_kg_otel.config",
    "init_tracing": "podcast_kg_otel.initialization",
    "get_tracer": "podcast_kg_otel.spans",
    "create_span": "podcast_kg_otel.spans",
    "add_span_attributes": "podcast_kg_otel.spans",
    "trace_business_operation": "podcast_kg_otel.spans",
    "trace_method": "podcast_kg_otel.decorators",
    "trace_async": "podcast_kg_otel.decorators",
    "trace_database": "podcast_kg_otel.decorators",
    "trace_provider_call": "podcast_kg_otel.decorators",
    "inject_context": "podcast_kg_otel.propagation",
    "extract_context": "podcast_kg_otel.propagation",
    "instrument_all": "podcast_kg_otel.instrumentation",
}

__all__ = [
    "ExportStats",
    "TracingConfig",
    "__version__",
    "add_span_attributes",
    "create_span",
    "export_stats",
    "extract_context",
    "get_tracer",
    "init_tracing",
    "inject_context",
    "instrument_all",
    "trace_async",
    "trace_business_operation",
    "trace_database",
    "trace_method",
    "trace_provider_call",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
