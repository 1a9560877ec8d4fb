"""The traced segment stream returned in place of faster-whisper's lazy generator.

An iterator class, not a generator function: a generator that was never started runs
no `finally` on close or garbage collection, so it could not end the span. The run's
context is attached only around the inner `next()`, so spans made by code running
inside the decoding get the transcription span as parent, while the caller's context
is untouched between iterations.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from time import perf_counter
from typing import Any

from opentelemetry import context

from podcast_kg_otel_faster_whisper import attributes as attr
from podcast_kg_otel_faster_whisper.run import TranscriptionRun


class TracedSegments(Iterator[Any]):
    """Yields exactly the inner segments, lazily, and ends the run's span when done."""

    def __init__(self, inner: Iterable[Any], run: TranscriptionRun) -> None:
        self._inner = iter(inner)
        self._run = run
        # Ends the span as "abandoned" if this iterator is dropped unfinished.
        run.finalizer = weakref.finalize(self, run.finish, attr.END_ABANDONED)

    def __iter__(self) -> TracedSegments:
        return self

    def __next__(self) -> Any:
        run = self._run
        if run.ended:
            return next(self._inner)
        token = context.attach(run.context)
        started = perf_counter()
        try:
            try:
                segment = next(self._inner)
            finally:
                elapsed = perf_counter() - started
                context.detach(token)
        except StopIteration:
            run.add_compute(elapsed)
            run.finish(attr.END_EXHAUSTED)
            raise
        except BaseException as error:
            run.add_compute(elapsed)
            run.finish(attr.END_ERROR, error)
            raise
        run.observe(segment, elapsed)
        return segment

    def close(self) -> None:
        """Stop early, like `generator.close()`; the span ends as "closed"."""
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._run.finish(attr.END_CLOSED)
