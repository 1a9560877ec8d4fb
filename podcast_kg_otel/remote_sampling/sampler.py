"""The ``jaeger_remote`` sampler: the strategy in force comes from Jaeger's sampling
endpoint, polled on a daemon thread.

Decisions never wait for the network: until the first strategy arrives the sampler is
probabilistic at ``initialSamplingRate``; when Jaeger is down or answers nonsense, the last
good strategy stays in force (one warning per outage). A forked child polls again from its
own thread.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from podcast_kg_otel_util import env as envtools
from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import notices
from podcast_kg_otel.defaults import DEFAULT_HOST
from podcast_kg_otel.parsing import parse_key_values, valid_endpoint
from podcast_kg_otel.remote_sampling.strategies import (
    Decider,
    Probabilistic,
    Strategy,
    StrategyError,
    build_decider,
    parse_strategy,
)
from podcast_kg_otel.settings import loader
from podcast_kg_otel.settings.declarations import declared

SAMPLER_ARG = "OTEL_TRACES_SAMPLER_ARG"
DEFAULT_PORT = 5778
DEFAULT_POLLING_INTERVAL_MS = 60000
#: The other SDKs' default until the first strategy arrives.
DEFAULT_INITIAL_SAMPLING_RATE = 0.001
_MAX_POLLING_INTERVAL_MS = 86_400_000
_FETCH_TIMEOUT = 5.0
_MAX_BODY = 1 << 20
_logger = logging.getLogger("podcast_kg_otel.remote_sampling")


@dataclass(frozen=True)
class RemoteSettings:
    """Where to poll, how often (seconds), and the rate before the first answer."""

    endpoint: str
    polling_interval: float = DEFAULT_POLLING_INTERVAL_MS / 1000
    initial_sampling_rate: float = DEFAULT_INITIAL_SAMPLING_RATE


def default_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """Port 5778 of the legacy ``JAEGER_HOST`` (default 127.0.0.1), read as declared (a bad
    value has its one warning there)."""
    env = os.environ if environ is None else environ
    host = loader.from_env(declared("jaeger_host"), env) or DEFAULT_HOST
    return f"http://{host}:{DEFAULT_PORT}"


def _rate(raw: str) -> float | None:
    try:
        rate = float(raw)
    except ValueError:
        return None
    return rate if 0.0 <= rate <= 1.0 else None


def settings_from_arg(arg: str | None, environ: Mapping[str, str] | None = None) -> RemoteSettings:
    """``endpoint=...,pollingIntervalMs=...,initialSamplingRate=...`` (the other SDKs'
    keys). A bad entry gives one warning naming it and its default is used. Without
    ``initialSamplingRate`` the legacy ``TRACING_SAMPLING_RATE`` is the initial rate."""
    env = os.environ if environ is None else environ
    pairs, malformed = parse_key_values(arg or "")
    endpoint = default_endpoint(env)
    interval_ms = float(DEFAULT_POLLING_INTERVAL_MS)
    legacy_rate = loader.from_env(declared("sampling_rate"), env)
    rate = DEFAULT_INITIAL_SAMPLING_RATE if legacy_rate is None else legacy_rate

    def bad(key: str, value: str, used: object, reason: str) -> None:
        envtools.report_bad_value(f"{SAMPLER_ARG} {key}", value, used, reason, env)

    if malformed:
        bad("entries", arg or "", "the well-formed key=value entries", "expected key=value pairs")
    for key, value in pairs.items():
        if key == "endpoint":
            if valid_endpoint(value, scheme_required=True):
                endpoint = value.rstrip("/") if urlsplit(value).path in ("", "/") else value
            else:
                bad(key, value, endpoint, "expected a URL like http://host:5778")
        elif key == "pollingIntervalMs":
            try:
                parsed = float(value)
            except ValueError:
                parsed = 0.0
            if 1 <= parsed <= _MAX_POLLING_INTERVAL_MS:
                interval_ms = parsed
            else:
                bad(key, value, int(interval_ms), "expected milliseconds, 1 to a day")
        elif key == "initialSamplingRate":
            parsed_rate = _rate(value)
            if parsed_rate is None:
                bad(key, value, rate, "expected a rate in 0..1")
            else:
                rate = parsed_rate
        else:
            bad(key, value, "nothing", "unknown key")
    return RemoteSettings(endpoint, interval_ms / 1000, rate)


def _service_name() -> str:
    """The service the strategy is asked for: the installed provider's ``service.name``,
    else our resolved configuration's, else the SDK's resource from the environment."""
    from opentelemetry import trace

    resource = getattr(trace.get_tracer_provider(), "resource", None)
    name = getattr(resource, "attributes", {}).get("service.name")
    if isinstance(name, str) and name:
        return name
    from podcast_kg_otel import config

    if config._current is not None:
        return config._current.service_name
    from opentelemetry.sdk.resources import Resource

    return str(Resource.create().attributes.get("service.name", "unknown_service"))


class JaegerRemoteSampler(Sampler):
    """Samples with the strategy Jaeger serves for this service.

    Each span is decided on its own (``operation`` = the span's name); wrap it in
    ``ParentBased`` (``parentbased_jaeger_remote``) so that only roots are decided.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        service_name: str | None = None,
        polling_interval: float = DEFAULT_POLLING_INTERVAL_MS / 1000,
        initial_sampling_rate: float = DEFAULT_INITIAL_SAMPLING_RATE,
        start: bool = True,
    ) -> None:
        self.endpoint = endpoint or default_endpoint()
        self.service_name = service_name
        self.polling_interval = polling_interval
        self._decider: Decider = Probabilistic(initial_sampling_rate)
        self._from_remote = False
        self._warned: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _live.add(self)
        if start:
            self.start()

    # Sampler ---------------------------------------------------------------------------

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        return self._decider.sample(parent_context, trace_id, name, attributes)

    def get_description(self) -> str:
        source = "from Jaeger" if self._from_remote else "initial, no strategy from Jaeger yet"
        return (
            f"JaegerRemoteSampler{{{self._decider.strategy.describe()}, {source}, "
            f"endpoint={self.endpoint}}}"
        )

    def keeps(self, trace_id: int, operation: str) -> bool:
        """The strategy's decision for a trace whose root is `operation` (tail sampling
        asks this for traces without errors)."""
        return self._decider.keeps(trace_id, operation)

    @property
    def strategy(self) -> Strategy:
        """The strategy in force."""
        return self._decider.strategy

    @property
    def from_remote(self) -> bool:
        """True once a strategy from Jaeger is in force."""
        return self._from_remote

    # Polling ---------------------------------------------------------------------------

    def url(self) -> str:
        parts = urlsplit(self.endpoint)
        path = parts.path or "/"
        service = self.service_name or _service_name()
        return f"{parts.scheme}://{parts.netloc}{path}?service={quote(service, safe='')}"

    def poll_once(self) -> bool:
        """Fetch and apply the strategy once; True when a strategy from Jaeger is in force
        afterwards. Never raises."""
        try:
            url = self.url()
            body = _fetch(url)
        except Exception as error:  # the network, a bad URL: keep what we have
            self._warn("unreachable", f"did not answer ({error})")
            return False
        try:
            strategy = parse_strategy(body)
        except StrategyError as error:
            self._warn("malformed", f"sent an unusable strategy ({error})")
            return False
        self.apply(strategy)
        self._warned = None
        return True

    def apply(self, strategy: Strategy) -> None:
        """Put `strategy` in force, as if Jaeger had served it (a repeated strategy keeps
        its token balances)."""
        if not self._from_remote or strategy != self._decider.strategy:
            self._decider = build_decider(strategy, self._decider)
            self._from_remote = True
            _logger.debug("sampling strategy from %s: %s", self.endpoint, strategy.describe())

    def _warn(self, kind: str, what: str) -> None:
        """One warning per kind of trouble, until a good strategy arrives again."""
        if self._warned == kind:
            return
        self._warned = kind
        notices.warn(
            _logger,
            f"podcast-kg-otel: Jaeger's sampling endpoint {self.endpoint} {what}; keeping "
            f"{self._decider.strategy.describe()} and asking again every "
            f"{self.polling_interval:g} s",
        )

    def start(self) -> None:
        """Start polling on a daemon thread (first poll right away)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="podcast-kg-otel-jaeger-remote-sampling", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; the strategy in force stays."""
        self._stop.set()

    def _run(self) -> None:
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, set_value

        # Our own HTTP calls must not become spans of an instrumented HTTP library.
        attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        stop = self._stop
        poll = guard(_logger, "remote-sampling-poll", "podcast-kg-otel: sampling poll failed")
        while not stop.is_set():
            with poll:  # a bug of ours must not end the polling
                self.poll_once()
            stop.wait(self.polling_interval)

    def _after_fork_in_child(self) -> None:
        self._decider.reset_after_fork()
        if self._thread is not None and not self._stop.is_set():
            self._thread = None
            self.start()


def _fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT) as response:
        return response.read(_MAX_BODY)


_live: weakref.WeakSet[JaegerRemoteSampler] = weakref.WeakSet()
_shared: dict[RemoteSettings, JaegerRemoteSampler] = {}
_shared_lock = threading.Lock()


def _restart_in_children() -> None:
    for sampler in list(_live):
        try:
            sampler._after_fork_in_child()
        except Exception:
            _logger.debug("remote sampler restart after fork failed", exc_info=True)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_in_children)


def shared_sampler(arg: str | None, service_name: str | None = None) -> JaegerRemoteSampler:
    """One polling sampler per setting in the process, however often the configuration
    asks for it (the head sampler and tail sampling share it). A `service_name` given
    later names the service of one built without."""
    settings = settings_from_arg(arg)
    with _shared_lock:
        sampler = _shared.get(settings)
        if sampler is None:
            sampler = _shared[settings] = JaegerRemoteSampler(
                settings.endpoint,
                service_name=service_name,
                polling_interval=settings.polling_interval,
                initial_sampling_rate=settings.initial_sampling_rate,
            )
        elif service_name and sampler.service_name is None:
            sampler.service_name = service_name
    return sampler


def jaeger_remote(arg: str | None = None) -> JaegerRemoteSampler:
    """The ``opentelemetry_traces_sampler`` entry point ``jaeger_remote``."""
    return shared_sampler(arg)


def parentbased_jaeger_remote(arg: str | None = None) -> ParentBased:
    """The ``opentelemetry_traces_sampler`` entry point ``parentbased_jaeger_remote``."""
    return ParentBased(shared_sampler(arg))
