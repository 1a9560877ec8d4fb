"""The PODCAST_KG_OTEL_* run-time settings and how the configurator applies them."""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import build_sampler, build_span_processor
from podcast_kg_otel.exporting import CountingBatchSpanProcessor, QuietSpanExporter
from podcast_kg_otel.runtime import RuntimeSettings
from podcast_kg_otel.sampling import TailSamplingProcessor


def test_defaults() -> None:
    settings = RuntimeSettings.from_env({})
    assert settings == RuntimeSettings()
    assert settings.lazy_instrumentation and settings.fork_handlers and settings.sigterm_flush
    assert settings.exit_timeout == 0.5 and not settings.tail_sampling


def test_values_from_the_environment() -> None:
    settings = RuntimeSettings.from_env(
        {
            "PODCAST_KG_OTEL_LAZY_INSTRUMENTATION": "false",
            "PODCAST_KG_OTEL_EXIT_TIMEOUT_MS": "250",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO": "0.25",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_SLOW_MS": "1500",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES": "10",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS": "100",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_TIMEOUT_MS": "60000",
            "PODCAST_KG_OTEL_TRACED_FUNCTIONS": "a:b",
            "PODCAST_KG_OTEL_FORK_HANDLERS": "no",
            "PODCAST_KG_OTEL_FLUSH_ON_SIGTERM": "false",
        }
    )
    assert not settings.lazy_instrumentation and not settings.fork_handlers
    assert not settings.sigterm_flush
    assert settings.exit_timeout == 0.25
    assert settings.tail_sampling and settings.tail_ratio == 0.25  # the ratio turns it on
    assert settings.tail_slow_threshold == 1.5
    assert (settings.tail_max_traces, settings.tail_max_spans) == (10, 100)
    assert settings.tail_trace_timeout == 60.0 and settings.traced_functions == "a:b"


def test_bad_values_warn_once_each_and_fall_back(caplog) -> None:
    caplog.set_level(logging.WARNING)
    settings = RuntimeSettings.from_env(
        {
            "PODCAST_KG_OTEL_TAIL_SAMPLING": "maybe",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO": "1.5",
            "PODCAST_KG_OTEL_EXIT_TIMEOUT_MS": "soon",
            "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS": "0",
        }
    )
    assert settings.exit_timeout == 0.5 and settings.tail_max_spans == 20000
    assert settings.tail_ratio is None and settings.tail_sampling  # a ratio was asked for
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4
    for name, raw in [
        ("PODCAST_KG_OTEL_TAIL_SAMPLING", "maybe"),
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO", "1.5"),
        ("PODCAST_KG_OTEL_EXIT_TIMEOUT_MS", "soon"),
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS", "0"),
    ]:
        assert any(name + "=" in m and repr(raw) in m for m in messages), name


def test_tail_sampling_takes_the_head_ratio_and_records_everything() -> None:
    config = TracingConfig(
        sampling_rate=0.2, runtime=RuntimeSettings(tail_sampling=True, tail_max_traces=7)
    )
    sampler = build_sampler(config)
    assert sampler.get_description().startswith("ParentBased{root:AlwaysOnSampler")
    processor = build_span_processor(config, QuietSpanExporter(InMemorySpanExporter(), "memory"))
    assert isinstance(processor, TailSamplingProcessor)
    assert processor.ratio == 0.2 and processor.max_traces == 7
    assert isinstance(processor.next_processor, CountingBatchSpanProcessor)
    processor.shutdown()
    plain = build_span_processor(TracingConfig(), QuietSpanExporter(InMemorySpanExporter(), "m"))
    assert isinstance(plain, CountingBatchSpanProcessor)
    plain.shutdown()


def test_tail_sampling_under_an_always_off_head_sampler_keeps_only_error_traces() -> None:
    for name in ("always_off", "parentbased_always_off"):
        config = TracingConfig(sampler=name, runtime=RuntimeSettings(tail_sampling=True))
        processor = build_span_processor(config, QuietSpanExporter(InMemorySpanExporter(), "m"))
        assert isinstance(processor, TailSamplingProcessor)
        assert processor.ratio == 0.0, name
        processor.shutdown()
    always_on = TracingConfig(sampler="always_on", runtime=RuntimeSettings(tail_sampling=True))
    processor = build_span_processor(always_on, QuietSpanExporter(InMemorySpanExporter(), "m"))
    assert processor.ratio == 1.0
    processor.shutdown()
