"""Fixtures for the provider SDK tests: the fake provider servers, and the environment of a
script run under ``opentelemetry-instrument`` against the real Jaeger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from podcast_kg_otel_util.content import CAPTURE_CONTENT_ENV

from stacktools.stack import Stack

from .fakes import FakeGemini, FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(lifetime=300) as server:
        yield server


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    with FakeGemini(lifetime=300) as server:
        yield server


@pytest.fixture(autouse=True)
def no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripts inherit this process's environment: start them from the defaults."""
    monkeypatch.delenv(CAPTURE_CONTENT_ENV, raising=False)
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)


def provider_env(stack: Stack, service_name: str, **extra: str) -> dict[str, str]:
    """Only environment: our distro, traces over OTLP/HTTP to the real Jaeger, and SDK
    credentials that the fakes accept."""
    return {
        **stack.otel_env(service_name),
        "OPENAI_API_KEY": "test-key",
        "GOOGLE_API_KEY": "test-key",
        **extra,
    }
