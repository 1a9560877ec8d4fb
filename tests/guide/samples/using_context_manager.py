"""The guide, Usage > Basic Tracing > Using Context Manager."""

from podcast_kg_otel import create_span, init_tracing

if __name__ == "__main__":
    init_tracing()
    data = ["segment one", "segment two", "segment three"]
    with create_span("custom_operation") as span:
        span.set_attribute("data.size", len(data))
        span.set_attribute("operation.type", "processing")
