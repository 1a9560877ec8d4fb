"""One transcription: its span, its statistics, and ending the span exactly once.

The span outlives the `transcribe()` call: it ends when the segment stream is exhausted,
closed, raises, or is garbage-collected unfinished, whichever comes first, from
whichever thread. Nothing here may raise into the application.
"""

from __future__ import annotations

import logging
import threading
import weakref
from time import perf_counter
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import Span
from podcast_kg_otel_util.errors import record_error
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel_faster_whisper import attributes as attr
from podcast_kg_otel_faster_whisper.options import effective_attributes
from podcast_kg_otel_faster_whisper.stats import SegmentStats

logger = logging.getLogger(__name__)

# Context key under which the active run is visible to wrappers of inner calls
# (generate_with_fallback), while the run's context is attached.
RUN_KEY = context.create_key("podcast_kg_otel_faster_whisper.run")


class TranscriptionRun:
    """The state of one traced transcription, shared by the wrapper and the iterator."""

    def __init__(self, span: Span, stats: SegmentStats, temperatures: list[float] | None) -> None:
        self.span = span
        self.stats = stats
        self.context = context.set_value(RUN_KEY, self, trace.set_span_in_context(span))
        self.ended = False
        self.finalizer: weakref.finalize | None = None
        self._started = perf_counter()
        self._compute = 0.0
        self._first_segment: float | None = None
        self._duration: float | None = None
        self._temperatures = temperatures
        self._windows = 0
        self._fallbacks = 0
        self._lock = threading.Lock()

    def add_compute(self, seconds: float) -> None:
        self._compute += seconds

    def set_info(self, info: Any) -> None:
        """Attributes known when `transcribe()` returns: language and durations."""
        attributes = effective_attributes(info)
        schedule = attributes.get(attr.TEMPERATURES)
        if schedule is not None:
            self._temperatures = schedule
        language = getattr(info, "language", None)
        if isinstance(language, str):
            attributes[attr.GEN_AI_SPEECH_INPUT_LANGUAGE] = language
        probability = getattr(info, "language_probability", None)
        if isinstance(probability, (int, float)):
            attributes[attr.LANGUAGE_PROBABILITY] = float(probability)
        attributes[attr.LANGUAGE_DETECTED] = getattr(info, "all_language_probs", None) is not None
        for key, field in (
            (attr.AUDIO_DURATION, "duration"),
            (attr.AUDIO_DURATION_AFTER_VAD, "duration_after_vad"),
        ):
            value = getattr(info, field, None)
            if isinstance(value, (int, float)):
                attributes[key] = float(value)
        self._duration = attributes.get(attr.AUDIO_DURATION)
        self.span.set_attributes(attributes)

    def observe(self, segment: Any, seconds: float) -> None:
        with guard(logger, "segment statistics"):
            self._compute += seconds
            if self._first_segment is None:
                self._first_segment = perf_counter() - self._started
            self.stats.observe(segment)

    def note_window(self, temperature: object) -> None:
        """One decoded window: attempts beyond the first temperature are fallbacks."""
        self._windows += 1
        schedule = self._temperatures or []
        for index, candidate in enumerate(schedule):
            if candidate == temperature:
                self._fallbacks += index
                break

    def finish(self, reason: str, error: BaseException | None = None) -> None:
        """End the span once; later calls (another thread, the finalizer) do nothing."""
        with self._lock:
            if self.ended:
                return
            self.ended = True
        with guard(logger, "transcription span end"):
            if self.finalizer is not None:
                self.finalizer.detach()
            self.span.set_attributes(self._final_attributes(reason))
            if error is not None:
                record_error(self.span, error)
        self.span.end()

    def _final_attributes(self, reason: str) -> dict[str, Any]:
        attributes = self.stats.attributes()
        attributes[attr.SEGMENTS_END] = reason
        attributes[attr.SEGMENTS_CONSUMED] = reason == attr.END_EXHAUSTED
        attributes[attr.COMPUTE_DURATION] = self._compute
        if self._first_segment is not None:
            attributes[attr.TIME_TO_FIRST_SEGMENT] = self._first_segment
        if self._duration:
            attributes[attr.REALTIME_FACTOR] = self._compute / self._duration
        if self._windows:
            attributes[attr.WINDOWS_COUNT] = self._windows
            attributes[attr.TEMPERATURE_FALLBACK_COUNT] = self._fallbacks
        return attributes


def active_run() -> TranscriptionRun | None:
    """The run whose context is attached right now, if any."""
    run = context.get_value(RUN_KEY)
    return run if isinstance(run, TranscriptionRun) else None
