"""Small local stand-ins for the OpenAI and Gemini HTTP APIs, for the provider SDK tests.

Each listens on 127.0.0.1 on an ephemeral port, answers with fixed token counts (so tests
can compare the usage that reached Jaeger with what the "provider" returned), and shuts
itself down after `lifetime` seconds even if nobody stops it. The model name `fail-model`
gets a 400 error (no SDK retries 400), so the error path is tested without retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAIL_MODEL = "fail-model"

# What the fake OpenAI reports: usage of a plain and of a streamed completion.
OPENAI_USAGE = {"prompt_tokens": 11, "completion_tokens": 7}
OPENAI_STREAM_USAGE = {"prompt_tokens": 12, "completion_tokens": 3}
OPENAI_TEXT = "Entities: Ada Lovelace, Analytical Engine."
OPENAI_STREAM_PIECES = ("Ada ", "Lovelace", ".")

# What the fake Gemini reports.
GEMINI_USAGE = {"promptTokenCount": 13, "candidatesTokenCount": 5}
GEMINI_STREAM_USAGE = {"promptTokenCount": 14, "candidatesTokenCount": 4}
GEMINI_TEXT = "Topics: computing history."
GEMINI_STREAM_PIECES = ("Topics: ", "computing ", "history.")


class _Handler(BaseHTTPRequestHandler):
    server: _FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the tests read spans, not access logs

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.path, body))
        self.server.route(self, body)

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_events(self, events: Iterator[dict[str, Any] | str]) -> None:
        """Server-sent events; the connection closes at the end (HTTP/1.0)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for event in events:
            text = event if isinstance(event, str) else json.dumps(event)
            self.wfile.write(f"data: {text}\n\n".encode())
            self.wfile.flush()


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lifetime: float = 300.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> _FakeServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self.shutdown()
        self.server_close()

    def __enter__(self) -> _FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, handler: _Handler, body: dict[str, Any]) -> None:
        raise NotImplementedError


class FakeOpenAI(_FakeServer):
    """``POST /v1/chat/completions``, plain and streamed (usage in the last chunk when
    ``stream_options.include_usage`` is set, as the real API does)."""

    def route(self, handler: _Handler, body: dict[str, Any]) -> None:
        if handler.path.rstrip("/") != "/v1/chat/completions":
            handler.send_json(404, {"error": {"message": "not found", "type": "invalid"}})
            return
        model = body.get("model", "")
        if model == FAIL_MODEL:
            error = {"message": "model not supported", "type": "invalid_request_error"}
            handler.send_json(400, {"error": {**error, "code": "model_not_found"}})
            return
        served = f"{model}-2026-01-01"
        if body.get("stream"):
            usage = (body.get("stream_options") or {}).get("include_usage", False)
            handler.send_events(_openai_chunks(served, usage))
            return
        handler.send_json(
            200,
            {
                "id": "chatcmpl-fake-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": served,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": OPENAI_TEXT},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {**OPENAI_USAGE, "total_tokens": sum(OPENAI_USAGE.values())},
            },
        )


def _openai_chunks(model: str, usage: bool) -> Iterator[dict[str, Any] | str]:
    base = {"id": "chatcmpl-fake-2", "object": "chat.completion.chunk", "model": model}
    base["created"] = int(time.time())
    for index, piece in enumerate(OPENAI_STREAM_PIECES):
        delta: dict[str, Any] = {"content": piece}
        if index == 0:
            delta["role"] = "assistant"
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if usage:
        total = sum(OPENAI_STREAM_USAGE.values())
        yield {**base, "choices": [], "usage": {**OPENAI_STREAM_USAGE, "total_tokens": total}}
    yield "[DONE]"


class FakeGemini(_FakeServer):
    """``POST /{version}/models/{model}:generateContent`` and ``:streamGenerateContent``
    (``?alt=sse``), usage metadata in the last chunk of a stream."""

    def route(self, handler: _Handler, body: dict[str, Any]) -> None:
        path = handler.path.split("?", 1)[0]
        model, _, method = path.rsplit("/", 1)[-1].partition(":")
        if model == FAIL_MODEL:
            error = {"code": 400, "message": "model not supported", "status": "INVALID_ARGUMENT"}
            handler.send_json(400, {"error": error})
            return
        if method == "streamGenerateContent":
            handler.send_events(_gemini_chunks(f"{model}-001"))
        elif method == "generateContent":
            handler.send_json(200, _gemini_response(f"{model}-001", GEMINI_TEXT, GEMINI_USAGE))
        else:
            handler.send_json(404, {"error": {"code": 404, "message": "not found"}})


def _gemini_response(
    model: str, text: str, usage: dict[str, int] | None, finish: str | None = "STOP"
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    candidate["index"] = 0
    if finish:
        candidate["finishReason"] = finish
    response: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": model,
        "responseId": "gemini-fake-1",
    }
    if usage:
        response["usageMetadata"] = {**usage, "totalTokenCount": sum(usage.values())}
    return response


def _gemini_chunks(model: str) -> Iterator[dict[str, Any]]:
    last = len(GEMINI_STREAM_PIECES) - 1
    for index, piece in enumerate(GEMINI_STREAM_PIECES):
        done = index == last
        usage = GEMINI_STREAM_USAGE if done else None
        yield _gemini_response(model, piece, usage, "STOP" if done else None)
