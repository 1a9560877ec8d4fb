"""Tail sampling with a remote strategy: the strategy decides the error-free traces (by
the local root's name), every trace with an error is kept whole, and the configuration
wires the shared remote sampler into the tail."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import build_sampler, build_span_processor
from podcast_kg_otel.exporting import QuietSpanExporter
from podcast_kg_otel.remote_sampling import JaegerRemoteSampler
from podcast_kg_otel.runtime import RuntimeSettings
from podcast_kg_otel.sampling import TailSamplingProcessor

from .conftest import ScriptedEndpoint

PER_OPERATION = {
    "strategyType": 0,
    "probabilisticSampling": {"samplingRate": 0.0},
    "operationSampling": {
        "defaultSamplingProbability": 0.0,
        "perOperationStrategies": [
            {"operation": "always-kept", "probabilisticSampling": {"samplingRate": 1.0}}
        ],
    },
}


def _tail(
    endpoint: ScriptedEndpoint, body: dict, **options
) -> tuple[TailSamplingProcessor, InMemorySpanExporter, trace.Tracer]:
    endpoint.answer(body)
    sampler = JaegerRemoteSampler(endpoint.url, service_name="s", start=False)
    assert sampler.poll_once()
    memory = InMemorySpanExporter()
    tail = TailSamplingProcessor(SimpleSpanProcessor(memory), sampler, **options)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(tail)
    return tail, memory, provider.get_tracer("t")


def _run(tracer: trace.Tracer, root: str, fail: bool) -> None:
    with tracer.start_as_current_span(root):
        with tracer.start_as_current_span("step.a"):
            pass
        with tracer.start_as_current_span("step.b") as step:
            if fail:
                step.set_status(Status(StatusCode.ERROR, "boom"))


def _by_trace(memory: InMemorySpanExporter) -> dict[int, list[str]]:
    traces: dict[int, list[str]] = {}
    for span in memory.get_finished_spans():
        traces.setdefault(span.context.trace_id, []).append(span.name)
    return traces


def test_every_error_trace_is_kept_whole_under_a_zero_strategy(
    endpoint: ScriptedEndpoint,
) -> None:
    tail, memory, tracer = _tail(endpoint, {"probabilisticSampling": {"samplingRate": 0.0}})
    for index in range(200):
        _run(tracer, "job", fail=index % 4 == 0)
    traces = _by_trace(memory)
    assert len(traces) == 50
    assert all(sorted(names) == ["job", "step.a", "step.b"] for names in traces.values())
    assert tail.stats["traces_kept_error"] == 50 and tail.stats["traces_dropped"] == 150


def test_the_strategy_decides_healthy_traces_by_the_root_name(
    endpoint: ScriptedEndpoint,
) -> None:
    tail, memory, tracer = _tail(endpoint, PER_OPERATION)
    for index in range(60):
        _run(tracer, "always-kept" if index % 2 else "other", fail=index % 10 == 0)
    roots = [names[-1] for names in _by_trace(memory).values()]
    # 30 always-kept roots, plus the 6 failing "other" roots.
    assert roots.count("always-kept") == 30 and roots.count("other") == 6
    assert tail.stats["traces_kept_strategy"] == 30


def test_early_decisions_use_the_root_name_seen_at_start(endpoint: ScriptedEndpoint) -> None:
    tail, memory, tracer = _tail(endpoint, PER_OPERATION, max_traces=1)
    first = tracer.start_span("always-kept")
    tracer.start_span("child-1", context=trace.set_span_in_context(first)).end()
    second = tracer.start_span("other")
    # The second trace's first span pushes the first trace out, decided before its root
    # ended: by the name its root started with.
    tracer.start_span("child-2", context=trace.set_span_in_context(second)).end()
    assert tail.stats["early_capacity"] == 1
    assert [s.name for s in memory.get_finished_spans()] == ["child-1"]
    first.end()  # a late span follows its trace's decision
    second.end()
    assert [s.name for s in memory.get_finished_spans()] == ["child-1", "always-kept"]


def _processor(config: TracingConfig) -> TailSamplingProcessor:
    processor = build_span_processor(config, QuietSpanExporter(InMemorySpanExporter(), "m"))
    assert isinstance(processor, TailSamplingProcessor)
    return processor


@pytest.mark.parametrize("name", ["jaeger_remote", "parentbased_jaeger_remote"])
def test_the_configuration_hands_the_remote_strategy_to_the_tail(
    endpoint: ScriptedEndpoint, name: str
) -> None:
    arg = f"endpoint={endpoint.url},pollingIntervalMs=3600000"
    config = TracingConfig(
        service_name="tail-svc",
        sampler=name,
        sampler_arg=arg,
        runtime=RuntimeSettings(tail_sampling=True),
    )
    # The head records everything so the tail can see errors.
    assert build_sampler(config).get_description().startswith("ParentBased{root:AlwaysOnSampler")
    processor = _processor(config)
    try:
        assert isinstance(processor.strategy, JaegerRemoteSampler) and processor.ratio is None
        assert processor.strategy.service_name == "tail-svc"
        assert processor.strategy is _processor(config).strategy  # one poller
    finally:
        processor.strategy.stop()
        processor.shutdown()


def test_an_explicit_tail_ratio_beats_the_remote_strategy(endpoint: ScriptedEndpoint) -> None:
    config = TracingConfig(
        sampler="parentbased_jaeger_remote",
        sampler_arg=f"endpoint={endpoint.url},pollingIntervalMs=3600001",
        runtime=RuntimeSettings(tail_sampling=True, tail_ratio=0.3),
    )
    processor = _processor(config)
    assert processor.strategy is None and processor.ratio == 0.3
    processor.shutdown()
