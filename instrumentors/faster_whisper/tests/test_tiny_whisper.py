"""The offline tiny-model builder and test audio helpers the tests and the demo rely on."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from faster_whisper import WhisperModel

from stacktools.tiny_whisper import (
    MARKER_FILE,
    SCRIPTED_SEGMENT,
    build_tiny_model,
    synth_audio,
    write_wav,
)


def test_build_is_reused_and_rebuilt_on_change(tmp_path):
    target = tmp_path / "model"
    built = build_tiny_model(target)
    files = {p.name for p in built.iterdir()}
    assert files == {
        "model.bin",
        "config.json",
        "vocabulary.json",
        "tokenizer.json",
        "preprocessor_config.json",
        MARKER_FILE,
    }
    stamp = (built / "model.bin").stat().st_mtime_ns

    assert build_tiny_model(target) == built
    assert (built / "model.bin").stat().st_mtime_ns == stamp  # reused, not rebuilt

    build_tiny_model(target, "random")  # another variant replaces it
    assert (built / "model.bin").stat().st_mtime_ns != stamp
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging left behind


def test_rejects_unknown_variant_and_kind(tmp_path):
    with pytest.raises(ValueError, match="variant"):
        build_tiny_model(tmp_path / "m", "large")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        synth_audio(1.0, "music")  # type: ignore[arg-type]


def test_scripted_output_for_any_audio(scripted_dir):
    model = WhisperModel(str(scripted_dir), device="cpu", compute_type="float32", cpu_threads=1)
    for kind in ("tone", "noise", "silence", "speech"):
        segments, info = model.transcribe(synth_audio(2.0, kind), language="en")
        assert [(s.start, s.end, s.text) for s in segments] == [SCRIPTED_SEGMENT], kind
        assert info.duration == 2.0


def test_audio_helpers(tmp_path):
    speech = synth_audio(4.0, "speech")
    assert speech.dtype == np.float32 and speech.shape == (64000,)
    assert not speech[:16000].any() and not speech[48000:].any()  # voiced middle half only
    assert 0.4 < np.abs(speech).max() <= 0.5
    wav = write_wav(tmp_path / "a.wav", speech)
    with wave.open(str(wav)) as read:
        assert (read.getnchannels(), read.getsampwidth(), read.getframerate()) == (1, 2, 16000)
        assert read.getnframes() == 64000
