"""Each provider-side instrumentor waits for the right module (podcast_kg_otel.lazy)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from podcast_kg_otel.lazy import instrumentor_targets

EXPECTED = {
    "openai": ("openai",),
    # Not `google`: protobuf, so the OTLP exporter, imports that namespace package too.
    "google-genai": ("google.genai",),
    "httpx": ("httpx",),
    "httpx2": ("httpx2",),
    "grpc_client": ("grpc",),
    "grpc_aio_client": ("grpc",),
    "grpc_server": ("grpc",),
    "grpc_aio_server": ("grpc",),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_provider_instrumentors_wait_for_their_library(name: str) -> None:
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name=name)
    assert instrumentor_targets(entry_point) == EXPECTED[name]
