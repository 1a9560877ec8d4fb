"""The legacy mapping: TRACING_SAMPLING_RATE stays the local rate; one variable (or the
sampler name alone) turns central sampling on."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace.sampling import ParentBased

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.configurator import build_sampler
from podcast_kg_otel.remote_sampling import JaegerRemoteSampler
from podcast_kg_otel.remote_sampling.strategies import PROBABILISTIC, Strategy


def _remote_root(config: TracingConfig) -> JaegerRemoteSampler:
    sampler = build_sampler(config)
    assert isinstance(sampler, ParentBased)
    root = sampler._root
    assert isinstance(root, JaegerRemoteSampler)
    root.stop()
    return root


def test_the_legacy_switch_turns_central_sampling_on_with_the_legacy_rate_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "PODCAST_KG_OTEL_REMOTE_SAMPLING": "true",
        "TRACING_SAMPLING_RATE": "0.3",
        "JAEGER_HOST": "jaeger.internal",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = TracingConfig.from_env(env)
    assert (config.sampler, config.sampler_arg) == ("parentbased_jaeger_remote", None)
    root = _remote_root(config)
    assert root.endpoint == "http://jaeger.internal:5778"
    assert root.strategy == Strategy(PROBABILISTIC, 0.3) and not root.from_remote


def test_the_sampler_name_alone_is_enough_and_its_argument_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACING_SAMPLING_RATE", "0.3")
    arg = "endpoint=http://127.0.0.1:9/sampling,initialSamplingRate=0.05"
    config = TracingConfig.from_env(
        {
            "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
            "OTEL_TRACES_SAMPLER_ARG": arg,
            "TRACING_SAMPLING_RATE": "0.3",
        }
    )
    root = _remote_root(config)
    assert root.endpoint == "http://127.0.0.1:9/sampling"
    assert root.strategy == Strategy(PROBABILISTIC, 0.05)


def test_without_the_switch_the_legacy_rate_stays_local() -> None:
    for env in (
        {"TRACING_SAMPLING_RATE": "0.3"},
        {"TRACING_SAMPLING_RATE": "0.3", "PODCAST_KG_OTEL_REMOTE_SAMPLING": "false"},
        # A standard sampler beats the legacy switch.
        {"PODCAST_KG_OTEL_REMOTE_SAMPLING": "true", "OTEL_TRACES_SAMPLER": "traceidratio"},
    ):
        config = TracingConfig.from_env(env)
        assert config.sampler in ("parentbased_traceidratio", "traceidratio"), env
        assert "JaegerRemoteSampler" not in build_sampler(config).get_description()


def test_a_bad_switch_value_warns_once_and_keeps_the_local_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    config = TracingConfig.from_env(
        {"PODCAST_KG_OTEL_REMOTE_SAMPLING": "central", "TRACING_SAMPLING_RATE": "0.3"}
    )
    assert config.sampler == "parentbased_traceidratio"
    (message,) = [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel_util.env"]
    assert "PODCAST_KG_OTEL_REMOTE_SAMPLING='central' is invalid" in message


def test_a_bad_sampler_argument_is_reported_at_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from podcast_kg_otel_util.env import ConfigurationError

    caplog.set_level(logging.WARNING)
    env = {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": "pollingIntervalMs=0"}
    config = TracingConfig.from_env(env)
    assert config.sampler_arg == "pollingIntervalMs=0"  # the sampler uses the default
    (message,) = [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel_util.env"]
    assert message.startswith("OTEL_TRACES_SAMPLER_ARG pollingIntervalMs='0' is invalid")
    with pytest.raises(ConfigurationError, match="pollingIntervalMs"):
        TracingConfig.from_env({**env, "PODCAST_KG_OTEL_STRICT": "true"})
