"""
OpenTelemetry instrumentation for `faster-whisper <https://github.com/SYSTRAN/faster-whisper>`_.

``WhisperModel.transcribe()`` returns at once with a lazy generator; the decoding runs
while the caller iterates. The ``speech_to_text {model}`` span therefore starts at the
call and ends when the segment stream is exhausted, closed, raises, or is
garbage-collected unfinished, with decode, VAD and language detection as children.

Usage
-----

.. code-block:: python

    from faster_whisper import WhisperModel
    from podcast_kg_otel_faster_whisper import FasterWhisperInstrumentor

    FasterWhisperInstrumentor().instrument()

    model = WhisperModel("small", device="cpu", compute_type="int8")
    segments, info = model.transcribe("episode.mp3", vad_filter=True)
    for segment in segments:  # the span stays open while this loop runs
        print(segment.text)

Under ``opentelemetry-instrument`` the plugin is loaded through its entry point
``podcast_kg_faster_whisper`` (disable it with
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=podcast_kg_faster_whisper``).

Options
-------

``instrument(tracer_provider=None, capture_transcript=None, transcript_max_chars=None)``

* ``capture_transcript``: record the transcript in ``gen_ai.output.messages``. Default
  from ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``/``span_only``/
  ``span_and_event`` capture), else off.
* ``transcript_max_chars``: size cap of the captured transcript. Default from
  ``PODCAST_KG_OTEL_WHISPER_TRANSCRIPT_MAX_CHARS``, else 4096.

Suppress Instrumentation
------------------------

.. code-block:: python

    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        segments, info = model.transcribe(audio)  # no spans

API
---
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.trace import get_tracer

from podcast_kg_otel_faster_whisper.config import load_settings
from podcast_kg_otel_faster_whisper.package import _instruments
from podcast_kg_otel_faster_whisper.patching import PATCHER
from podcast_kg_otel_faster_whisper.version import __version__
from podcast_kg_otel_faster_whisper.wrappers import (
    decode_audio_wrapper,
    detect_language_wrapper,
    fallback_wrapper,
    load_model_wrapper,
    transcribe_wrapper,
    vad_wrapper,
)

__all__ = ["FasterWhisperInstrumentor", "__version__"]


class FasterWhisperInstrumentor(BaseInstrumentor):
    """Traces faster-whisper model loads and transcriptions."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = get_tracer(__name__, __version__, kwargs.get("tracer_provider"))
        settings = load_settings(kwargs)

        def wrappers(module: ModuleType) -> dict[str, Callable]:
            model = module.WhisperModel
            result: dict[str, Callable] = {
                "WhisperModel.__init__": load_model_wrapper(tracer, model.__init__),
                "WhisperModel.transcribe": transcribe_wrapper(
                    tracer, settings, model.transcribe, "whisper_model"
                ),
                "WhisperModel.generate_with_fallback": fallback_wrapper(),
            }
            if hasattr(model, "detect_language"):  # public from 1.2
                result["WhisperModel.detect_language"] = detect_language_wrapper(tracer)
            batched = getattr(module, "BatchedInferencePipeline", None)  # from 1.1
            if batched is not None:
                result["BatchedInferencePipeline.transcribe"] = transcribe_wrapper(
                    tracer, settings, batched.transcribe, "batched"
                )
            result["decode_audio"] = decode_audio_wrapper(tracer)
            result["get_speech_timestamps"] = vad_wrapper(tracer)
            return result

        PATCHER.enable(wrappers)

    def _uninstrument(self, **kwargs: Any) -> None:
        PATCHER.disable()
