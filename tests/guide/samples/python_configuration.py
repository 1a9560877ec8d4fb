"""The guide, Configuration > Python Configuration: a TracingConfig with the guide's values,
then init_tracing from its fields.

The guide's agent port 6831 no longer exists on Jaeger v2: it is translated to OTLP/HTTP
on 4318 of the same host, with one warning.
"""

import os

from podcast_kg_otel import TracingConfig, get_tracer, init_tracing

config = TracingConfig(
    service_name=os.environ.get("TRACING_SERVICE_NAME", "podcast-kg-pipeline"),
    jaeger_host="localhost",
    jaeger_port=6831,
    sampling_rate=1.0,
)

init_tracing(
    service_name=config.service_name,
    jaeger_host=config.jaeger_host,
    jaeger_port=config.jaeger_port,
)

with get_tracer().start_as_current_span("configured"):
    pass
