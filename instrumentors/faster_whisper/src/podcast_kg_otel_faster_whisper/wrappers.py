"""wrapt wrappers for faster-whisper's model load, transcription and its eager phases.

Every wrapper fails open: our own errors are logged once and the user's call proceeds
with its own result or exception, unchanged. All of them honour
`suppress_instrumentation()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from time import perf_counter
from typing import Any

import numpy as np
from opentelemetry import context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import SpanKind, Tracer
from podcast_kg_otel_util.errors import record_error
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel_faster_whisper import attributes as attr
from podcast_kg_otel_faster_whisper import models
from podcast_kg_otel_faster_whisper.config import Settings
from podcast_kg_otel_faster_whisper.options import audio_source, binder, request_attributes
from podcast_kg_otel_faster_whisper.run import TranscriptionRun, active_run
from podcast_kg_otel_faster_whisper.segments import TracedSegments
from podcast_kg_otel_faster_whisper.stats import SegmentStats

logger = logging.getLogger(__name__)

Wrapper = Callable[[Callable, Any, tuple, dict], Any]

_BASE_ATTRIBUTES = {
    attr.GEN_AI_OPERATION_NAME: attr.OPERATION_SPEECH_TO_TEXT,
    attr.GEN_AI_PROVIDER_NAME: attr.PROVIDER_FASTER_WHISPER,
}


@contextmanager
def _child_span(tracer: Tracer, name: str, attributes: dict[str, Any]):
    """An INTERNAL span around an eager step; the step's exception is recorded once."""
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            record_error(span, error)
            raise


def load_model_wrapper(tracer: Tracer, init: Callable) -> Wrapper:
    """`WhisperModel.__init__`: a load span, and the load arguments stashed on the model."""
    bind = binder(init)

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        name, attributes = None, None
        with guard(logger, "model load start"):
            name, attributes = models.load_attributes(bind(instance, *args, **kwargs))
        if attributes is None or not is_instrumentation_enabled():
            result = wrapped(*args, **kwargs)
            _stash(instance, name, attributes or {})
            return result
        load_attributes = {attr.GEN_AI_PROVIDER_NAME: attr.PROVIDER_FASTER_WHISPER, **attributes}
        with _child_span(tracer, attr.SPAN_LOAD_MODEL, load_attributes) as span:
            result = wrapped(*args, **kwargs)
            stashed = _stash(instance, name, attributes)
            if stashed is not None:
                span.set_attributes(stashed.attributes)
        return result

    return wrapper


def _stash(instance: Any, name: str | None, attributes: dict[str, Any]) -> models.ModelInfo | None:
    with guard(logger, "model load end"):
        runtime = models.runtime_attributes(getattr(instance, "model", None))
        info = models.ModelInfo(name, {**attributes, **runtime})
        info.attributes.pop(attr.MODEL_SOURCE, None)
        setattr(instance, models.STASH, info)
        return info
    return None


def transcribe_wrapper(
    tracer: Tracer, settings: Settings, function: Callable, pipeline: str
) -> Wrapper:
    """`transcribe()` of WhisperModel or BatchedInferencePipeline: a span that lives as
    long as the returned segment stream."""
    bind = binder(function)
    capture_limit = settings.transcript_max_chars if settings.capture_transcript else None

    def start(instance: Any, args: tuple, kwargs: dict) -> TranscriptionRun:
        arguments = bind(instance, *args, **kwargs)
        whisper_model = instance if pipeline == "whisper_model" else instance.model
        info = models.info_for(whisper_model)
        attributes = {
            **_BASE_ATTRIBUTES,
            attr.GEN_AI_OUTPUT_TYPE: attr.OUTPUT_TYPE_TEXT,
            attr.PIPELINE: pipeline,
            **info.attributes,
            **request_attributes(arguments),
        }
        name = f"{attr.SPAN_TRANSCRIBE} {info.name}" if info.name else attr.SPAN_TRANSCRIBE
        span = tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        stats = SegmentStats(
            capture_limit,
            _optional_float(arguments.get("compression_ratio_threshold")),
            _optional_float(arguments.get("log_prob_threshold")),
        )
        return TranscriptionRun(span, stats, attributes.get(attr.TEMPERATURES))

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        run = None
        with guard(logger, "transcription start"):
            run = start(instance, args, kwargs)
        if run is None:
            return wrapped(*args, **kwargs)
        token = context.attach(run.context)
        started = perf_counter()
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            run.add_compute(perf_counter() - started)
            context.detach(token)
            run.finish(attr.END_ERROR, error)
            raise
        run.add_compute(perf_counter() - started)
        context.detach(token)
        return _traced_result(result, run)

    return wrapper


def _traced_result(result: Any, run: TranscriptionRun) -> Any:
    """`(TracedSegments, info)`; on our own failure the untouched result, span ended."""
    with guard(logger, "transcription result"):
        segments, info = result
        run.set_info(info)
        return TracedSegments(segments, run), info
    run.finish(attr.END_ABANDONED)
    return result


def _optional_float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def fallback_wrapper() -> Wrapper:
    """`WhisperModel.generate_with_fallback`: counts windows and temperature fallbacks
    of the active transcription (no span: one per 30 s window would be noise)."""

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        result = wrapped(*args, **kwargs)
        run = active_run()
        if run is not None:
            with guard(logger, "temperature fallback count"):
                run.note_window(result[2])
        return result

    return wrapper


def detect_language_wrapper(tracer: Tracer) -> Wrapper:
    """`WhisperModel.detect_language`: a child span with the detected language."""

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        attributes: dict[str, Any] = {}
        with guard(logger, "language detection start"):
            attributes = _detect_attributes(instance, kwargs)
        with _child_span(tracer, attr.SPAN_DETECT_LANGUAGE, attributes) as span:
            result = wrapped(*args, **kwargs)
            with guard(logger, "language detection end"):
                language, probability = result[0], result[1]
                if isinstance(language, str):
                    span.set_attribute(attr.GEN_AI_SPEECH_INPUT_LANGUAGE, language)
                span.set_attribute(attr.LANGUAGE_PROBABILITY, float(probability))
        return result

    return wrapper


def _detect_attributes(instance: Any, kwargs: dict) -> dict[str, Any]:
    attributes = {
        key: value
        for key, value in models.info_for(instance).attributes.items()
        if key == attr.GEN_AI_REQUEST_MODEL
    }
    segments = kwargs.get("language_detection_segments")
    if isinstance(segments, int):
        attributes[attr.LANGUAGE_DETECTION_SEGMENTS] = segments
    return attributes


def vad_wrapper(tracer: Tracer) -> Wrapper:
    """`get_speech_timestamps` as called by faster-whisper: a child span with the audio
    duration before and after voice activity detection."""

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        rate = 16000.0
        attributes: dict[str, Any] = {}
        with guard(logger, "vad start"):
            rate = float(kwargs.get("sampling_rate", args[2] if len(args) > 2 else 16000))
            audio = kwargs.get("audio", args[0] if args else None)
            if isinstance(audio, np.ndarray):
                attributes[attr.AUDIO_DURATION] = audio.shape[0] / rate
        with _child_span(tracer, attr.SPAN_VAD, attributes) as span:
            chunks = wrapped(*args, **kwargs)
            with guard(logger, "vad end"):
                speech = sum(chunk["end"] - chunk["start"] for chunk in chunks)
                span.set_attribute(attr.VAD_SPEECH_CHUNKS, len(chunks))
                span.set_attribute(attr.AUDIO_DURATION_AFTER_VAD, speech / rate)
        return chunks

    return wrapper


def decode_audio_wrapper(tracer: Tracer) -> Wrapper:
    """`decode_audio` as called by faster-whisper (PyAV): a child span; a bad file's
    error is recorded here and on the transcription span."""

    def wrapper(wrapped: Callable, instance: Any, args: tuple, kwargs: dict) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        rate = 16000.0
        attributes: dict[str, Any] = {}
        with guard(logger, "decode audio start"):
            source = kwargs.get("input_file", args[0] if args else None)
            attributes[attr.AUDIO_SOURCE] = audio_source(source)
            rate = float(kwargs.get("sampling_rate", args[1] if len(args) > 1 else 16000))
        with _child_span(tracer, attr.SPAN_DECODE_AUDIO, attributes) as span:
            audio = wrapped(*args, **kwargs)
            with guard(logger, "decode audio end"):
                first = audio[0] if isinstance(audio, tuple) else audio
                span.set_attribute(attr.AUDIO_DURATION, first.shape[0] / rate)
        return audio

    return wrapper
