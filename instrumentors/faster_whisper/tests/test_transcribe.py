"""Spans and attributes of real transcriptions with the tiny offline model."""

from __future__ import annotations

import pytest
from faster_whisper import BatchedInferencePipeline, WhisperModel
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from stacktools.tiny_whisper import SCRIPTED_SEGMENT, synth_audio, write_wav

TRANSCRIBE = "speech_to_text tiny-scripted"


def plain(segments) -> list[tuple[float, float, str]]:
    return [(s.start, s.end, s.text) for s in segments]


def test_model_load_span(spans, scripted_dir):
    WhisperModel(str(scripted_dir), device="cpu", compute_type="int8", cpu_threads=1)

    span = spans.one("faster_whisper.load_model")
    assert span.kind == SpanKind.INTERNAL
    assert span.status.status_code == StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.provider.name": "faster_whisper",
        "gen_ai.request.model": "tiny-scripted",  # the directory's basename, not its path
        "faster_whisper.model.source": "directory",
        "faster_whisper.device": "cpu",
        "faster_whisper.device_index": (0,),
        "faster_whisper.compute_type": "int8",
        "faster_whisper.compute_type.resolved": "int8_float32",
        "faster_whisper.cpu_threads": 1,
        "faster_whisper.num_workers": 1,
        "faster_whisper.model.multilingual": False,
    }


def test_numpy_transcription_span(spans, model):
    segments, info = model.transcribe(synth_audio(2.0, "noise"), language="en")
    assert spans.all() == []  # the span is open while segments are pending

    assert plain(segments) == [SCRIPTED_SEGMENT]
    span = spans.one(TRANSCRIBE)
    assert span.kind == SpanKind.INTERNAL
    assert span.parent is None
    assert span.status.status_code == StatusCode.UNSET
    a = span.attributes
    expected = {
        "gen_ai.operation.name": "speech_to_text",
        "gen_ai.provider.name": "faster_whisper",
        "gen_ai.request.model": "tiny-scripted",
        "gen_ai.output.type": "text",
        "gen_ai.speech.input.language": "en",
        "gen_ai.usage.output_tokens": 4,
        "faster_whisper.pipeline": "whisper_model",
        "faster_whisper.device": "cpu",
        "faster_whisper.compute_type": "float32",
        "faster_whisper.cpu_threads": 1,
        "faster_whisper.audio.source": "array",
        "faster_whisper.task": "transcribe",
        "faster_whisper.beam_size": 5,
        "faster_whisper.best_of": 5,
        "faster_whisper.temperatures": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        "faster_whisper.vad_filter": False,
        "faster_whisper.word_timestamps": False,
        "faster_whisper.condition_on_previous_text": True,
        "faster_whisper.language.requested": "en",
        "faster_whisper.language.detected": False,
        "faster_whisper.language.probability": 1.0,
        "faster_whisper.audio.duration": 2.0,
        "faster_whisper.audio.duration_after_vad": 2.0,
        "faster_whisper.segments.count": 1,
        "faster_whisper.segments.consumed": True,
        "faster_whisper.segments.end": "exhausted",
        "faster_whisper.segments.last_end": 1.0,
        "faster_whisper.windows.count": 1,
        "faster_whisper.temperature_fallback.count": 0,
        "faster_whisper.temperature.max": 0.0,
        "faster_whisper.suspected_hallucination.count": 0,
    }
    assert {key: a[key] for key in expected} == expected
    assert -0.01 < a["faster_whisper.avg_logprob.min"] <= a["faster_whisper.avg_logprob.mean"] <= 0
    assert 0 <= a["faster_whisper.no_speech_prob.max"] < 0.01
    assert a["faster_whisper.compression_ratio.max"] == pytest.approx(11 / 19)  # "hello world"
    compute = a["faster_whisper.compute.duration"]
    assert 0 < compute <= (span.end_time - span.start_time) / 1e9
    assert a["faster_whisper.realtime_factor"] == pytest.approx(compute / 2.0)
    assert 0 < a["faster_whisper.time_to_first_segment"] <= (span.end_time - span.start_time) / 1e9
    assert "gen_ai.output.messages" not in a  # transcripts are private by default
    assert "faster_whisper.words.count" not in a
    assert "gen_ai.request.max_tokens" not in a
    assert info.language == "en"


def test_result_identical_to_uninstrumented(spans, model):
    audio = synth_audio(65.0, "noise")
    with suppress_instrumentation():
        raw_segments, raw_info = model.transcribe(audio, language="en", word_timestamps=True)
        expected = list(raw_segments)
    segments, info = model.transcribe(audio, language="en", word_timestamps=True)

    assert spans.all() == []
    assert list(segments) == expected
    assert len(expected) == 3
    assert info == raw_info
    span = spans.one(TRANSCRIBE)
    assert span.attributes["faster_whisper.segments.count"] == 3
    assert span.attributes["faster_whisper.windows.count"] == 3
    assert span.attributes["faster_whisper.words.count"] == 6
    assert span.attributes["faster_whisper.segments.last_end"] == 61.0


def test_wav_file_gets_decode_child_span(spans, model, tmp_path):
    wav = write_wav(tmp_path / "clip.wav", synth_audio(3.0, "noise"))

    segments, _ = model.transcribe(str(wav), language="en", beam_size=1)
    assert plain(segments) == [SCRIPTED_SEGMENT]

    root = spans.one(TRANSCRIBE)
    decode = spans.one("faster_whisper.decode_audio")
    assert decode.parent.span_id == root.context.span_id
    assert dict(decode.attributes) == {
        "faster_whisper.audio.source": "path",
        "faster_whisper.audio.duration": 3.0,
    }
    assert root.attributes["faster_whisper.audio.source"] == "path"
    assert root.attributes["faster_whisper.audio.duration"] == 3.0
    assert root.attributes["faster_whisper.beam_size"] == 1


def test_vad_child_span_and_duration_after_vad(spans, model):
    segments, info = model.transcribe(synth_audio(4.0, "speech"), language="en", vad_filter=True)
    result = plain(segments)

    # VAD kept only the voiced middle; timestamps are restored to the original clip.
    assert len(result) == 1 and result[0][2] == " hello world" and result[0][0] > 0.3
    root = spans.one(TRANSCRIBE)
    vad = spans.one("faster_whisper.vad")
    assert vad.parent.span_id == root.context.span_id
    assert vad.attributes["faster_whisper.audio.duration"] == 4.0
    assert vad.attributes["faster_whisper.vad.speech_chunks"] == 1
    kept = vad.attributes["faster_whisper.audio.duration_after_vad"]
    assert 0.5 < kept < 4.0
    assert root.attributes["faster_whisper.vad_filter"] is True
    assert (
        root.attributes["faster_whisper.audio.duration_after_vad"]
        == kept
        == info.duration_after_vad
    )


def test_vad_without_speech_yields_no_segments(spans, model):
    segments, _ = model.transcribe(synth_audio(2.0, "tone"), language="en", vad_filter=True)
    assert list(segments) == []

    root = spans.one(TRANSCRIBE)
    assert spans.one("faster_whisper.vad").attributes["faster_whisper.vad.speech_chunks"] == 0
    assert root.attributes["faster_whisper.audio.duration_after_vad"] == 0.0
    assert root.attributes["faster_whisper.segments.count"] == 0
    assert root.attributes["faster_whisper.segments.end"] == "exhausted"
    assert "faster_whisper.avg_logprob.min" not in root.attributes


def test_word_timestamps(spans, model):
    segments, _ = model.transcribe(synth_audio(2.0), language="en", word_timestamps=True)
    words = [w.word for s in segments for w in s.words]

    assert words == [" hello", " world"]
    root = spans.one(TRANSCRIBE)
    assert root.attributes["faster_whisper.word_timestamps"] is True
    assert root.attributes["faster_whisper.words.count"] == 2


def test_batched_pipeline(spans, model):
    pipeline = BatchedInferencePipeline(model)
    segments, info = pipeline.transcribe(synth_audio(4.0, "speech"), language="en", batch_size=4)
    result = plain(segments)

    assert len(result) == 1 and result[0][2] == " hello world"
    root = spans.one(TRANSCRIBE)
    a = root.attributes
    assert a["faster_whisper.pipeline"] == "batched"
    assert a["faster_whisper.batch_size"] == 4
    assert a["faster_whisper.vad_filter"] is True  # the batched pipeline's default
    assert a["faster_whisper.temperatures"] == (0.0,)  # it keeps only the first temperature
    assert a["faster_whisper.condition_on_previous_text"] is False
    assert a["faster_whisper.segments.count"] == 1
    assert a["faster_whisper.audio.duration_after_vad"] == info.duration_after_vad
    assert "faster_whisper.temperature_fallback.count" not in a  # not observable here
    assert spans.one("faster_whisper.vad").parent.span_id == root.context.span_id
    assert spans.named("speech_to_text tiny-scripted") == [root]  # no double span


def test_batched_pipeline_with_clip_timestamps(spans, model):
    clips = [{"start": 0, "end": 10}, {"start": 10, "end": 20}, {"start": 20, "end": 30}]
    segments, _ = BatchedInferencePipeline(model).transcribe(
        synth_audio(30.0, "noise"), language="en", clip_timestamps=clips, batch_size=2
    )

    assert [s.start for s in segments] == [0.0, 10.0, 20.0]
    root = spans.one(TRANSCRIBE)
    assert root.attributes["faster_whisper.segments.count"] == 3
    assert spans.named("faster_whisper.vad") == []  # clip timestamps skip the VAD


def test_language_detection_child_span(spans, multilingual_dir):
    model = WhisperModel(str(multilingual_dir), device="cpu", compute_type="float32")
    spans.clear()
    segments, info = model.transcribe(synth_audio(2.0, "noise"))
    assert "".join(s.text for s in segments) == " hello world"

    root = spans.one("speech_to_text tiny-multi")
    detect = spans.one("faster_whisper.detect_language")
    assert detect.parent.span_id == root.context.span_id
    assert detect.attributes["gen_ai.speech.input.language"] == info.language
    assert detect.attributes["faster_whisper.language.probability"] == pytest.approx(
        info.language_probability
    )
    a = root.attributes
    assert "faster_whisper.language.requested" not in a
    assert a["faster_whisper.language.detected"] is True
    assert info.language in ("en", "de", "fr")
    assert a["gen_ai.speech.input.language"] == info.language
    assert a["faster_whisper.language.probability"] == pytest.approx(info.language_probability)
    assert a["faster_whisper.model.multilingual"] is True


def test_temperature_fallback_and_suspected_hallucination(spans, model):
    # log_prob_threshold 0.0 fails every attempt, so each window falls back once (0.0 -> 0.5)
    # and the kept segment is below the threshold.
    segments, _ = model.transcribe(
        synth_audio(2.0), language="en", temperature=(0.0, 0.5), log_prob_threshold=0.0
    )
    assert [s.temperature for s in segments] == [0.5]

    a = spans.one(TRANSCRIBE).attributes
    assert a["faster_whisper.temperatures"] == (0.0, 0.5)
    assert a["faster_whisper.temperature_fallback.count"] == 1
    assert a["faster_whisper.temperature.max"] == 0.5
    assert a["faster_whisper.suspected_hallucination.count"] == 1


def test_random_model_robustness(spans, random_dir):
    model = WhisperModel(str(random_dir), device="cpu", compute_type="float32", cpu_threads=1)
    spans.clear()
    audio = synth_audio(2.0, "noise")
    with suppress_instrumentation():
        raw, _ = model.transcribe(audio, language="en", beam_size=1, temperature=0.0)
        expected = list(raw)
    segments, _ = model.transcribe(audio, language="en", beam_size=1, temperature=0.0)
    got = list(segments)

    assert got == expected
    a = spans.one("speech_to_text tiny-random").attributes
    assert a["faster_whisper.segments.count"] == len(expected)
    assert a["gen_ai.usage.output_tokens"] == sum(len(s.tokens) for s in expected)
    assert a["faster_whisper.temperatures"] == (0.0,)
    assert expected  # gibberish, but at least one segment
    assert a["faster_whisper.avg_logprob.min"] == min(s.avg_logprob for s in expected)
    assert a["faster_whisper.compression_ratio.max"] == max(s.compression_ratio for s in expected)


def test_random_model_falls_back_through_the_temperatures(spans, random_dir):
    # Gibberish has an average log-prob far below -1, so every window is retried at each
    # temperature and ends at the last one: two fallbacks per window.
    model = WhisperModel(str(random_dir), device="cpu", compute_type="float32", cpu_threads=1)
    spans.clear()
    segments, _ = model.transcribe(
        synth_audio(2.0, "noise"),
        language="en",
        beam_size=1,
        best_of=2,
        max_new_tokens=20,
        temperature=(0.0, 0.5, 1.0),
    )
    got = list(segments)

    assert got and {s.temperature for s in got} == {1.0}
    a = spans.one("speech_to_text tiny-random").attributes
    windows = a["faster_whisper.windows.count"]
    assert windows >= 1
    assert a["faster_whisper.temperature_fallback.count"] == 2 * windows
    assert a["faster_whisper.temperature.max"] == 1.0
    assert a["faster_whisper.suspected_hallucination.count"] == sum(
        s.avg_logprob < -1.0 or s.compression_ratio > 2.4 for s in got
    )
    assert a["faster_whisper.segments.count"] == len(got)
