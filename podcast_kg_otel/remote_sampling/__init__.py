"""Central sampling: the ``jaeger_remote`` and ``parentbased_jaeger_remote`` samplers,
which apply the strategies Jaeger's ``remote_sampling`` extension serves."""

from podcast_kg_otel.remote_sampling.sampler import (
    JaegerRemoteSampler,
    RemoteSettings,
    jaeger_remote,
    parentbased_jaeger_remote,
    settings_from_arg,
    shared_sampler,
)
from podcast_kg_otel.remote_sampling.strategies import Strategy, StrategyError, parse_strategy

__all__ = [
    "JaegerRemoteSampler",
    "RemoteSettings",
    "Strategy",
    "StrategyError",
    "jaeger_remote",
    "parentbased_jaeger_remote",
    "parse_strategy",
    "settings_from_arg",
    "shared_sampler",
]
