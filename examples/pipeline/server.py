"""A small local HTTP server for the bundled feed and audio, so the demo needs no internet."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

logger = logging.getLogger(__name__)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files; access lines go to `logging` at DEBUG instead of stderr."""

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("media server: " + format, *args)


@contextmanager
def serve_directory(directory: Path, port: int = 0) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 in a background thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="media-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
