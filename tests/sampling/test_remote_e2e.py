"""Central sampling end to end, against real Jaeger v2 processes serving strategies.

The first test uses the stack's Jaeger and the repository's strategies file
(deploy/local/sampling-strategies.json, service ``podcast-kg-sampling-check``) under
``opentelemetry-instrument``. The others start a Jaeger of their own (see conftest) so that
they can rewrite its strategies file and stop it without disturbing anyone.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased

from podcast_kg_otel.remote_sampling import JaegerRemoteSampler
from podcast_kg_otel.remote_sampling.strategies import PROBABILISTIC, RATE_LIMITING, Strategy
from stacktools.jaeger import JaegerClient, Trace
from stacktools.own_jaeger import OwnJaeger
from stacktools.pytest_plugin import RunInstrumented
from stacktools.stack import Stack, stack_settings

from .conftest import within_binomial

ROOTS_PER_OPERATION = 1000
POLLING_INTERVAL = 0.3


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """A bounded wait: fails with `what` when `condition` does not hold in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


def kept_roots(jaeger: JaegerClient, service: str, run: str, expected: int) -> list[Trace]:
    """The run's traces once Jaeger holds `expected` of them (and no more arrive)."""
    params = {"tags": json.dumps({"run.id": run}), "start": int((time.time() - 600) * 1e6)}
    if expected == 0:
        time.sleep(1.5)  # what the batch processor and Jaeger would have had time to store
        return jaeger.traces(service, limit=10_000, **params)
    return jaeger.wait_for_traces(
        service, count=expected, timeout=60, settle=1.0, limit=10_000, **params
    )


def root_names(traces: list[Trace]) -> list[str]:
    return [t.root.name for t in traces]


# The stack's Jaeger and the repository's strategies ---------------------------------

SCRIPT = """
import json, sys, time
from opentelemetry import trace

provider = trace.get_tracer_provider()
deadline = time.monotonic() + 30
while "from Jaeger" not in provider.sampler.get_description():
    assert time.monotonic() < deadline, provider.sampler.get_description()
    time.sleep(0.05)
tracer = trace.get_tracer("sampling-check")
sampled = {}
for operation in ("always-kept", "other-operation"):
    for _ in range(int(sys.argv[2])):
        with tracer.start_as_current_span(operation, attributes={"run.id": sys.argv[1]}) as root:
            with tracer.start_as_current_span("step"):
                pass
        sampled[operation] = sampled.get(operation, 0) + root.get_span_context().trace_flags.sampled
print(json.dumps({"sampled": sampled, "sampler": provider.sampler.get_description()}))
"""


def test_the_stack_serves_the_repository_strategies(
    stack: Stack, jaeger: JaegerClient, run_instrumented: RunInstrumented
) -> None:
    service = "podcast-kg-sampling-check"  # 0.2, and "always-kept" at 1.0
    port = stack_settings()["STACK_JAEGER_SAMPLING_HTTP_PORT"]
    run = uuid.uuid4().hex
    env = {
        **stack.otel_env(service),
        "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": f"endpoint=http://127.0.0.1:{port},pollingIntervalMs=200",
        "OTEL_BSP_MAX_QUEUE_SIZE": "10000",
    }
    result = run_instrumented(SCRIPT, env=env, args=[run, str(ROOTS_PER_OPERATION)])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert "per-operation(defaultSamplingProbability=0.2" in report["sampler"]
    sampled = report["sampled"]
    assert sampled["always-kept"] == ROOTS_PER_OPERATION
    assert within_binomial(sampled["other-operation"], ROOTS_PER_OPERATION, 0.2)
    traces = kept_roots(jaeger, service, run, sum(sampled.values()))
    names = root_names(traces)
    # Jaeger holds exactly what was sampled, each trace whole.
    assert names.count("always-kept") == ROOTS_PER_OPERATION
    assert names.count("other-operation") == sampled["other-operation"]
    assert all(len(t.spans) == 2 for t in traces)
    other = next(t for t in traces if t.root.name == "other-operation").root
    assert other.attributes["sampler.type"] == "probabilistic"
    assert other.attributes["sampler.param"] == 0.2


# A Jaeger of our own ------------------------------------------------------------------


class App:
    """An in-process app: a provider with the remote sampler, exporting to `jaeger`."""

    def __init__(self, jaeger: OwnJaeger, service: str) -> None:
        self.service = service
        self.sampler = JaegerRemoteSampler(
            jaeger.sampling_url, service_name=service, polling_interval=POLLING_INTERVAL
        )
        self.provider = TracerProvider(
            sampler=ParentBased(self.sampler),
            resource=Resource({"service.name": service}),
            shutdown_on_exit=False,
        )
        exporter = OTLPSpanExporter(endpoint=f"{jaeger.otlp_http_endpoint}/v1/traces")
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=20_000, schedule_delay_millis=100)
        )
        self.tracer = self.provider.get_tracer("app")

    def roots(self, operation: str, count: int, run: str) -> int:
        """`count` root spans (with one child each); returns how many were sampled."""
        sampled = 0
        for _ in range(count):
            with (
                self.tracer.start_as_current_span(operation, attributes={"run.id": run}) as root,
                self.tracer.start_as_current_span("step"),
            ):
                pass
            sampled += root.get_span_context().trace_flags.sampled
        return sampled

    def flush(self) -> None:
        assert self.provider.force_flush(30_000)

    def close(self) -> None:
        self.sampler.stop()
        self.provider.shutdown()


@pytest.fixture
def app_factory(own_jaeger: OwnJaeger) -> Iterator[Callable[[str], App]]:
    apps: list[App] = []

    def make(service: str) -> App:
        apps.append(App(own_jaeger, service))
        return apps[-1]

    yield make
    for app in apps:
        app.close()


def service_strategy(service: str, kind: str, param: float, **extra: object) -> dict:
    return {
        "default_strategy": {"type": "probabilistic", "param": 1.0},
        "service_strategies": [{"service": service, "type": kind, "param": param, **extra}],
    }


def test_rewritten_strategies_apply_while_the_app_runs_and_outlive_jaeger(
    own_jaeger: OwnJaeger,
    app_factory: Callable[[str], App],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = f"rewrite-{uuid.uuid4().hex[:8]}"
    operations = [{"operation": "always-kept", "type": "probabilistic", "param": 1.0}]
    own_jaeger.write_strategies(
        service_strategy(service, "probabilistic", 0.2, operation_strategies=operations)
    )
    own_jaeger.start()
    app = app_factory(service)
    wait_until(lambda: app.sampler.from_remote, 10, "the first strategy")
    assert app.sampler.strategy.operations == (("always-kept", 1.0),)

    first = uuid.uuid4().hex
    kept_always = app.roots("always-kept", ROOTS_PER_OPERATION, first)
    kept_other = app.roots("other", ROOTS_PER_OPERATION, first)
    app.flush()
    assert kept_always == ROOTS_PER_OPERATION
    assert within_binomial(kept_other, ROOTS_PER_OPERATION, 0.2)
    names = root_names(kept_roots(own_jaeger.query, service, first, kept_always + kept_other))
    assert (names.count("always-kept"), names.count("other")) == (kept_always, kept_other)

    # Rewrite the file: the app picks the new strategy up on its next polls.
    own_jaeger.write_strategies(service_strategy(service, "probabilistic", 0.7))
    bound = POLLING_INTERVAL + own_jaeger.reload_interval
    wait_until(
        lambda: app.sampler.strategy == Strategy(PROBABILISTIC, 0.7),
        3 * bound + 5,
        f"the rewritten strategy (polling {POLLING_INTERVAL} s + reload "
        f"{own_jaeger.reload_interval} s)",
    )
    second = uuid.uuid4().hex
    kept = {name: app.roots(name, ROOTS_PER_OPERATION, second) for name in ("always-kept", "b")}
    app.flush()
    for count in kept.values():
        assert within_binomial(count, ROOTS_PER_OPERATION, 0.7)
    names = root_names(kept_roots(own_jaeger.query, service, second, sum(kept.values())))
    assert (names.count("always-kept"), names.count("b")) == tuple(kept.values())

    # Stop Jaeger: the last strategy stays in force, with one warning.
    caplog.set_level(logging.WARNING, logger="podcast_kg_otel.remote_sampling")
    own_jaeger.stop()
    wait_until(
        lambda: any("did not answer" in r.getMessage() for r in caplog.records),
        10,
        "the outage warning",
    )
    time.sleep(POLLING_INTERVAL * 4)  # more failed polls
    assert app.sampler.strategy == Strategy(PROBABILISTIC, 0.7)
    assert "probabilistic(samplingRate=0.7), from Jaeger" in app.sampler.get_description()
    warnings = [r for r in caplog.records if r.name == "podcast_kg_otel.remote_sampling"]
    assert len(warnings) == 1
    sampled = app.roots("during-outage", ROOTS_PER_OPERATION, uuid.uuid4().hex)
    assert within_binomial(sampled, ROOTS_PER_OPERATION, 0.7)


def test_a_rate_limiting_strategy_holds_its_traces_per_second(
    own_jaeger: OwnJaeger, app_factory: Callable[[str], App]
) -> None:
    service = f"ratelimit-{uuid.uuid4().hex[:8]}"
    rate = 5
    own_jaeger.write_strategies(service_strategy(service, "ratelimiting", rate))
    own_jaeger.start()
    app = app_factory(service)
    wait_until(lambda: app.sampler.from_remote, 10, "the first strategy")
    assert app.sampler.strategy == Strategy(RATE_LIMITING, rate)
    run = uuid.uuid4().hex
    offered = kept = 0
    started = time.monotonic()
    while time.monotonic() - started < 2.0:  # a bounded run, as fast as the machine goes
        kept += app.roots("busy", 50, run)
        offered += 50
    elapsed = time.monotonic() - started
    app.flush()
    # A full bucket (max(rate, 1) traces) plus `rate` a second: the count bound follows
    # from the rate, whatever the machine's speed.
    assert rate <= kept <= rate + rate * elapsed + 1
    assert offered > 10 * kept
    traces = kept_roots(own_jaeger.query, service, run, kept)
    assert len(traces) == kept
    assert traces[0].root.attributes["sampler.type"] == "ratelimiting"


TAIL_SCRIPT = """
import os, sys, time
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from podcast_kg_otel.remote_sampling import shared_sampler

strategy = shared_sampler(os.environ["OTEL_TRACES_SAMPLER_ARG"])
deadline = time.monotonic() + 30
while not strategy.from_remote:
    assert time.monotonic() < deadline, strategy.get_description()
    time.sleep(0.05)
print(strategy.get_description())
tracer = trace.get_tracer("tail-check")
for index in range(200):
    with tracer.start_as_current_span("job", attributes={"run.id": sys.argv[1], "index": index}):
        with tracer.start_as_current_span("step.a"):
            pass
        with tracer.start_as_current_span("step.b") as step:
            if index % 10 == 0:
                step.set_status(Status(StatusCode.ERROR, "boom"))
"""


def test_tail_sampling_keeps_every_error_trace_under_a_zero_strategy(
    own_jaeger: OwnJaeger, run_instrumented: RunInstrumented
) -> None:
    service = f"tail-{uuid.uuid4().hex[:8]}"
    own_jaeger.write_strategies(service_strategy(service, "probabilistic", 0.0))
    own_jaeger.start()
    run = uuid.uuid4().hex
    env = {
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": own_jaeger.otlp_http_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": f"endpoint={own_jaeger.sampling_url},pollingIntervalMs=200",
        "PODCAST_KG_OTEL_TAIL_SAMPLING": "true",
    }
    result = run_instrumented(TAIL_SCRIPT, env=env, args=[run])
    assert result.returncode == 0, result.stderr
    assert "probabilistic(samplingRate=0), from Jaeger" in result.stdout
    traces = kept_roots(own_jaeger.query, service, run, 20)
    assert len(traces) == 20
    assert sorted(t.root.attributes["index"] for t in traces) == list(range(0, 200, 10))
    for kept in traces:  # whole: the failing step and its healthy sibling
        assert sorted(s.name for s in kept.spans) == ["job", "step.a", "step.b"]
        assert kept.one("step.b").status_code == "ERROR"
