"""Fixtures for the second example pipeline (examples/feedworker): the transcripts over
HTTP and the OpenAI stand-in, both on 127.0.0.1 and stopping by themselves."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stacktools.stack import REPO_ROOT
from tests.providers.fakes import FakeOpenAI

FEEDWORKER = REPO_ROOT / "examples" / "feedworker"
#: The servers outlive the whole module (several pipeline runs), then stop by themselves.
LIFETIME = 1200


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def transcripts_url() -> Iterator[str]:
    """The example's data folder over HTTP (the removed transcript answers 404)."""
    handler = functools.partial(_QuietFiles, directory=str(FEEDWORKER / "data"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    timer = threading.Timer(LIFETIME, server.shutdown)
    timer.daemon = True
    thread.start()
    timer.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    timer.cancel()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(lifetime=LIFETIME) as server:
        yield server
