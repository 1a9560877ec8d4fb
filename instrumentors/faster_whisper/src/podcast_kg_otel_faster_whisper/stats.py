"""O(1) statistics over the segments a transcription yields, for hallucination triage.

Only counters, minima and maxima are kept; the transcript is kept only when the user
opted in, and then only up to the size cap.
"""

from __future__ import annotations

import json
from typing import Any

from podcast_kg_otel_util.content import truncate

from podcast_kg_otel_faster_whisper import attributes as attr


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class SegmentStats:
    """Accumulates what the span reports about the segments consumed so far."""

    def __init__(
        self,
        capture_limit: int | None,
        compression_ratio_threshold: float | None = None,
        log_prob_threshold: float | None = None,
    ) -> None:
        self.count = 0
        self.tokens = 0
        self.words: int | None = None
        self.last_end: float | None = None
        self.avg_logprob_min: float | None = None
        self.avg_logprob_sum = 0.0
        self.no_speech_prob_max: float | None = None
        self.compression_ratio_max: float | None = None
        self.temperature_max: float | None = None
        self.suspected = 0
        self._cr_threshold = compression_ratio_threshold
        self._lp_threshold = log_prob_threshold
        self._capture_limit = capture_limit
        self._texts: list[str] = []
        self._text_len = 0
        self._text_dropped = False

    def observe(self, segment: Any) -> None:
        self.count += 1
        tokens = getattr(segment, "tokens", None)
        if tokens is not None:
            self.tokens += len(tokens)
        words = getattr(segment, "words", None)
        if words is not None:
            self.words = (self.words or 0) + len(words)
        self.last_end = _number(getattr(segment, "end", None))
        logprob = _number(getattr(segment, "avg_logprob", None))
        ratio = _number(getattr(segment, "compression_ratio", None))
        if logprob is not None:
            self.avg_logprob_sum += logprob
            self.avg_logprob_min = _lower(self.avg_logprob_min, logprob)
        self.no_speech_prob_max = _higher(
            self.no_speech_prob_max, _number(getattr(segment, "no_speech_prob", None))
        )
        self.compression_ratio_max = _higher(self.compression_ratio_max, ratio)
        self.temperature_max = _higher(
            self.temperature_max, _number(getattr(segment, "temperature", None))
        )
        if (
            ratio is not None and self._cr_threshold is not None and ratio > self._cr_threshold
        ) or (
            logprob is not None and self._lp_threshold is not None and logprob < self._lp_threshold
        ):
            self.suspected += 1
        if self._capture_limit is not None:
            self._capture(getattr(segment, "text", None), self._capture_limit)

    def _capture(self, text: object, limit: int) -> None:
        if not isinstance(text, str):
            return
        if self._text_len > limit:
            self._text_dropped = True
            return
        self._texts.append(text)
        self._text_len += len(text)

    def attributes(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            attr.SEGMENTS_COUNT: self.count,
            attr.GEN_AI_USAGE_OUTPUT_TOKENS: self.tokens,
            attr.SUSPECTED_HALLUCINATION_COUNT: self.suspected,
        }
        optional = {
            attr.WORDS_COUNT: self.words,
            attr.SEGMENTS_LAST_END: self.last_end,
            attr.AVG_LOGPROB_MIN: self.avg_logprob_min,
            attr.NO_SPEECH_PROB_MAX: self.no_speech_prob_max,
            attr.COMPRESSION_RATIO_MAX: self.compression_ratio_max,
            attr.TEMPERATURE_MAX: self.temperature_max,
        }
        if self.avg_logprob_min is not None:
            optional[attr.AVG_LOGPROB_MEAN] = self.avg_logprob_sum / self.count
        result.update((key, value) for key, value in optional.items() if value is not None)
        if self._capture_limit is not None:
            result.update(self._transcript_attributes(self._capture_limit))
        return result

    def _transcript_attributes(self, limit: int) -> dict[str, Any]:
        text = "".join(self._texts).strip()
        content = truncate(text, limit)
        message = {
            "role": "assistant",
            "parts": [{"type": "text", "content": content}],
            "finish_reason": "stop",
        }
        return {
            attr.GEN_AI_OUTPUT_MESSAGES: json.dumps([message], ensure_ascii=False),
            attr.TRANSCRIPT_TRUNCATED: self._text_dropped or len(text) > limit,
        }


def _lower(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None or value < current else current


def _higher(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None or value > current else current
