"""The faster-whisper versions this instrumentation supports (checked by BaseInstrumentor).

1.0 is the floor: `WhisperModel.transcribe` returns the lazy generator and
`generate_with_fallback` exists. `BatchedInferencePipeline` (1.1) and the public
`WhisperModel.detect_language` (1.2) are instrumented only where present.
"""

_instruments = ("faster-whisper >= 1.0.0, < 2",)
_supports_metrics = False
