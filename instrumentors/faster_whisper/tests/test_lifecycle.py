"""The transcription span lives exactly as long as the lazy segment stream."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from faster_whisper import BatchedInferencePipeline
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

from stacktools.tiny_whisper import synth_audio

TRANSCRIBE = "speech_to_text tiny-scripted"
LONG = 65.0  # three 30 s windows: three segments with the scripted model


def test_transcribe_is_lazy_and_span_waits_for_the_stream(spans, model):
    segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")

    assert isinstance(segments, Iterator)
    first = next(segments)
    assert first.start == 0.0
    assert spans.all() == []  # still open after the first segment
    rest = list(segments)
    assert [s.start for s in rest] == [30.0, 60.0]
    span = spans.one(TRANSCRIBE)
    assert span.attributes["faster_whisper.segments.count"] == 3
    assert span.attributes["faster_whisper.segments.consumed"] is True


def test_partial_iteration_then_garbage_collected(spans, model):
    segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")
    next(segments)
    assert spans.all() == []

    del segments
    gc.collect()

    span = spans.one(TRANSCRIBE)
    assert span.status.status_code == StatusCode.UNSET
    assert span.attributes["faster_whisper.segments.end"] == "abandoned"
    assert span.attributes["faster_whisper.segments.consumed"] is False
    assert span.attributes["faster_whisper.segments.count"] == 1
    assert span.attributes["faster_whisper.windows.count"] == 1  # the rest was never decoded


def test_never_started_stream_is_ended_when_dropped(spans, model):
    model.transcribe(synth_audio(2.0), language="en")  # result discarded at once
    gc.collect()

    span = spans.one(TRANSCRIBE)
    assert span.attributes["faster_whisper.segments.end"] == "abandoned"
    assert span.attributes["faster_whisper.segments.count"] == 0
    assert "faster_whisper.time_to_first_segment" not in span.attributes


def test_break_out_of_loop(spans, model):
    segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")
    for segment in segments:
        assert segment.start == 0.0
        break
    assert spans.all() == []  # like a generator, a loop break does not close the stream
    del segments

    assert spans.one(TRANSCRIBE).attributes["faster_whisper.segments.end"] == "abandoned"


def test_early_close(spans, model):
    segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")
    next(segments)
    next(segments)
    segments.close()

    span = spans.one(TRANSCRIBE)
    assert span.status.status_code == StatusCode.UNSET
    assert span.attributes["faster_whisper.segments.end"] == "closed"
    assert span.attributes["faster_whisper.segments.consumed"] is False
    assert span.attributes["faster_whisper.segments.count"] == 2
    with pytest.raises(StopIteration):  # closed like a generator
        next(segments)
    assert len(spans.all()) == 1  # ended exactly once


def test_bad_audio_path_raises_the_same_error(spans, model, tmp_path):
    missing = str(tmp_path / "missing.wav")
    with pytest.raises(Exception) as uninstrumented, suppress_instrumentation():
        model.transcribe(missing)
    with pytest.raises(type(uninstrumented.value)) as caught:
        model.transcribe(missing)

    assert type(caught.value).__module__ == "av.error"
    expected_type = f"av.error.{type(caught.value).__qualname__}"
    root = spans.one(TRANSCRIBE)
    decode = spans.one("faster_whisper.decode_audio")
    for span in (root, decode):
        assert span.status.status_code == StatusCode.ERROR
        assert span.attributes["error.type"] == expected_type
        assert [e.name for e in span.events] == ["exception"]
    assert decode.parent.span_id == root.context.span_id
    assert root.attributes["faster_whisper.segments.end"] == "error"


def test_corrupt_wav_file(spans, model, tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 4)
    with pytest.raises(Exception) as caught:
        model.transcribe(str(bad))

    root = spans.one(TRANSCRIBE)
    assert root.status.status_code == StatusCode.ERROR
    assert root.attributes["error.type"] == (
        f"{type(caught.value).__module__}.{type(caught.value).__qualname__}"
    )


def test_error_during_iteration(spans, model):
    # max_new_tokens beyond the model's 448 raises ValueError inside the lazy decoding.
    segments, _ = model.transcribe(synth_audio(2.0), language="en", max_new_tokens=1000)
    assert spans.all() == []
    with pytest.raises(ValueError, match="max_new_tokens"):
        next(segments)

    span = spans.one(TRANSCRIBE)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "ValueError"
    assert span.attributes["faster_whisper.segments.end"] == "error"
    assert span.attributes["faster_whisper.segments.count"] == 0
    assert span.attributes["gen_ai.request.max_tokens"] == 1000


def test_eager_error_in_batched_pipeline(spans, model):
    with pytest.raises(RuntimeError, match="No clip timestamps"):
        BatchedInferencePipeline(model).transcribe(
            synth_audio(31.0, "noise"), language="en", vad_filter=False
        )
    span = spans.one(TRANSCRIBE)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "RuntimeError"


def test_context_inside_and_between_iterations(spans, model):
    tracer = spans.provider.get_tracer("test")
    inner_parents: list[int] = []
    original_encode = model.encode

    def encode(features):  # runs inside the lazy decoding, once per window
        with tracer.start_as_current_span("user.encode") as span:
            inner_parents.append(span.parent.span_id)
            return original_encode(features)

    model.encode = encode
    with tracer.start_as_current_span("caller") as caller:
        segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")
        for _ in segments:
            assert trace.get_current_span() is caller  # caller's context is not disturbed
            with tracer.start_as_current_span("consumer.work") as work:
                assert work.parent.span_id == caller.get_span_context().span_id

    root = spans.one(TRANSCRIBE)
    assert root.parent.span_id == caller.get_span_context().span_id
    assert inner_parents == [root.context.span_id] * 3
    assert len(spans.named("user.encode")) == 3
    assert len(spans.named("consumer.work")) == 3


def test_consumed_from_another_thread(spans, model):
    segments, _ = model.transcribe(synth_audio(LONG, "noise"), language="en")
    got: list[float] = []
    worker = threading.Thread(target=lambda: got.extend(s.start for s in segments))
    worker.start()
    worker.join(timeout=60)

    assert got == [0.0, 30.0, 60.0]
    span = spans.one(TRANSCRIBE)
    assert span.attributes["faster_whisper.segments.end"] == "exhausted"
    assert span.attributes["faster_whisper.segments.count"] == 3
