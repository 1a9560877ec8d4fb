"""End to end: spans read back from the real Jaeger, in-process and under the stock
distro's `opentelemetry-instrument`."""

from __future__ import annotations

import textwrap

from faster_whisper import WhisperModel
from podcast_kg_otel_faster_whisper import FasterWhisperInstrumentor

from stacktools.stack import REPO_ROOT
from stacktools.tiny_whisper import synth_audio, write_wav

STOCK_DISTRO = {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator"}


def test_trace_in_jaeger(otlp_provider, jaeger, service_name, scripted_dir, tmp_path):
    wav = write_wav(tmp_path / "episode.wav", synth_audio(4.0, "speech"))
    tracer = otlp_provider.get_tracer("test")
    FasterWhisperInstrumentor().instrument(tracer_provider=otlp_provider)
    try:
        with tracer.start_as_current_span("episode"):
            model = WhisperModel(str(scripted_dir), device="cpu", compute_type="int8")
            segments, _ = model.transcribe(
                str(wav), language="en", vad_filter=True, word_timestamps=True
            )
            for segment in segments:
                with tracer.start_as_current_span("store.segment") as span:
                    span.set_attribute("segment.start", segment.start)
    finally:
        FasterWhisperInstrumentor().uninstrument()
    otlp_provider.force_flush()

    trace = jaeger.wait_for_trace(service_name, min_spans=6)
    print(trace.render())
    root = trace.root
    assert root.name == "episode"
    load = trace.one("faster_whisper.load_model")
    transcribe = trace.one("speech_to_text tiny-scripted")
    store = trace.one("store.segment")
    assert load.parent is root and transcribe.parent is root
    assert store.parent is root  # the consumer's work is not nested in the transcription
    assert {child.name for child in transcribe.children} == {
        "faster_whisper.decode_audio",
        "faster_whisper.vad",
    }
    assert transcribe.kind == "internal"
    assert transcribe.status_code == "UNSET"
    a = transcribe.attributes
    assert a["gen_ai.operation.name"] == "speech_to_text"
    assert a["gen_ai.request.model"] == "tiny-scripted"
    assert a["faster_whisper.compute_type"] == "int8"
    assert a["faster_whisper.vad_filter"] is True
    assert a["faster_whisper.word_timestamps"] is True
    assert a["faster_whisper.audio.duration"] == 4.0
    assert 0.5 < a["faster_whisper.audio.duration_after_vad"] < 4.0
    assert a["faster_whisper.segments.count"] == 1
    assert a["faster_whisper.words.count"] == 2
    assert a["faster_whisper.segments.consumed"] is True
    assert a["faster_whisper.realtime_factor"] > 0
    assert "gen_ai.output.messages" not in a
    vad = trace.one("faster_whisper.vad")
    assert vad.attributes["faster_whisper.vad.speech_chunks"] == 1


SCRIPT = textwrap.dedent(
    """
    import sys

    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from opentelemetry import trace

    from stacktools.tiny_whisper import synth_audio

    tracer = trace.get_tracer("episode-script")
    with tracer.start_as_current_span("episode"):
        model = WhisperModel(sys.argv[1], device="cpu", compute_type="float32", cpu_threads=1)
        segments, _ = model.transcribe(synth_audio(2.0), language="en")
        print([s.text for s in segments])
        segments, _ = BatchedInferencePipeline(model).transcribe(
            synth_audio(4.0, "speech"), language="en"
        )
        print([s.text for s in segments])
    """
)


def test_under_stock_distro(stack, jaeger, service_name, run_instrumented, scripted_dir):
    env = {**stack.otel_env(service_name), **STOCK_DISTRO, "PYTHONPATH": str(REPO_ROOT)}
    result = run_instrumented(SCRIPT, env=env, args=[str(scripted_dir)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[' hello world']", "[' hello world']"]

    trace = jaeger.wait_for_trace(service_name, min_spans=5)
    print(trace.render())
    root = trace.root
    assert root.name == "episode"
    assert [s.name for s in root.children] == [
        "faster_whisper.load_model",
        "speech_to_text tiny-scripted",
        "speech_to_text tiny-scripted",
    ]
    plain, batched = root.children[1:]
    assert plain.attributes["faster_whisper.pipeline"] == "whisper_model"
    assert batched.attributes["faster_whisper.pipeline"] == "batched"
    assert [c.name for c in batched.children] == ["faster_whisper.vad"]
    assert plain.attributes["faster_whisper.segments.count"] == 1
    assert batched.attributes["faster_whisper.segments.count"] == 1
    assert plain.scope == "podcast_kg_otel_faster_whisper"


def test_disabled_by_entry_point_name(stack, jaeger, service_name, run_instrumented, scripted_dir):
    env = {
        **stack.otel_env(service_name),
        **STOCK_DISTRO,
        "PYTHONPATH": str(REPO_ROOT),
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "podcast_kg_faster_whisper",
    }
    result = run_instrumented(SCRIPT, env=env, args=[str(scripted_dir)])
    assert result.returncode == 0, result.stderr

    trace = jaeger.wait_for_trace(service_name)
    assert [s.name for s in trace.spans] == ["episode"]


def test_under_our_distro(stack, jaeger, service_name, run_instrumented, scripted_dir):
    env = {**stack.otel_env(service_name), "PYTHONPATH": str(REPO_ROOT)}
    result = run_instrumented(SCRIPT, env=env, args=[str(scripted_dir)])
    assert result.returncode == 0, result.stderr

    trace = jaeger.wait_for_trace(service_name, min_spans=5)
    root = trace.root
    assert root.resource["telemetry.distro.name"] == "podcast-kg-otel"
    assert [s.name for s in root.children] == [
        "faster_whisper.load_model",
        "speech_to_text tiny-scripted",
        "speech_to_text tiny-scripted",
    ]
    assert trace.one("faster_whisper.vad").parent is root.children[2]


def test_legacy_flag_disables_it_under_our_distro(
    stack, jaeger, service_name, run_instrumented, scripted_dir
):
    env = {**stack.otel_env(service_name), "PYTHONPATH": str(REPO_ROOT)}
    env["INSTRUMENT_WHISPER"] = "false"
    result = run_instrumented(SCRIPT, env=env, args=[str(scripted_dir)])
    assert result.returncode == 0, result.stderr

    trace = jaeger.wait_for_trace(service_name)
    assert [s.name for s in trace.spans] == ["episode"]


UNFINISHED_AT_EXIT = textwrap.dedent(
    """
    import sys

    from faster_whisper import WhisperModel

    from stacktools.tiny_whisper import synth_audio

    model = WhisperModel(sys.argv[1], device="cpu", compute_type="float32", cpu_threads=1)
    segments, _ = model.transcribe(synth_audio(65.0, "noise"), language="en")
    print(next(segments).text)  # `segments` stays referenced until the interpreter exits
    """
)


def test_stream_unfinished_at_exit_is_still_exported(
    stack, jaeger, service_name, run_instrumented, scripted_dir
):
    env = {**stack.otel_env(service_name), **STOCK_DISTRO, "PYTHONPATH": str(REPO_ROOT)}
    result = run_instrumented(UNFINISHED_AT_EXIT, env=env, args=[str(scripted_dir)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == " hello world\n"

    traces = jaeger.wait_for_traces(service_name, count=2)
    (span,) = [s for t in traces for s in t.spans if s.name == "speech_to_text tiny-scripted"]
    assert span.attributes["faster_whisper.segments.end"] == "abandoned"
    assert span.attributes["faster_whisper.segments.consumed"] is False
    assert span.attributes["faster_whisper.segments.count"] == 1
