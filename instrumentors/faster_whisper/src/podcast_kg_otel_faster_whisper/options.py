"""Cost-shaping options of a `transcribe()` call, as span attributes.

Arguments are bound to the real signature with its defaults applied, so the recorded
values are what the library uses (e.g. `vad_filter` defaults to True in the batched
pipeline and False in `WhisperModel`), across faster-whisper versions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from podcast_kg_otel_faster_whisper import attributes as attr

_SCALARS = (
    ("task", attr.TASK),
    ("beam_size", attr.BEAM_SIZE),
    ("best_of", attr.BEST_OF),
    ("vad_filter", attr.VAD_FILTER),
    ("word_timestamps", attr.WORD_TIMESTAMPS),
    ("without_timestamps", attr.WITHOUT_TIMESTAMPS),
    ("condition_on_previous_text", attr.CONDITION_ON_PREVIOUS_TEXT),
    ("batch_size", attr.BATCH_SIZE),
    ("chunk_length", attr.CHUNK_LENGTH),
    ("language", attr.LANGUAGE_REQUESTED),
    ("max_new_tokens", attr.GEN_AI_REQUEST_MAX_TOKENS),
)


def binder(function: Callable) -> Callable[..., dict[str, Any]]:
    """A function mapping `(instance, *args, **kwargs)` to `function`'s parameter names,
    defaults filled in. Computed once per patch; much cheaper than `Signature.bind`, and
    it never rejects a call: a wrong call is the library's to reject."""
    parameters = list(inspect.signature(function).parameters.values())
    positional = [
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}

    def bind(*args: Any, **kwargs: Any) -> dict[str, Any]:
        arguments = dict(defaults)
        arguments.update(zip(positional, args, strict=False))
        arguments.update(kwargs)
        return arguments

    return bind


def audio_source(audio: object) -> str:
    if isinstance(audio, np.ndarray):
        return "array"
    if isinstance(audio, str):
        return "path"
    return "file"


def temperatures(value: object) -> list[float] | None:
    """The temperature schedule as floats (a single value becomes a one-item list)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    if isinstance(value, (list, tuple)) and all(
        isinstance(t, (int, float)) and not isinstance(t, bool) for t in value
    ):
        return [float(t) for t in value]
    return None


def request_attributes(arguments: dict[str, Any]) -> dict[str, Any]:
    """Span attributes for the options a transcription was requested with."""
    attributes: dict[str, Any] = {attr.AUDIO_SOURCE: audio_source(arguments.get("audio"))}
    for name, key in _SCALARS:
        value = arguments.get(name)
        if isinstance(value, (str, bool, int, float)):
            attributes[key] = value
    schedule = temperatures(arguments.get("temperature"))
    if schedule is not None:
        attributes[attr.TEMPERATURES] = schedule
    return attributes


def effective_attributes(info: object) -> dict[str, Any]:
    """Options as the library resolved them (the batched pipeline keeps one temperature
    and never conditions on previous text), read from `info.transcription_options`."""
    options = getattr(info, "transcription_options", None)
    attributes: dict[str, Any] = {}
    schedule = temperatures(getattr(options, "temperatures", None))
    if schedule is not None:
        attributes[attr.TEMPERATURES] = schedule
    condition = getattr(options, "condition_on_previous_text", None)
    if isinstance(condition, bool):
        attributes[attr.CONDITION_ON_PREVIOUS_TEXT] = condition
    return attributes
