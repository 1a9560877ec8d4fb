"""A tiny but real CTranslate2 Whisper model, built offline, plus synthetic test audio.

No model hub is reachable from CI, and no torch is installed, so tests and the demo build
a 2.4 MB Whisper model from numpy arrays that `faster_whisper.WhisperModel` loads and runs
through its full real pipeline (features, encoder, beam search, segments, VAD, PyAV).

Variants:

* ``"scripted"`` (default): the decoder is rigged into a bigram chain, so ``transcribe()``
  yields exactly one segment ``[0.00 -> 1.00] " hello world"`` for *any* audio, with
  avg_logprob ~ 0, no_speech_prob ~ 0 and temperature 0.0. Use it for exact assertions.
* ``"random"``: all weights N(0, 0.02); decodes gibberish (timestamps may exceed the clip).
  Use it for robustness only.

``multilingual=True`` writes the empty-string token CTranslate2 >= 4.7 reads as the
multilingual flag, so ``language=None`` runs real language detection (en/de/fr).

API::

    from stacktools.tiny_whisper import build_tiny_model, synth_audio, write_wav
    model_dir = build_tiny_model(tmp_dir / "tiny")          # Path; reused when already built
    audio = synth_audio(2.0)                                 # float32 mono 16 kHz ndarray
    wav = write_wav(tmp_dir / "clip.wav", audio)             # 16-bit PCM WAV file
    WhisperModel(str(model_dir), device="cpu", compute_type="float32")

Command line: ``python -m stacktools.tiny_whisper OUTDIR [scripted|random] [--multilingual]``.
The recipe follows shared/reference/tiny-whisper.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

Variant = Literal["scripted", "random"]
AudioKind = Literal["tone", "noise", "silence", "speech"]

SAMPLE_RATE = 16000
SCRIPTED_TEXT = " hello world"
SCRIPTED_SEGMENT = (0.0, 1.0, SCRIPTED_TEXT)  # (start, end, text) of the scripted output
LANGUAGES = ("en", "de", "fr")

# Bumped whenever the recipe changes, so stale cached builds are rebuilt.
BUILD_VERSION = 1
MARKER_FILE = "tiny_whisper.json"

D_MODEL = 64
HEADS = 2
ENC_LAYERS = 2
DEC_LAYERS = 2
FFN = 128
N_MELS = 80
ENC_POSITIONS = 1500  # 3000 mel frames (30 s) after conv2's stride of 2
DEC_POSITIONS = 448
_ML_MARKER = "<|ml_marker|>"

# The scripted decoder's bigram chain: current token -> next token.
_CHAIN = (
    ("<|startoftranscript|>", "<|0.00|>"),
    ("<|transcribe|>", "<|0.00|>"),
    ("<|translate|>", "<|0.00|>"),
    ("<|notimestamps|>", "Ġhello"),
    ("<|0.00|>", "Ġhello"),
    ("Ġhello", "Ġworld"),
    ("Ġworld", "<|1.00|>"),
    ("<|1.00|>", "<|endoftext|>"),
)


def build_tiny_model(
    directory: str | Path,
    variant: Variant = "scripted",
    *,
    multilingual: bool = False,
) -> Path:
    """Build the tiny model into `directory` (created) and return it as a Path.

    A directory already holding a build of the same variant, language mode and recipe
    version is reused as is; anything else there is replaced. The build is written to a
    sibling temporary directory and renamed into place, so a half-written model is never
    seen by a concurrent reader, and two concurrent builders end with one valid model.
    """
    if variant not in ("scripted", "random"):
        raise ValueError(f"variant must be 'scripted' or 'random', not {variant!r}")
    target = Path(directory)
    marker = {"version": BUILD_VERSION, "variant": variant, "multilingual": multilingual}
    if _read_marker(target) == marker:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_model(staging, variant == "scripted", multilingual)
        (staging / MARKER_FILE).write_text(json.dumps(marker))
        if _read_marker(target) != marker:  # unless a concurrent builder just finished
            if target.exists():
                shutil.rmtree(target)
            try:
                staging.rename(target)
            except OSError:
                if _read_marker(target) != marker:
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def synth_audio(
    seconds: float = 2.0,
    kind: AudioKind = "tone",
    *,
    sample_rate: int = SAMPLE_RATE,
    seed: int = 0,
) -> np.ndarray:
    """Mono float32 audio in [-1, 1].

    `kind`: a 440 Hz tone, seeded noise, silence, or "speech": vowel-like voiced syllables
    in the middle half framed by silence, which Silero VAD (``vad_filter=True``) detects as
    speech, whereas it finds none in a tone.
    """
    n = round(seconds * sample_rate)
    if kind == "speech":
        return _speech_like(n, sample_rate)
    if kind == "tone":
        t = np.arange(n, dtype=np.float64) / sample_rate
        return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    if kind == "noise":
        return (np.random.default_rng(seed).standard_normal(n) * 0.1).astype(np.float32)
    if kind == "silence":
        return np.zeros(n, dtype=np.float32)
    raise ValueError(f"kind must be 'tone', 'noise', 'silence' or 'speech', not {kind!r}")


def _speech_like(n: int, sample_rate: int) -> np.ndarray:
    """A 120 Hz voice with /a/-like formants, pulsed at 3 syllables/s, in the middle half."""
    start, length = n // 4, n // 2
    t = np.arange(length, dtype=np.float64) / sample_rate
    pitch = 120.0 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voice = np.zeros(length)
    for k in range(1, 30):
        gain = 0.05 + sum(
            np.exp(-((k * 120.0 - formant) ** 2) / (8 * width**2))
            for formant, width in ((700, 130), (1220, 70), (2600, 160))
        )
        voice += gain / np.sqrt(k) * np.sin(k * phase)
    voice *= np.sqrt(np.clip(np.sin(2 * np.pi * 3 * t), 0, None))
    audio = np.zeros(n, dtype=np.float32)
    audio[start : start + length] = 0.5 * voice / np.abs(voice).max()
    return audio


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float audio in [-1, 1] as a 16-bit PCM mono WAV file and return its Path."""
    target = Path(path)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return target


def _read_marker(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _build_tokenizer(multilingual: bool):
    """A byte-level BPE with ' hello'/' world' as single tokens, then Whisper's specials.

    The special tokens are added in Whisper's order so their ids are contiguous:
    faster-whisper and CTranslate2 derive timestamp and language ids from that order.
    """
    from tokenizers import Tokenizer, decoders, models
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {symbol: i for i, symbol in enumerate(sorted(ByteLevel.alphabet()))}
    merges = []
    for word in ("Ġhello", "Ġworld"):
        current = word[0]
        for char in word[1:]:
            merges.append((current, char))
            current += char
            vocab.setdefault(current, len(vocab))
    if multilingual:
        # tokenizers cannot hold "", so reserve an id and write "" in vocabulary.json only.
        vocab[_ML_MARKER] = len(vocab)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *(f"<|{lang}|>" for lang in LANGUAGES),
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
        *(f"<|{i * 0.02:.2f}|>" for i in range(1501)),
    ]
    tokenizer.add_special_tokens(specials)
    base = tokenizer.token_to_id("<|endoftext|>")
    if [tokenizer.token_to_id(s) for s in specials] != list(range(base, base + len(specials))):
        raise RuntimeError("tiny whisper: special token ids are not contiguous")
    return tokenizer


def _write_model(outdir: Path, scripted: bool, multilingual: bool) -> None:
    from ctranslate2.specs import whisper_spec

    rng = np.random.default_rng(0)
    tokenizer = _build_tokenizer(multilingual)
    size = tokenizer.get_vocab_size()
    tokens = [tokenizer.id_to_token(i) for i in range(size)]
    if multilingual:
        tokens[tokenizer.token_to_id(_ML_MARKER)] = ""

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, np.float32)

    def norm(layer) -> None:
        layer.gamma, layer.beta = np.ones(D_MODEL, np.float32), zeros(D_MODEL)

    def linear(layer, out_dim: int, in_dim: int, zero: bool = False) -> None:
        layer.weight = zeros(out_dim, in_dim) if zero else rand(out_dim, in_dim)
        layer.bias = zeros(out_dim)

    spec = whisper_spec.WhisperSpec(ENC_LAYERS, HEADS, DEC_LAYERS, HEADS)
    encoder = spec.encoder
    encoder.conv1.weight, encoder.conv1.bias = rand(D_MODEL, N_MELS, 3), zeros(D_MODEL)
    encoder.conv2.weight, encoder.conv2.bias = rand(D_MODEL, D_MODEL, 3), zeros(D_MODEL)
    encoder.position_encodings.encodings = rand(ENC_POSITIONS, D_MODEL)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        _attention_block(layer, norm, linear, zero_out=False)

    decoder = spec.decoder
    embeddings = rand(size, D_MODEL)
    projection = zeros(size, D_MODEL) if scripted else rand(size, D_MODEL)
    if scripted:
        _script_chain(tokenizer, embeddings, projection)
    decoder.embeddings.weight = embeddings
    decoder.position_encodings.encodings = (
        zeros(DEC_POSITIONS, D_MODEL) if scripted else rand(DEC_POSITIONS, D_MODEL)
    )
    norm(decoder.layer_norm)
    decoder.projection.weight = projection
    decoder.projection.bias = zeros(size)
    for layer in decoder.layer:
        _attention_block(layer, norm, linear, zero_out=scripted)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], D_MODEL, D_MODEL)  # query
        linear(layer.attention.linear[1], 2 * D_MODEL, D_MODEL)  # fused key, value
        linear(layer.attention.linear[2], D_MODEL, D_MODEL, zero=scripted)

    eot = tokenizer.token_to_id("<|endoftext|>")
    spec.config.suppress_ids = []
    spec.config.suppress_ids_begin = [eot]
    spec.config.lang_ids = [tokenizer.token_to_id(f"<|{lang}|>") for lang in LANGUAGES]
    spec.config.alignment_heads = [
        (layer, head) for layer in range(DEC_LAYERS // 2, DEC_LAYERS) for head in range(HEADS)
    ]
    spec.register_vocabulary(tokens)
    spec.validate()
    spec.optimize(quantization=None)
    spec.save(str(outdir))  # model.bin, config.json, vocabulary.json
    tokenizer.save(str(outdir / "tokenizer.json"))  # keeps faster-whisper off the hub
    (outdir / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "feature_size": N_MELS,
                "sampling_rate": SAMPLE_RATE,
                "hop_length": 160,
                "chunk_length": 30,
                "n_fft": 400,
            }
        )
    )


def _attention_block(layer, norm: Callable, linear: Callable, zero_out: bool) -> None:
    """Self-attention and feed-forward weights; `zero_out` silences their residual branch."""
    norm(layer.self_attention.layer_norm)
    linear(layer.self_attention.linear[0], 3 * D_MODEL, D_MODEL)  # fused query, key, value
    linear(layer.self_attention.linear[1], D_MODEL, D_MODEL, zero=zero_out)
    norm(layer.ffn.layer_norm)
    linear(layer.ffn.linear_0, FFN, D_MODEL)
    linear(layer.ffn.linear_1, D_MODEL, FFN, zero=zero_out)


def _script_chain(tokenizer, embeddings: np.ndarray, projection: np.ndarray) -> None:
    """Give each chain token a one-hot embedding whose slot projects onto its successor.

    With every decoder residual branch zeroed, the final LayerNorm turns `10 * e_slot`
    into a logit of about 16 for the successor and about 0 for every other token.
    """
    for slot, (current, following) in enumerate(_CHAIN):
        row = tokenizer.token_to_id(current)
        embeddings[row] = 0.0
        embeddings[row, slot] = 10.0
        projection[tokenizer.token_to_id(following), slot] = 2.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the tiny offline Whisper model.")
    parser.add_argument("outdir")
    parser.add_argument("variant", nargs="?", default="scripted", choices=["scripted", "random"])
    parser.add_argument("--multilingual", action="store_true")
    args = parser.parse_args(argv)
    print(build_tiny_model(args.outdir, args.variant, multilingual=args.multilingual))


if __name__ == "__main__":
    main()
