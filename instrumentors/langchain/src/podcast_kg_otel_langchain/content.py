"""Opt-in content: prompts, completions, tool arguments and results, retrieval queries.

Only called when content capture is on; every value is serialized to JSON text and
size-capped, so a huge prompt can never bloat a span.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podcast_kg_otel_util.content import truncate

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def capped(value: Any, limit: int) -> str:
    return truncate(_text(value), limit)


def _message(message: Any) -> dict[str, Any]:
    kind = getattr(message, "type", "")
    role = _ROLES.get(kind, kind or "user")
    return {"role": role, "parts": [{"type": "text", "content": getattr(message, "content", "")}]}


def input_messages(batches: Sequence[Sequence[Any]], limit: int) -> str:
    messages = [_message(m) for batch in batches for m in batch]
    return capped(messages, limit)


def input_prompts(prompts: Sequence[str], limit: int) -> str:
    messages = [{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts]
    return capped(messages, limit)


def output_messages(result: Any, limit: int) -> str:
    out = []
    for generations in getattr(result, "generations", None) or ():
        for generation in generations:
            message = getattr(generation, "message", None)
            text = getattr(message, "content", None) if message is not None else None
            if text is None:
                text = getattr(generation, "text", "")
            out.append({"role": "assistant", "parts": [{"type": "text", "content": text}]})
    return capped(out, limit)


def tool_result(output: Any, limit: int) -> str:
    return capped(getattr(output, "content", output), limit)


def document_ids(documents: Sequence[Any], limit: int) -> str:
    return capped([{"id": getattr(d, "id", None)} for d in documents], limit)
