"""The repository's strategies (local stack, k8s, scale) as Jaeger serves them, read by our
sampler; and the adaptive variant of the local config, run for real."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from podcast_kg_otel.remote_sampling import JaegerRemoteSampler, parse_strategy
from podcast_kg_otel.remote_sampling.strategies import PER_OPERATION, PROBABILISTIC, Strategy
from stacktools.manifests import DEPLOY, embedded_configs, jaeger_binary, load_manifests
from stacktools.own_jaeger import OwnJaeger

STRATEGY_FILES = {
    "local": (DEPLOY / "local" / "sampling-strategies.json").read_text(),
    "k8s": embedded_configs(load_manifests(DEPLOY / "k8s"), "sampling-strategies.json")[
        "jaeger-config"
    ],
    "scale": embedded_configs(load_manifests(DEPLOY / "scale"), "sampling-strategies.json")[
        "jaeger-collector-config"
    ],
}
KINDS = {"probabilistic": 0, "ratelimiting": 1}


def expected(service: dict) -> Strategy:
    """What Jaeger's file provider serves for `service`, as our parser reads it."""
    operations = tuple(
        (entry["operation"], float(entry["param"]))
        for entry in service.get("operation_strategies", [])
    )
    if operations:
        return Strategy(PER_OPERATION, float(service["param"]), 0.0, operations)
    kind = "ratelimiting" if service["type"] == "ratelimiting" else PROBABILISTIC
    return Strategy(kind, float(service["param"]))


@pytest.mark.parametrize("name", sorted(STRATEGY_FILES))
def test_the_repository_strategies_reach_the_sampler(own_jaeger: OwnJaeger, name: str) -> None:
    strategies = json.loads(STRATEGY_FILES[name])
    own_jaeger.write_strategies(strategies)
    own_jaeger.start()
    for service in strategies["service_strategies"]:
        sampler = JaegerRemoteSampler(
            own_jaeger.sampling_url, service_name=service["service"], start=False
        )
        assert sampler.poll_once(), service
        assert sampler.strategy == expected(service), service["service"]
    default = JaegerRemoteSampler(own_jaeger.sampling_url, service_name="unlisted", start=False)
    assert default.poll_once()
    assert default.strategy == Strategy(
        PROBABILISTIC, float(strategies["default_strategy"]["param"])
    )


def test_the_adaptive_variant_serves_per_operation_strategies(
    stack: object, tmp_path: Path
) -> None:
    assert jaeger_binary().exists()
    jaeger = OwnJaeger(workdir=tmp_path, source=DEPLOY / "local" / "jaeger-adaptive.yaml")
    jaeger.start()
    try:
        url = f"{jaeger.sampling_url}/?service=adaptive-check"
        with urllib.request.urlopen(url, timeout=5) as response:
            strategy = parse_strategy(response.read())
        # Before any throughput is measured: the initial probability, with the lower bound.
        assert strategy == Strategy(PER_OPERATION, 0.1, 0.0166)
    finally:
        jaeger.stop()
