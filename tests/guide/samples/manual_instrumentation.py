"""The guide, Instrumentation > Manual Instrumentation: a tracer from get_tracer()."""

from podcast_kg_otel import get_tracer, init_tracing

if __name__ == "__main__":
    init_tracing()
    tracer = get_tracer()

    with tracer.start_as_current_span("custom_operation") as span:
        span.set_attribute("custom.attribute", "value")
