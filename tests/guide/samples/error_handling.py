"""The guide, Best Practices > Error Handling: record the exception and set ERROR, then
re-raise.

Here on a span started and ended by hand. Inside create_span or the decorators the same
pattern leaves one exception event too (they recognise an exception already recorded); the
SDK's start_as_current_span records it again unless given record_exception=False.
"""

from opentelemetry.trace import StatusCode

from podcast_kg_otel import get_tracer, init_tracing


class ValidationError(Exception):
    pass


def process_data():
    raise ValidationError("segment 3 has no speech")


if __name__ == "__main__":
    init_tracing()
    span = get_tracer().start_span("process_episode")
    try:
        try:
            process_data()
        except Exception as e:
            span.record_exception(e)
            span.set_status(StatusCode.ERROR, str(e))
            raise
        finally:
            span.end()
    except ValidationError as error:
        print("failed as expected:", error)
