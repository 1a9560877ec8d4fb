"""faster-whisper instrumentation overhead: the same transcriptions with and without it,
interleaved in one process.

The model is the tiny, real CTranslate2 Whisper model built offline by
stacktools.tiny_whisper (scripted variant; full pipeline: features, encoder, beam search,
segments). Tracing goes to an SDK TracerProvider with a BatchSpanProcessor and a
discarding exporter, so the figure is the cost of the instrumentation and the SDK, not of
a network. Rounds alternate between uninstrumented and instrumented blocks
(`instrument()`/`uninstrument()` between them) so drift on the shared VM hits both sides;
each side reports the median over rounds of the mean time per transcription, as wall
time and as process CPU time (all threads; less sensitive to other tenants).

The per-segment cost is measured separately, on a stream of real `Segment` objects run
through the traced iterator against the bare generator, since the tiny model yields one
segment per 30 s window.

    python benchmarks/bench_faster_whisper.py [--rounds 15] [--calls 8] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from faster_whisper import WhisperModel
from faster_whisper.transcribe import Segment
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from podcast_kg_otel_faster_whisper import FasterWhisperInstrumentor
from podcast_kg_otel_faster_whisper.config import Settings
from podcast_kg_otel_faster_whisper.run import TranscriptionRun
from podcast_kg_otel_faster_whisper.segments import TracedSegments
from podcast_kg_otel_faster_whisper.stats import SegmentStats
from podcast_kg_otel_faster_whisper.wrappers import transcribe_wrapper

from stacktools.tiny_whisper import build_tiny_model, synth_audio, write_wav


class DiscardingExporter(SpanExporter):
    def export(self, spans: Sequence) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DiscardingExporter()))
    return provider


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    """(wall, cpu) milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def end_to_end(name: str, work: Callable[[], None], provider: TracerProvider, pairs: int) -> None:
    """Paired calls, one uninstrumented and one instrumented, in alternating order; the
    overhead is the median of the per-pair differences, robust to drift and to other
    tenants' bursts on the shared VM."""
    instrumentor = FasterWhisperInstrumentor()
    work()  # warm up both code paths
    instrumentor.instrument(tracer_provider=provider)
    work()
    instrumentor.uninstrument()
    base: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    for index in range(pairs):
        for instrumented in (False, True) if index % 2 == 0 else (True, False):
            if instrumented:
                instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)
                ours.append(_timed(work))
                instrumentor.uninstrument()
            else:
                base.append(_timed(work))
    for label, column in (("wall", 0), ("cpu", 1)):
        b = statistics.median(sample[column] for sample in base)
        o = statistics.median(sample[column] for sample in ours)
        diffs = sorted(x[column] - y[column] for x, y in zip(ours, base, strict=True))
        d = statistics.median(diffs)
        q1, q3 = diffs[len(diffs) // 4], diffs[3 * len(diffs) // 4]
        print(
            f"{name:<30} {label:<4} baseline {b:7.2f} ms  instrumented {o:7.2f} ms  "
            f"paired overhead {d:+6.3f} ms ({d / b * 100:+5.2f} %, IQR {q1:+.2f}..{q3:+.2f} ms)"
        )


def _segment() -> Segment:
    return Segment(
        id=1,
        seek=0,
        start=0.0,
        end=1.0,
        text=" hello world",
        tokens=[1, 2, 3, 4],
        avg_logprob=-0.1,
        compression_ratio=0.6,
        no_speech_prob=0.01,
        words=None,
        temperature=0.0,
    )


def _per_call_us(work: Callable[[], None], calls: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        samples.append((time.perf_counter() - start) * 1e6 / calls)
    return statistics.median(samples)


def fixed_costs(model: WhisperModel, audio: object, provider: TracerProvider, rounds: int) -> None:
    """The instrumentation's own CPU cost, isolated from the model: the transcribe wrapper
    around a stub that returns one segment at once, and the traced iterator per segment."""
    _, info = model.transcribe(audio, language="en")
    segment = _segment()

    def stub(*args: object, **kwargs: object) -> tuple:
        return iter((segment,)), info

    wrapper = transcribe_wrapper(
        provider.get_tracer("bench"), Settings(), WhisperModel.transcribe, "whisper_model"
    )

    def bare_call() -> None:
        segments, _ = stub(audio, language="en")
        list(segments)

    def traced_call() -> None:
        segments, _ = wrapper(stub, model, (audio,), {"language": "en"})
        list(segments)

    per_call = _per_call_us(traced_call, 500, rounds) - _per_call_us(bare_call, 500, rounds)
    print(f"{'fixed cost per transcribe() call':<30}      {per_call:7.1f} us (span, options, info)")

    count = 2000
    tracer = provider.get_tracer("bench")

    def bare_stream() -> None:
        for _ in (segment for _ in range(count)):
            pass

    def traced_stream() -> None:
        run = TranscriptionRun(tracer.start_span("bench"), SegmentStats(None), [0.0])
        for _ in TracedSegments((segment for _ in range(count)), run):
            pass

    per_segment = (
        _per_call_us(traced_stream, 1, rounds) - _per_call_us(bare_stream, 1, rounds)
    ) / count
    print(f"{'cost per segment':<30}      {per_segment:7.2f} us (context attach/detach, stats)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    provider = _provider()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", "scripted")
        model = WhisperModel(str(model_dir), device="cpu", compute_type="float32", cpu_threads=1)
        audio = synth_audio(args.seconds, "noise")
        speech = write_wav(Path(tmp) / "speech.wav", synth_audio(args.seconds, "speech"))

        def numpy_default() -> None:
            segments, _ = model.transcribe(audio, language="en")
            list(segments)

        def wav_with_vad() -> None:
            segments, _ = model.transcribe(str(speech), language="en", vad_filter=True)
            list(segments)

        print(
            f"faster-whisper tiny scripted model, {args.seconds:g} s audio, cpu_threads=1, "
            f"{args.pairs} alternating pairs"
        )
        end_to_end("numpy, beam 5, 1 segment", numpy_default, provider, args.pairs)
        end_to_end("WAV + VAD (+decode, vad)", wav_with_vad, provider, args.pairs)
        fixed_costs(model, audio, provider, args.rounds)
    provider.shutdown()


if __name__ == "__main__":
    main()
