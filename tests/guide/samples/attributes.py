"""The guide, Best Practices > Span Naming and Attributes: hierarchical span names and
typed attributes in one set_attributes call."""

from podcast_kg_otel import get_tracer, init_tracing

if __name__ == "__main__":
    init_tracing()
    tracer = get_tracer()
    with tracer.start_as_current_span("pipeline.segmentation.process_audio") as span:
        span.set_attributes(
            {
                # Resource identifiers
                "episode.id": "ep_123",
                "podcast.id": "pod_456",
                # Metrics
                "segments.count": 150,
                "processing.duration_ms": 3500,
                # Status
                "result.status": "success",
                "error.type": "ValidationError",
            }
        )
        with tracer.start_as_current_span("neo4j.query.create_node"):
            pass
