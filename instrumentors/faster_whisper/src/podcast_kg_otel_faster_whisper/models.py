"""What a `WhisperModel` was loaded as: name, device, compute type, threads.

faster-whisper does not keep the constructor arguments, so the `__init__` wrapper stashes
them on the instance; models built before instrumentation fall back to what the
CTranslate2 object exposes. Attribute dictionaries are computed once per model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from podcast_kg_otel_faster_whisper import attributes as attr

STASH = "_podcast_kg_otel_model"


@dataclass
class ModelInfo:
    name: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def model_name(model_size_or_path: object) -> tuple[str | None, str]:
    """(name for spans, source). Directories become their basename: no paths in spans."""
    if not isinstance(model_size_or_path, (str, os.PathLike)):
        return None, "unknown"
    text = os.fspath(model_size_or_path)
    if not isinstance(text, str):
        return None, "unknown"
    if os.path.isdir(text):
        return os.path.basename(os.path.normpath(text)) or None, "directory"
    return text, "hub"


def load_attributes(bound: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Span attributes for `WhisperModel(...)` from its bound arguments."""
    name, source = model_name(bound.get("model_size_or_path"))
    if bound.get("files"):
        source = "memory"
    attributes: dict[str, Any] = {attr.MODEL_SOURCE: source}
    if name:
        attributes[attr.GEN_AI_REQUEST_MODEL] = name
    for key, value in (
        (attr.DEVICE, bound.get("device")),
        (attr.COMPUTE_TYPE, bound.get("compute_type")),
        (attr.CPU_THREADS, bound.get("cpu_threads")),
        (attr.NUM_WORKERS, bound.get("num_workers")),
    ):
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            attributes[key] = value
    index = bound.get("device_index")
    if isinstance(index, int):
        attributes[attr.DEVICE_INDEX] = [index]
    elif isinstance(index, (list, tuple)) and all(isinstance(i, int) for i in index):
        attributes[attr.DEVICE_INDEX] = list(index)
    return name, attributes


def runtime_attributes(ct2_model: object) -> dict[str, Any]:
    """What CTranslate2 resolved: actual device, compute type, multilingual flag."""
    attributes: dict[str, Any] = {}
    for key, prop in (
        (attr.DEVICE, "device"),
        (attr.COMPUTE_TYPE_RESOLVED, "compute_type"),
        (attr.MODEL_MULTILINGUAL, "is_multilingual"),
    ):
        value = getattr(ct2_model, prop, None)
        if isinstance(value, (str, bool)):
            attributes[key] = value
    return attributes


def info_for(whisper_model: object) -> ModelInfo:
    """The stashed info of a model, or one derived from its CTranslate2 object (cached)."""
    info = getattr(whisper_model, STASH, None)
    if isinstance(info, ModelInfo):
        return info
    info = ModelInfo(None, runtime_attributes(getattr(whisper_model, "model", None)))
    setattr(whisper_model, STASH, info)
    return info
