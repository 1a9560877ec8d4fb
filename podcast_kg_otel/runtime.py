"""Wiring for the run-time behaviours: lazy instrumentation, quiet bounded export and exit,
tail sampling, traced functions and fork handling. Their settings (``RuntimeSettings``) are
the configuration layer's (``podcast_kg_otel.settings``).

The configurator calls three functions: ``quiet_exporter`` around each exporter factory,
``export_processor`` for the batch processor over it (wrapped in tail sampling when that
is on), and ``install`` once the provider is global.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from podcast_kg_otel_util.failopen import guard, log_once

from podcast_kg_otel.settings.runtime_settings import RuntimeSettings

_logger = logging.getLogger("podcast_kg_otel.runtime")

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter

    from podcast_kg_otel.exporting import QuietSpanExporter
    from podcast_kg_otel.sampling import TraceStrategy


def quiet_exporter(
    settings: RuntimeSettings,
    factory: SpanExporter | Callable[[], SpanExporter],
    endpoint: str,
    exit_imports: Sequence[str] = (),
) -> QuietSpanExporter:
    """The exporter built on first use, failing quietly (see ``exporting``)."""
    from podcast_kg_otel.exporting import QuietSpanExporter

    return QuietSpanExporter(
        factory,
        endpoint,
        warn_interval=settings.export_warning_interval,
        exit_imports=exit_imports,
    )


def export_processor(
    settings: RuntimeSettings,
    exporter: SpanExporter,
    head_ratio: float | TraceStrategy | None,
    batch: bool = True,
    **batch_options: Any,
) -> SpanProcessor:
    """The (counting) batch or simple processor over ``exporter``, behind tail sampling
    when that is on.

    The tail ratio is ``PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO``, else the configured ratio
    sampler's share (``head_ratio``: its rate, 0 for the always-off samplers, the remote
    strategy for the ``jaeger_remote`` samplers), else 1.0.
    """
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from podcast_kg_otel.accounting import track
    from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter
    from podcast_kg_otel.sampling import TailSamplingProcessor

    if not isinstance(exporter, QuietSpanExporter):
        exporter = quiet_exporter(settings, exporter, type(exporter).__name__)
    track(exporter.ledger)  # read by podcast_kg_otel.export_stats()
    processor: SpanProcessor = (
        CountingBatchSpanProcessor(exporter, **batch_options)
        if batch
        else SimpleSpanProcessor(exporter)
    )
    if not settings.tail_sampling:
        return processor
    ratio = settings.tail_ratio if settings.tail_ratio is not None else head_ratio
    return TailSamplingProcessor(
        processor,
        1.0 if ratio is None else ratio,
        slow_threshold=settings.tail_slow_threshold,
        max_traces=settings.tail_max_traces,
        max_spans=settings.tail_max_spans,
        trace_timeout=settings.tail_trace_timeout,
    )


def _processors(provider: Any) -> Iterator[Any]:
    """Our processors inside the provider's multi-processor (fail-open walk)."""
    active = getattr(provider, "_active_span_processor", None)
    for processor in getattr(active, "_span_processors", ()):
        yield processor
        inner = getattr(processor, "next_processor", None)
        if inner is not None:
            yield inner


def install(provider: Any, settings: RuntimeSettings, other_signals: bool = False) -> None:
    """Open-span tracking, the bounded exit (also on SIGTERM), fork handlers and traced
    functions.

    With ``other_signals`` the global meter and logger providers get the same bounded exit.
    """
    try:
        _install(provider, settings, other_signals)
    except Exception:
        log_once(
            _logger,
            "runtime-install",
            "podcast-kg-otel: exit/fork/traced-function set-up failed; spans still export",
        )


def _install_context(settings: RuntimeSettings, batch: list[Any]) -> None:
    """Context into threads and process pools (``threads``, ``processes``)."""
    if settings.thread_context:
        from podcast_kg_otel import threads

        threads.instrument()
    if settings.process_context:
        from podcast_kg_otel import processes

        processes.instrument(batch, settings.exit_timeout)


def _install(provider: Any, settings: RuntimeSettings, other_signals: bool) -> None:
    from podcast_kg_otel.exiting import EXIT_EXTENSION, ExitHandler, OpenSpanTracker
    from podcast_kg_otel.exporting import CountingBatchSpanProcessor
    from podcast_kg_otel.fork import install_fork_handlers
    from podcast_kg_otel.sampling import TailSamplingProcessor

    tracker = OpenSpanTracker()
    provider.add_span_processor(tracker)
    processors = list(_processors(provider))
    batch = [p for p in processors if isinstance(p, CountingBatchSpanProcessor)]
    with guard(_logger, "thread/process context set-up"):  # independent of the rest
        _install_context(settings, batch)
    exit_handler = ExitHandler(settings.exit_timeout, tracker, batch)
    exit_handler.add_provider(provider)
    if other_signals:
        from opentelemetry._logs import get_logger_provider
        from opentelemetry.metrics import get_meter_provider

        for other in (get_meter_provider(), get_logger_provider()):
            if hasattr(other, "shutdown"):
                exit_handler.add_provider(other)
    if settings.exit_summary:  # before the bounded exit's atexit, so it prints after it
        from podcast_kg_otel.exit_summary import install_exit_summary

        install_exit_summary(provider)
    exit_handler.install()
    if settings.sigterm_flush:
        from podcast_kg_otel.termination import install_sigterm_flush

        install_sigterm_flush(exit_handler, settings.exit_timeout + EXIT_EXTENSION)
    if settings.fork_handlers:
        resettables = [tracker, exit_handler, *batch]
        resettables += [p for p in processors if isinstance(p, TailSamplingProcessor)]
        resettables += [p.quiet_exporter for p in batch]
        install_fork_handlers(provider, resettables, exit_flush=exit_handler.run)
    if settings.traced_functions.strip():
        from podcast_kg_otel.functions import install_traced_functions

        install_traced_functions(settings.traced_functions)
    if settings.run_span:  # last: its atexit end runs before the bounded exit's
        from podcast_kg_otel.run_span import start_run_span

        start_run_span(provider)
