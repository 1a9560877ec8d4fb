"""The guide, Deployment > Production Considerations: TRACING_SAMPLING_RATE and the batch
processor settings come from the environment. Starts 200 traces and prints, for each, its
trace id and whether it was sampled."""

from opentelemetry.trace import format_trace_id

from podcast_kg_otel import create_span, init_tracing

if __name__ == "__main__":
    init_tracing()
    for index in range(200):
        with create_span("episode", {"episode.index": index}) as span:
            context = span.get_span_context()
        print(format_trace_id(context.trace_id), context.trace_flags.sampled)
