from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from podcast_kg_otel_util.content import truncate
from podcast_kg_otel_util.errors import error_type, record_error


class CustomError(Exception):
    pass


def test_error_type_names() -> None:
    assert error_type(ValueError("x")) == "ValueError"
    assert error_type(CustomError()) == f"{__name__}.CustomError"


def test_record_error_records_once_with_status_and_type() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span(
        "op", record_exception=False, set_status_on_exception=False
    ) as span:
        record_error(span, ValueError("bad"), "Neo.ClientError.Statement.SyntaxError")
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == "ValueError: bad"
    assert finished.attributes["error.type"] == "Neo.ClientError.Statement.SyntaxError"
    assert [e.name for e in finished.events] == ["exception"]


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("x" * 100, 20)
    assert len(cut) == 20 and cut.endswith("…[truncated]")
    assert truncate("abc", 0) == ""
    assert truncate("abcdef", 3) == "abc"


def test_capture_enabled_reads_booleans_and_genai_modes(caplog) -> None:
    from podcast_kg_otel_util.content import capture_enabled

    assert capture_enabled(True) is True and capture_enabled(False) is False
    assert [capture_enabled(v) for v in ("SPAN_ONLY", "span_and_event", "true", "on")] == [True] * 4
    assert [capture_enabled(v) for v in ("", "false", "no_content", "event_only")] == [False] * 4
    assert capture_enabled("maybe", "capture_content") is False
    assert any("capture_content='maybe' is invalid" in r.getMessage() for r in caplog.records)


def test_an_exception_the_app_recorded_itself_is_not_recorded_again():
    """The tracing guide's error pattern (record_exception, set_status, raise) inside a
    traced block leaves one exception event, not two."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from podcast_kg_otel_util.errors import record_error

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    error = KeyError("episode-7")
    other = KeyError("episode-8")
    with tracer.start_as_current_span("guide-pattern", record_exception=False) as span:
        span.record_exception(error)
        record_error(span, error)
        record_error(span, other)
    (finished,) = exporter.get_finished_spans()
    messages = [e.attributes["exception.message"] for e in finished.events]
    assert messages == ["'episode-7'", "'episode-8'"]
    assert finished.attributes["error.type"] == "KeyError"
    assert finished.status.description == "KeyError: 'episode-8'"
