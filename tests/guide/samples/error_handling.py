"""The guide, Best Practices > Error Handling: record the exception and set ERROR, then
re-raise.

Recording by hand is for spans you start and end yourself, as here. An exception escaping
create_span, the decorators or start_as_current_span is already recorded by them (once):
recording it by hand inside them too gives the span two exception events.
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
