"""Speech to text with faster-whisper: a user-given model, or a tiny one built offline."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)


def default_model_dir() -> Path:
    """Where the offline tiny model is built (and reused) when no model is configured."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "podcast-kg-otel" / "demo-tiny-whisper"


def load_model(model: str | None) -> WhisperModel:
    """Load `model` (a size name or a CTranslate2 directory), or build the tiny demo model.

    The tiny model is real (CTranslate2, full decoding pipeline) but knows two words:
    it transcribes any audio as "hello world".
    """
    if model is None:
        from stacktools.tiny_whisper import build_tiny_model

        model = str(build_tiny_model(default_model_dir(), "scripted"))
        logger.info("no PIPELINE_WHISPER_MODEL set: using the tiny offline model in %s", model)
    return WhisperModel(model, device="cpu", compute_type="float32")


def transcribe(model: WhisperModel, audio: bytes) -> str:
    """The transcript of encoded audio (any format PyAV decodes), segments joined."""
    segments, info = model.transcribe(io.BytesIO(audio), language="en", beam_size=1)
    text = " ".join(segment.text.strip() for segment in segments)
    logger.info("transcribed %.1f s of audio into %d characters", info.duration, len(text))
    return text
