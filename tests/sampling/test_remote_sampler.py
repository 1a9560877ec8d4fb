"""The jaeger_remote sampler against a scripted sampling endpoint: polling, the strategy
in force, malformed answers and outages (one warning, last good strategy kept), its
settings, its entry points under our configurator and the stock one, and fork safety."""

from __future__ import annotations

import logging
import os
import threading

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased

from podcast_kg_otel.remote_sampling import (
    JaegerRemoteSampler,
    RemoteSettings,
    settings_from_arg,
    shared_sampler,
)
from podcast_kg_otel.remote_sampling.sampler import DEFAULT_INITIAL_SAMPLING_RATE
from podcast_kg_otel.remote_sampling.strategies import PER_OPERATION, PROBABILISTIC, Strategy

from .conftest import ScriptedEndpoint, random_trace_ids

HALF = {"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.5}}
NONE = {"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.0}}


def _sampler(endpoint: ScriptedEndpoint, **options) -> JaegerRemoteSampler:
    return JaegerRemoteSampler(endpoint.url, service_name="svc a", start=False, **options)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.remote_sampling"]


def test_asks_for_the_service_and_applies_the_answer(endpoint: ScriptedEndpoint) -> None:
    endpoint.answer(HALF)
    sampler = _sampler(endpoint, initial_sampling_rate=0.0)
    assert sampler.strategy == Strategy(PROBABILISTIC, 0.0) and not sampler.from_remote
    assert "initial, no strategy from Jaeger yet" in sampler.get_description()
    assert sampler.poll_once()
    assert endpoint.requests == ["/?service=svc%20a"]
    assert sampler.strategy == Strategy(PROBABILISTIC, 0.5)
    assert sampler.get_description() == (
        f"JaegerRemoteSampler{{probabilistic(samplingRate=0.5), from Jaeger, "
        f"endpoint={endpoint.url}}}"
    )


def test_an_endpoint_path_is_kept(endpoint: ScriptedEndpoint) -> None:
    endpoint.answer(HALF)
    sampler = JaegerRemoteSampler(f"{endpoint.url}/sampling", service_name="s", start=False)
    assert sampler.poll_once()
    assert endpoint.requests == ["/sampling?service=s"]


def test_malformed_answers_warn_once_and_keep_the_last_good_strategy(
    endpoint: ScriptedEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    sampler = _sampler(endpoint)
    endpoint.answer(HALF)
    assert sampler.poll_once()
    for body in (b"<html>", {"strategyType": 9}, {"probabilisticSampling": {"samplingRate": 2}}):
        endpoint.answer(body)
        assert not sampler.poll_once()
        assert sampler.strategy == Strategy(PROBABILISTIC, 0.5)
    (warning,) = _warnings(caplog)
    assert "sent an unusable strategy (not JSON" in warning
    assert "keeping probabilistic(samplingRate=0.5)" in warning
    assert "from Jaeger" in sampler.get_description()


def test_an_outage_warns_once_and_a_recovery_rearms_the_warning(
    endpoint: ScriptedEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    sampler = _sampler(endpoint)
    endpoint.answer(b"collector error", status=500)
    assert not sampler.poll_once() and not sampler.poll_once()
    assert sampler.strategy == Strategy(PROBABILISTIC, DEFAULT_INITIAL_SAMPLING_RATE)
    endpoint.answer(NONE)
    assert sampler.poll_once()
    endpoint.answer(b"", status=503)
    assert not sampler.poll_once()
    assert sampler.strategy == Strategy(PROBABILISTIC, 0.0)
    first, second = _warnings(caplog)
    assert (
        "did not answer (HTTP Error 500" in first
        and "keeping probabilistic(samplingRate=0.001)" in first
    )
    assert (
        "did not answer (HTTP Error 503" in second
        and "keeping probabilistic(samplingRate=0)" in second
    )


def test_an_unreachable_endpoint_keeps_the_initial_rate(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    sampler = JaegerRemoteSampler(
        "http://127.0.0.1:9", service_name="s", start=False, initial_sampling_rate=0.25
    )
    assert not sampler.poll_once()
    assert sampler.strategy == Strategy(PROBABILISTIC, 0.25)
    (warning,) = _warnings(caplog)
    assert "http://127.0.0.1:9 did not answer" in warning


def test_decisions_never_wait_for_the_endpoint(endpoint: ScriptedEndpoint) -> None:
    endpoint.answer(HALF)
    endpoint.release.clear()  # the endpoint holds every request until released
    sampler = JaegerRemoteSampler(
        endpoint.url, service_name="s", initial_sampling_rate=1.0, polling_interval=0.05
    )
    try:
        while not endpoint.requests:
            threading.Event().wait(0.01)
        # The poll is in flight and blocked; decisions use the initial rate meanwhile.
        results = [sampler.should_sample(None, t, "op") for t in random_trace_ids(100)]
        assert all(r.decision is Decision.RECORD_AND_SAMPLE for r in results)
        endpoint.release.set()
        for _ in range(500):
            if sampler.from_remote:
                break
            threading.Event().wait(0.01)
        assert sampler.strategy == Strategy(PROBABILISTIC, 0.5)
    finally:
        sampler.stop()
        endpoint.release.set()


def test_the_polling_thread_follows_changes(endpoint: ScriptedEndpoint) -> None:
    endpoint.answer(HALF)
    sampler = JaegerRemoteSampler(endpoint.url, service_name="s", polling_interval=0.05)
    try:
        for _ in range(500):
            if sampler.from_remote:
                break
            threading.Event().wait(0.01)
        endpoint.answer({"operationSampling": {"defaultSamplingProbability": 0.1}})
        for _ in range(500):
            if sampler.strategy.kind == PER_OPERATION:
                break
            threading.Event().wait(0.01)
        assert sampler.strategy == Strategy(PER_OPERATION, 0.1)
        thread = sampler._thread
        assert thread is not None and thread.daemon
    finally:
        sampler.stop()


def test_settings_from_the_sampler_argument() -> None:
    arg = "endpoint=http://jaeger:5778,pollingIntervalMs=2500,initialSamplingRate=0.25"
    assert settings_from_arg(arg, {}) == RemoteSettings("http://jaeger:5778", 2.5, 0.25)
    assert settings_from_arg(None, {}) == RemoteSettings("http://127.0.0.1:5778", 60.0, 0.001)
    legacy = {"JAEGER_HOST": "jaeger.obs", "TRACING_SAMPLING_RATE": "0.3"}
    assert settings_from_arg("", legacy) == RemoteSettings("http://jaeger.obs:5778", 60.0, 0.3)
    # An explicit initialSamplingRate beats the legacy rate.
    assert settings_from_arg("initialSamplingRate=0.5", legacy).initial_sampling_rate == 0.5


def test_bad_legacy_values_mean_what_their_one_warning_says(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    legacy = {"JAEGER_HOST": "http://jaeger:16686/", "TRACING_SAMPLING_RATE": "lots"}
    for _ in range(2):
        settings = settings_from_arg("", legacy)
    assert settings == RemoteSettings("http://127.0.0.1:5778", 60.0, 1.0)
    messages = sorted(r.getMessage() for r in caplog.records)
    assert len(messages) == 2, messages
    assert messages[0].startswith("JAEGER_HOST='http://jaeger:16686/' is invalid")
    assert messages[1].startswith("TRACING_SAMPLING_RATE='lots' is invalid")
    assert messages[1].endswith("using 1.0 instead")


def test_bad_sampler_arguments_warn_once_each_and_use_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    arg = "endpoint=jaeger:5778,pollingIntervalMs=soon,initialSamplingRate=2,colour=blue"
    settings = settings_from_arg(arg, {})
    assert settings == RemoteSettings("http://127.0.0.1:5778", 60.0, 0.001)
    settings_from_arg(arg, {})
    messages = sorted(r.getMessage() for r in caplog.records)
    assert messages == [
        "OTEL_TRACES_SAMPLER_ARG colour='blue' is invalid (unknown key); using 'nothing' instead",
        "OTEL_TRACES_SAMPLER_ARG endpoint='jaeger:5778' is invalid (expected a URL like "
        "http://host:5778); using 'http://127.0.0.1:5778' instead",
        "OTEL_TRACES_SAMPLER_ARG initialSamplingRate='2' is invalid (expected a rate in 0..1);"
        " using 0.001 instead",
        "OTEL_TRACES_SAMPLER_ARG pollingIntervalMs='soon' is invalid (expected milliseconds,"
        " 1 to a day); using 60000 instead",
    ]
    assert settings_from_arg("pollingIntervalMs=inf", {}).polling_interval == 60.0


def test_kept_roots_carry_the_tags_jaeger_adaptive_sampling_reads(
    endpoint: ScriptedEndpoint,
) -> None:
    endpoint.answer({"strategyType": 0, "probabilisticSampling": {"samplingRate": 1.0}})
    sampler = _sampler(endpoint)
    assert sampler.poll_once()
    memory = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(sampler), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    with (
        tracer.start_as_current_span("root", attributes={"episode": 3}),
        tracer.start_as_current_span("child", attributes={"step": "a"}),
    ):
        pass
    child, root = memory.get_finished_spans()
    assert root.attributes == {"episode": 3, "sampler.type": "probabilistic", "sampler.param": 1.0}
    assert child.attributes == {"step": "a"}  # children follow the parent
    assert child.parent.span_id == root.context.span_id


def test_parentbased_children_follow_the_root_under_a_zero_strategy(
    endpoint: ScriptedEndpoint,
) -> None:
    endpoint.answer(NONE)
    sampler = _sampler(endpoint)
    assert sampler.poll_once()
    provider = TracerProvider(sampler=ParentBased(sampler), shutdown_on_exit=False)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    remote = trace.NonRecordingSpan(
        trace.SpanContext(3, 4, is_remote=True, trace_flags=trace.TraceFlags(1))
    )
    with tracer.start_as_current_span("dropped-root"), tracer.start_as_current_span("child"):
        pass
    with tracer.start_as_current_span("kept", context=trace.set_span_in_context(remote)):
        pass
    assert [s.name for s in memory.get_finished_spans()] == ["kept"]


def test_the_entry_points_build_one_shared_sampler(endpoint: ScriptedEndpoint) -> None:
    from podcast_kg_otel import components

    arg = f"endpoint={endpoint.url},pollingIntervalMs=60000"
    plain = components.load(components.SAMPLER_GROUP, "jaeger_remote")(arg)
    parent_based = components.load(components.SAMPLER_GROUP, "parentbased_jaeger_remote")(arg)
    try:
        assert isinstance(plain, JaegerRemoteSampler)
        assert isinstance(parent_based, ParentBased) and parent_based._root is plain
        assert shared_sampler(arg, service_name="named") is plain
        assert plain.service_name == "named"
        assert "JaegerRemoteSampler{" in parent_based.get_description()
    finally:
        plain.stop()


def test_the_stock_sdk_configurator_builds_it(
    endpoint: ScriptedEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk._configuration import _import_sampler

    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", f"endpoint={endpoint.url},pollingIntervalMs=123")
    sampler = _import_sampler("parentbased_jaeger_remote")
    assert isinstance(sampler, ParentBased)
    root = sampler._root
    try:
        assert isinstance(root, JaegerRemoteSampler)
        assert (root.endpoint, root.polling_interval) == (endpoint.url, 0.123)
    finally:
        root.stop()


def test_the_service_name_comes_from_the_installed_provider(
    endpoint: ScriptedEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.resources import Resource

    endpoint.answer(HALF)
    provider = TracerProvider(resource=Resource({"service.name": "from-resource"}))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    sampler = JaegerRemoteSampler(endpoint.url, start=False)
    assert sampler.poll_once()
    assert endpoint.requests == ["/?service=from-resource"]


def test_a_forked_child_polls_from_its_own_thread(endpoint: ScriptedEndpoint) -> None:
    endpoint.answer(HALF)
    sampler = JaegerRemoteSampler(endpoint.url, service_name="s", polling_interval=0.05)
    try:
        while not sampler.from_remote:
            threading.Event().wait(0.01)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: only a poller of its own can pick up the change
            status = 1
            try:
                os.close(read_end)
                for _ in range(500):
                    if sampler.strategy.rate == 0.0:
                        break
                    threading.Event().wait(0.01)
                os.write(write_end, f"{sampler.strategy.rate}".encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        endpoint.answer(NONE)
        with os.fdopen(read_end) as pipe:
            report = pipe.read()
        os.waitpid(pid, 0)
        assert report == "0.0"
    finally:
        sampler.stop()
