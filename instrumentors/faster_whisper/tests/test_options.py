"""Opt-in transcript capture, configuration, suppression, uninstrument and fail-open."""

from __future__ import annotations

import json
import logging
import types

import pytest
import wrapt
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper import transcribe as fw_transcribe
from opentelemetry.instrumentation.utils import suppress_instrumentation
from podcast_kg_otel_faster_whisper import FasterWhisperInstrumentor, models, stats
from podcast_kg_otel_faster_whisper.package import _instruments

from stacktools.tiny_whisper import SCRIPTED_SEGMENT, synth_audio

TRANSCRIBE = "speech_to_text tiny-scripted"
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_ENV = "PODCAST_KG_OTEL_WHISPER_TRANSCRIPT_MAX_CHARS"
PATCHED = (
    (WhisperModel, "__init__"),
    (WhisperModel, "transcribe"),
    (WhisperModel, "generate_with_fallback"),
    (WhisperModel, "detect_language"),
    (BatchedInferencePipeline, "transcribe"),
    (fw_transcribe, "decode_audio"),
    (fw_transcribe, "get_speech_timestamps"),
)


def load(scripted_dir) -> WhisperModel:
    return WhisperModel(str(scripted_dir), device="cpu", compute_type="float32", cpu_threads=1)


def wrapped(owner: object, name: str) -> bool:
    return isinstance(vars(owner)[name], wrapt.FunctionWrapper)


def transcript(span) -> str:
    messages = json.loads(span.attributes["gen_ai.output.messages"])
    assert messages[0]["role"] == "assistant"
    return messages[0]["parts"][0]["content"]


def test_transcript_opt_in_argument(instrumented, scripted_dir):
    spans = instrumented(capture_transcript=True)
    segments, _ = load(scripted_dir).transcribe(synth_audio(65.0, "noise"), language="en")
    list(segments)

    span = spans.one(TRANSCRIBE)
    assert transcript(span) == "hello world hello world hello world"
    assert span.attributes["faster_whisper.transcript.truncated"] is False


def test_transcript_argument_as_text_is_parsed_not_truthy(instrumented, scripted_dir, caplog):
    spans = instrumented(capture_transcript="false")
    segments, _ = load(scripted_dir).transcribe(synth_audio(5.0, "noise"), language="en")
    list(segments)
    assert "gen_ai.output.messages" not in spans.one(TRANSCRIBE).attributes


def test_transcript_opt_in_env_with_size_cap(instrumented, scripted_dir, monkeypatch):
    monkeypatch.setenv(CAPTURE_ENV, "true")
    monkeypatch.setenv(MAX_ENV, "20")
    spans = instrumented()
    segments, _ = load(scripted_dir).transcribe(synth_audio(65.0, "noise"), language="en")
    list(segments)

    span = spans.one(TRANSCRIBE)
    assert transcript(span) == "hello wo…[truncated]"  # 20 characters
    assert span.attributes["faster_whisper.transcript.truncated"] is True


def test_genai_enum_values(instrumented, scripted_dir, monkeypatch):
    monkeypatch.setenv(CAPTURE_ENV, "NO_CONTENT")
    spans = instrumented()
    list(load(scripted_dir).transcribe(synth_audio(2.0), language="en")[0])
    assert "gen_ai.output.messages" not in spans.one(TRANSCRIBE).attributes


def test_bad_env_value_warns_once_and_keeps_telemetry(
    instrumented, scripted_dir, monkeypatch, caplog
):
    monkeypatch.setenv(CAPTURE_ENV, "maybe")
    monkeypatch.setenv(MAX_ENV, "-3")
    with caplog.at_level(logging.WARNING):
        spans = instrumented()
    list(load(scripted_dir).transcribe(synth_audio(2.0), language="en")[0])

    messages = [r.getMessage() for r in caplog.records]
    assert any(CAPTURE_ENV in m and "maybe" in m and "'false'" in m for m in messages)
    assert any(MAX_ENV in m and "-3" in m and "4096" in m for m in messages)
    span = spans.one(TRANSCRIBE)  # telemetry still on, transcript still private
    assert "gen_ai.output.messages" not in span.attributes


def test_bad_argument_warns_once_and_keeps_the_environment_value(
    instrumented, scripted_dir, monkeypatch, caplog
):
    monkeypatch.setenv(CAPTURE_ENV, "true")
    monkeypatch.setenv(MAX_ENV, "20")
    with caplog.at_level(logging.WARNING):
        spans = instrumented(transcript_max_chars=0)
    list(load(scripted_dir).transcribe(synth_audio(65.0, "noise"), language="en")[0])

    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "transcript_max_chars='0'" in m and "20" in m]
    assert transcript(spans.one(TRANSCRIBE)) == "hello wo…[truncated]"  # the variable's 20


def test_suppressed_calls_are_untouched(spans, model):
    with suppress_instrumentation():
        segments, _ = model.transcribe(synth_audio(2.0), language="en")
        assert isinstance(segments, types.GeneratorType)  # the library's own generator
        assert [(s.start, s.end, s.text) for s in segments] == [SCRIPTED_SEGMENT]
    assert spans.all() == []


def test_uninstrument_removes_every_wrapper(instrumented, scripted_dir):
    spans = instrumented()
    assert all(wrapped(owner, name) for owner, name in PATCHED)
    FasterWhisperInstrumentor().uninstrument()

    assert not any(wrapped(owner, name) for owner, name in PATCHED)
    segments, _ = load(scripted_dir).transcribe(synth_audio(2.0), language="en")
    assert isinstance(segments, types.GeneratorType)
    list(segments)
    assert spans.all() == []

    again = instrumented()  # and it can be instrumented again
    list(load(scripted_dir).transcribe(synth_audio(2.0), language="en")[0])
    assert again.one(TRANSCRIBE).attributes["faster_whisper.segments.count"] == 1


def test_model_loaded_before_instrumentation(instrumented, scripted_dir):
    model = load(scripted_dir)  # not instrumented yet: no stashed load arguments
    spans = instrumented()
    list(model.transcribe(synth_audio(2.0), language="en")[0])

    span = spans.one("speech_to_text")  # no model name known
    assert span.attributes["faster_whisper.device"] == "cpu"
    assert span.attributes["faster_whisper.compute_type.resolved"] == "float32"
    assert span.attributes["faster_whisper.segments.count"] == 1


def test_our_failures_never_reach_the_caller(spans, model, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(stats.SegmentStats, "observe", broken)
    with caplog.at_level(logging.WARNING):
        segments, info = model.transcribe(synth_audio(65.0, "noise"), language="en")
        assert [s.start for s in segments] == [0.0, 30.0, 60.0]
    assert info.language == "en"
    span = spans.one(TRANSCRIBE)
    assert span.attributes["faster_whisper.segments.end"] == "exhausted"
    logged = [r for r in caplog.records if "segment statistics" in r.getMessage()]
    assert len(logged) == 1  # logged once, not per segment


def test_load_fails_open(spans, scripted_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(models, "load_attributes", broken)
    model = load(scripted_dir)
    assert [(s.start, s.end, s.text) for s in model.transcribe(synth_audio(2.0))[0]] == [
        SCRIPTED_SEGMENT
    ]
    assert spans.named("faster_whisper.load_model") == []


def test_load_error_is_recorded(spans, tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(RuntimeError) as caught:
        WhisperModel(str(empty), device="cpu")
    span = spans.one("faster_whisper.load_model")
    assert span.attributes["error.type"] == "RuntimeError"
    assert str(caught.value) in span.status.description


def test_declared_dependency():
    assert FasterWhisperInstrumentor().instrumentation_dependencies() == _instruments
    assert _instruments == ("faster-whisper >= 1.0.0, < 2",)
