"""Where a SIGTERM interrupted the main thread decides whether the exit may run there."""

from __future__ import annotations

import sys
import threading
from types import FrameType

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from podcast_kg_otel.decorators import trace_method
from podcast_kg_otel.termination import _code_roots, interrupted_in


class _FrameOfCaller(SpanProcessor):
    """Keeps the frame that called ``on_end``: the SDK, half-way through ``Span.end``."""

    frame: FrameType | None = None

    def on_end(self, span) -> None:
        self.frame = sys._getframe(1)


def test_inside_span_end_is_telemetry() -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    keeper = _FrameOfCaller()
    provider.add_span_processor(keeper)
    provider.get_tracer("t").start_span("s").end()
    assert interrupted_in(keeper.frame, _code_roots()) == "telemetry"


def test_app_code_under_our_wrapper_is_the_apps() -> None:
    """Our decorator's frame is below the app's function, holding no lock."""

    @trace_method()
    def work() -> FrameType:
        return sys._getframe()

    assert interrupted_in(work(), _code_roots()) == ""


def test_starting_a_thread_is_threading() -> None:
    """Thread.start holds threading's own locks: no flush thread may start then."""
    frames: list[FrameType] = []
    thread = threading.Thread(target=lambda: None)
    original = threading._start_new_thread  # type: ignore[attr-defined]

    def spy(*args):
        frames.append(sys._getframe(1))
        return original(*args)

    threading._start_new_thread = spy  # type: ignore[attr-defined]
    try:
        thread.start()
    finally:
        threading._start_new_thread = original  # type: ignore[attr-defined]
    thread.join()
    assert interrupted_in(frames[0], _code_roots()) == "threading"


def test_generated_code_belongs_to_its_caller() -> None:
    """The ledger builds its ``ExportStats`` snapshot (a dataclass: its ``__init__`` is
    generated, "<string>") while it holds its lock: interrupted there, the exit would wait
    for that lock forever (a pool worker hung at exit before this)."""
    from podcast_kg_otel.accounting import SpanLedger

    generated: list[FrameType] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == "<string>":
            generated.append(frame)

    sys.setprofile(profile)
    try:
        SpanLedger().snapshot()
    finally:
        sys.setprofile(None)
    assert generated, "ExportStats is built by generated code"
    assert interrupted_in(generated[0], _code_roots()) == "telemetry"


def test_restore_default_sigterm_only_replaces_ours(monkeypatch) -> None:
    import signal

    from podcast_kg_otel import termination

    def ours(signum, frame) -> None:
        pass

    ours.podcast_kg_otel_flush = True  # type: ignore[attr-defined]

    def apps(signum, frame) -> None:
        pass

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, apps)
        termination.restore_default_sigterm()
        assert signal.getsignal(signal.SIGTERM) is apps
        signal.signal(signal.SIGTERM, ours)
        termination.restore_default_sigterm()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
