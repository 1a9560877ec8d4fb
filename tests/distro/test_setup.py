"""The configurator's building blocks, the distro and the start-up hook, in process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import Decision

from podcast_kg_otel import _early, instrumentation
from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import build_exporter, build_sampler, configure_sdk, load_config
from podcast_kg_otel.distro import PodcastKgOtelDistro
from podcast_kg_otel.instrumentation import instrument_all
from podcast_kg_otel.propagation import inject_context, install_propagators
from podcast_kg_otel.resource import build_resource

AUTO_DIR = os.path.join("site-packages", "opentelemetry", "instrumentation", "auto_instrumentation")


@pytest.fixture
def restore_textmap() -> Iterator[None]:
    original = propagate.get_global_textmap()
    yield
    propagate.set_global_textmap(original)


def _decision(config: TracingConfig, trace_id: int) -> Decision:
    return build_sampler(config).should_sample(None, trace_id, "span").decision


def test_sampler_from_sampling_rate_is_parent_based_ratio() -> None:
    sampler = build_sampler(TracingConfig(sampling_rate=0.25))
    assert sampler.get_description().startswith("ParentBased{root:TraceIdRatioBased{0.25},")
    assert _decision(TracingConfig(sampler="always_off"), 1) is Decision.DROP
    assert _decision(TracingConfig(sampling_rate=0.0), 2**100) is Decision.DROP
    assert _decision(TracingConfig(sampling_rate=1.0), 2**100) is Decision.RECORD_AND_SAMPLE


def test_sampler_that_cannot_be_built_falls_back_with_one_warning(
    our_warnings: Callable[[], list[str]],
) -> None:
    sampler = build_sampler(TracingConfig(sampler="traceidratio", sampler_arg="half"))
    assert sampler.get_description().startswith("ParentBased{root:AlwaysOnSampler")
    (message,) = our_warnings()
    assert "'traceidratio'" in message and "parentbased_always_on" in message


@pytest.mark.parametrize(
    ("config", "name", "kind", "endpoint"),
    [
        (TracingConfig(), "otlp", HttpExporter, "http://127.0.0.1:4318/v1/traces"),
        (TracingConfig(jaeger_host="jaeger", jaeger_port=4317), "otlp", GrpcExporter, None),
        (TracingConfig(), "otlp_proto_grpc", GrpcExporter, None),
        (
            TracingConfig(protocol="grpc"),
            "otlp_proto_http",
            HttpExporter,
            "http://127.0.0.1:4318/v1/traces",
        ),
        (TracingConfig(), "console", ConsoleSpanExporter, None),
    ],
)
def test_exporter_per_name_and_protocol(
    config: TracingConfig, name: str, kind: type, endpoint: str | None
) -> None:
    exporter = build_exporter(config, name)
    try:
        assert isinstance(exporter, kind)
        if endpoint is not None:
            assert exporter._endpoint == endpoint
    finally:
        exporter.shutdown()


def test_tracing_off_installs_no_provider_but_still_the_propagators(restore_textmap: None) -> None:
    assert configure_sdk(TracingConfig(exporters=(), propagators=("tracecontext",))) is None
    assert [type(p).__name__ for p in propagate.get_global_textmap()._propagators] == [
        "TraceContextTextMapPropagator"
    ]


def test_a_propagator_that_fails_to_load_is_skipped_with_one_warning(
    restore_textmap: None, caplog: pytest.LogCaptureFixture
) -> None:
    from podcast_kg_otel_util import failopen

    failopen._logged.clear()
    installed = install_propagators(("tracecontext", "no-such-propagator", "baggage"))
    assert [type(p).__name__ for p in installed._propagators] == [
        "TraceContextTextMapPropagator",
        "W3CBaggagePropagator",
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.propagation"] == [
        "podcast-kg-otel: propagator 'no-such-propagator' failed to load; skipping it"
    ]


def test_propagators_take_effect_whatever_the_import_order(
    restore_textmap: None, provider: TracerProvider
) -> None:
    from opentelemetry import baggage
    from opentelemetry import context as context_api

    install_propagators(("tracecontext",))
    with provider.get_tracer("t").start_as_current_span("s"):
        token = context_api.attach(baggage.set_baggage("k", "v"))
        try:
            headers = inject_context()
        finally:
            context_api.detach(token)
    assert set(headers) == {"traceparent"}
    install_propagators(())
    assert inject_context() == {}


def test_resource_has_service_process_host_and_distro_attributes() -> None:
    config = TracingConfig(
        service_name="svc",
        service_version="2.0",
        environment="prod",
        resource_attributes={"host.name": "overridden", "team": "kg"},
    )
    attributes = build_resource(config).attributes
    assert attributes["service.name"] == "svc"
    assert attributes["service.version"] == "2.0"
    assert attributes["deployment.environment.name"] == "prod"
    assert len(attributes["service.instance.id"]) == 36
    assert attributes["process.pid"] == os.getpid()
    assert attributes["process.runtime.name"] == "cpython"
    assert attributes["host.name"] == "overridden" and attributes["team"] == "kg"
    assert attributes["host.arch"]
    assert attributes["telemetry.distro.name"] == "podcast-kg-otel"
    assert attributes["telemetry.distro.version"]
    assert "process.command_args" not in attributes


#: What every resource carries whatever the detectors: identity, then service_instance.
IDENTITY = {
    "service.name",
    "service.version",
    "service.instance.id",
    "deployment.environment.name",
    "telemetry.sdk.language",
    "telemetry.sdk.name",
    "telemetry.sdk.version",
    "telemetry.distro.name",
    "telemetry.distro.version",
}


@pytest.mark.parametrize(
    ("detectors", "expected"),
    [
        ("otel", IDENTITY),
        ("service_instance,otel", IDENTITY),
        ("os", IDENTITY | {"os.type", "os.version"}),
        (
            " host , os,os",
            IDENTITY | {"host.name", "host.arch", "host.id", "os.type", "os.version"},
        ),
    ],
)
def test_resource_detectors_variable_chooses_what_fills_the_resource(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    detectors: str,
    expected: set[str],
) -> None:
    monkeypatch.setenv("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", detectors)
    attributes = build_resource(TracingConfig.from_env()).attributes
    assert set(attributes) == expected
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_resource_detectors_star_takes_every_installed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "*")
    config = TracingConfig.from_env()
    assert config.resource_detectors == ("host", "os", "process")
    attributes = build_resource(config).attributes
    assert {"host.arch", "os.type", "process.pid"} <= set(attributes)


def test_a_resource_detector_that_fails_to_load_is_left_out_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(group: str, name: str) -> object:
        raise ImportError(f"no module for {name}")

    monkeypatch.setattr("podcast_kg_otel.components.load", broken)
    config = TracingConfig(resource_detectors=("os", "containerid"))
    for _ in range(2):
        attributes = build_resource(config).attributes
    assert attributes["os.type"] and "process.pid" not in attributes
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "resource detector 'containerid'" in warnings[0], warnings


def test_bad_resource_attributes_give_our_one_warning_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Upstream's Resource.create() would parse the variable again and warn twice more.
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=kg,broken,=x")
    config = TracingConfig.from_env()
    attributes = build_resource(config).attributes
    assert attributes["team"] == "kg" and "broken" not in attributes
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.name for r in warnings] == ["podcast_kg_otel_util.env"], [
        r.getMessage() for r in warnings
    ]


def test_distro_selects_our_configurator_and_maps_legacy_flags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_PYTHON_CONFIGURATOR", raising=False)
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "urllib3")
    monkeypatch.setenv("INSTRUMENT_REDIS", "false")
    monkeypatch.setenv("INSTRUMENT_WHISPER", "false")
    PodcastKgOtelDistro().configure()
    assert os.environ["OTEL_PYTHON_CONFIGURATOR"] == "podcast_kg_otel"
    assert os.environ["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] == (
        "podcast_kg_faster_whisper,redis,urllib3"
    )


class _EntryPoint:
    def __init__(self, name: str, target: object) -> None:
        self.name = name
        self._target = target

    def load(self) -> object:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


class _Failing:
    def instrument(self, **kwargs: object) -> None:
        raise RuntimeError("instrumentor bug")


def test_distro_skips_a_failing_instrumentor_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("PODCAST_KG_OTEL_LAZY_INSTRUMENTATION", "false")
    distro = PodcastKgOtelDistro()
    distro.load_instrumentor(_EntryPoint("broken", _Failing), skip_dep_check=True)
    distro.load_instrumentor(_EntryPoint("broken", _Failing), skip_dep_check=True)
    (message,) = our_warnings()
    assert "'broken'" in message
    with pytest.raises(ModuleNotFoundError):  # the upstream loader reports this one itself
        distro.load_instrumentor(_EntryPoint("missing", ModuleNotFoundError("x")))


def test_strict_mode_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODCAST_KG_OTEL_STRICT", "true")
    monkeypatch.setenv("TRACING_SAMPLING_RATE", "often")
    with pytest.raises(SystemExit, match="TRACING_SAMPLING_RATE='often'"):
        load_config()


@pytest.mark.parametrize(
    ("env", "distro", "configurator"),
    [
        ({"PYTHONPATH": AUTO_DIR}, "podcast_kg_otel", "podcast_kg_otel"),
        ({"PYTHONPATH": os.pathsep.join(["app", AUTO_DIR])}, "podcast_kg_otel", "podcast_kg_otel"),
        ({"PYTHONPATH": AUTO_DIR, "OTEL_PYTHON_DISTRO": "distro"}, "distro", None),
        (
            {
                "PYTHONPATH": AUTO_DIR,
                "OTEL_PYTHON_DISTRO": "distro",
                "OTEL_PYTHON_CONFIGURATOR": "configurator",
            },
            "distro",
            "configurator",
        ),
        ({"PYTHONPATH": "app"}, None, None),
        ({}, None, None),
    ],
)
def test_start_up_hook_selects_our_distro_only_under_auto_instrumentation(
    monkeypatch: pytest.MonkeyPatch, env: dict, distro: str | None, configurator: str | None
) -> None:
    for name in ("PYTHONPATH", "OTEL_PYTHON_DISTRO", "OTEL_PYTHON_CONFIGURATOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _early.run()
    assert os.environ.get("OTEL_PYTHON_DISTRO") == distro
    assert os.environ.get("OTEL_PYTHON_CONFIGURATOR") == configurator


@pytest.mark.parametrize(
    ("raw", "used", "warned"),
    [
        ("tracecontext,bogus", "tracecontext", True),
        ("bogus", "tracecontext,baggage", True),
        ("tracecontext, baggage", "tracecontext, baggage", False),
        ("none", "none", False),
        ("None", "None", False),
        # Upstream looks entry points up case-sensitively and raises on these.
        ("TraceContext,baggage", "baggage", True),
        ("TRACECONTEXT", "tracecontext,baggage", True),
    ],
)
def test_start_up_hook_repairs_unknown_propagators(
    monkeypatch: pytest.MonkeyPatch,
    our_warnings: Callable[[], list[str]],
    raw: str,
    used: str,
    warned: bool,
) -> None:
    monkeypatch.setenv("OTEL_PROPAGATORS", raw)
    _early.run()
    assert os.environ["OTEL_PROPAGATORS"] == used
    assert len(our_warnings()) == (1 if warned else 0)


def test_start_up_hook_leaves_bad_propagators_to_fail_in_strict_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODCAST_KG_OTEL_STRICT", "true")
    monkeypatch.setenv("OTEL_PROPAGATORS", "bogus")
    _early.run()
    assert os.environ["OTEL_PROPAGATORS"] == "bogus"


def test_start_up_hook_removes_a_non_integer_span_limit(
    monkeypatch: pytest.MonkeyPatch, our_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "lots")
    monkeypatch.setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "64")
    _early.run()
    assert "OTEL_SPAN_EVENT_COUNT_LIMIT" not in os.environ
    assert os.environ["OTEL_SPAN_LINK_COUNT_LIMIT"] == "64"
    assert our_warnings() == [
        "OTEL_SPAN_EVENT_COUNT_LIMIT='lots' is invalid (expected a non-negative integer); "
        "using 128 instead"
    ]


class _Recording(BaseInstrumentor):
    calls: ClassVar[list[dict]] = []

    def instrumentation_dependencies(self) -> list[str]:
        return []

    def _instrument(self, **kwargs: object) -> None:
        self.calls.append(kwargs)

    def _uninstrument(self, **kwargs: object) -> None:
        pass


class _Broken(BaseInstrumentor):
    def instrumentation_dependencies(self) -> list[str]:
        return []

    def _instrument(self, **kwargs: object) -> None:
        raise RuntimeError("broken instrumentor")

    def _uninstrument(self, **kwargs: object) -> None:
        pass


class _InstrumentorEntryPoint(_EntryPoint):
    dist = None


def test_instrument_all_honours_disabled_list_and_is_safe_twice(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, our_warnings: Callable[[], list[str]]
) -> None:
    available = [
        _InstrumentorEntryPoint("broken", _Broken),
        _InstrumentorEntryPoint("recording", _Recording),
        _InstrumentorEntryPoint("redis", ModuleNotFoundError("redis")),
        _InstrumentorEntryPoint("podcast_kg_neo4j", _Broken),
    ]
    monkeypatch.setattr(instrumentation, "entry_points", lambda group: available)
    config = TracingConfig.from_env({"INSTRUMENT_NEO4J": "false"})
    try:
        assert instrument_all(config, tracer_provider=provider) == ["recording"]
        assert instrument_all(config, tracer_provider=provider) == []
        assert _Recording.calls == [{"tracer_provider": provider}]
        (message,) = our_warnings()
        assert "'broken'" in message
        everything_off = TracingConfig(disabled_instrumentations=frozenset({"*"}))
        assert instrument_all(everything_off) == []
    finally:
        _Recording().uninstrument()


def test_the_start_up_hook_checks_every_declared_span_limit() -> None:
    from podcast_kg_otel.defaults import SPAN_LIMIT_VARIABLES

    assert sorted(_early._SPAN_LIMITS) == sorted(SPAN_LIMIT_VARIABLES)
