"""The collector check: one probe span sent over the configured protocol, endpoint and
headers (the exporter the distro itself builds), and, where a Jaeger query API is known,
read back to measure the round trip."""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import uuid
from typing import Any

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.defaults import OTLP_EXPORTER
from podcast_kg_otel.doctor.findings import ERROR, INFO, WARNING, Problem, captured_warnings

SECTION = "collector"
PROBE_SPAN = "podcast-kg-otel.doctor.probe"
PROBE_ID = "podcast_kg_otel.doctor.probe_id"
_EXPORTER_LOGGERS = ("opentelemetry.exporter", "urllib3", "grpc")
_POLL_SECONDS = 0.05


def _probe_span(config: TracingConfig, probe_id: str) -> Any:
    from opentelemetry.sdk.trace import TracerProvider

    from podcast_kg_otel.resource import build_resource

    provider = TracerProvider(resource=build_resource(config))
    span = provider.get_tracer("podcast_kg_otel.doctor").start_span(
        PROBE_SPAN, attributes={PROBE_ID: probe_id}
    )
    span.end()
    return span


def send_probe(config: TracingConfig, timeout: float) -> dict[str, Any]:
    """Export one span; the outcome with the exporter's own cause on failure."""
    from opentelemetry.sdk.trace.export import SpanExportResult

    from podcast_kg_otel.configurator import build_exporter
    from podcast_kg_otel.export_reasons import failure_reason

    probe_id = uuid.uuid4().hex
    span = _probe_span(config, probe_id)
    result: dict[str, Any] = {
        "endpoint": config.endpoint,
        "protocol": config.protocol,
        "service": config.service_name,
        "probe_id": probe_id,
        "trace_id": format(span.context.trace_id, "032x"),
    }
    started = time.monotonic()
    with captured_warnings(*_EXPORTER_LOGGERS) as messages:
        try:
            exporter = build_exporter(dataclasses.replace(config, timeout=timeout), OTLP_EXPORTER)
            started = time.monotonic()
            outcome = exporter.export([span])
            exporter.shutdown()
            error = None
        except Exception as raised:  # the doctor reports it; nothing to protect here
            outcome, error = SpanExportResult.FAILURE, raised
    result["sent_at"] = started
    result["export_ms"] = round((time.monotonic() - started) * 1000, 1)
    result["delivered"] = outcome is SpanExportResult.SUCCESS
    if not result["delivered"]:
        if error is not None:
            result["cause"] = f"{type(error).__name__}: {failure_reason(str(error))}"
        else:
            result["cause"] = (
                failure_reason(messages[0]) if messages else "the collector rejected the span"
            )
    return result


def read_back(probe: dict[str, Any], query_url: str, wait: float) -> dict[str, Any]:
    """Poll the query API for the probe's trace; the round trip from sending it."""
    from podcast_kg_otel.jaeger_query import QueryClient

    client = QueryClient(query_url)
    deadline = time.monotonic() + wait
    while True:
        try:
            trace = client.trace(probe["trace_id"])
        except (OSError, urllib.error.URLError, ValueError) as error:
            return {"query_url": query_url, "found": False, "cause": f"cannot read: {error}"}
        if trace is not None:
            span = trace.spans[0]
            if span.attributes.get(PROBE_ID) == probe["probe_id"]:
                elapsed = (time.monotonic() - probe["sent_at"]) * 1000
                return {"query_url": query_url, "found": True, "round_trip_ms": round(elapsed, 1)}
        if time.monotonic() >= deadline:
            return {
                "query_url": query_url,
                "found": False,
                "cause": f"the probe was not there after {wait:g} s (is this the Jaeger the "
                "collector writes to?)",
            }
        time.sleep(_POLL_SECONDS)


def check_collector(
    config: TracingConfig, query_url: str | None, timeout: float, config_file: Any
) -> tuple[dict[str, Any], list[Problem]]:
    """Send the probe; read it back when ``query_url`` is given."""
    if not config.enabled:
        return {"skipped": "OTEL_SDK_DISABLED is true"}, [
            Problem(WARNING, SECTION, "tracing is off (OTEL_SDK_DISABLED=true): no span is sent")
        ]
    if OTLP_EXPORTER not in (config.exporters or ()):
        exporters = ",".join(config.exporters or ()) or "none"
        return {"skipped": f"no OTLP exporter (exporters: {exporters})"}, [
            Problem(
                WARNING,
                SECTION,
                f"no OTLP exporter is configured (exporters: {exporters}): "
                "spans go to no collector",
            )
        ]
    problems: list[Problem] = []
    if config_file and config_file.get("usable") and "where spans go" in config_file["decides"]:
        problems.append(
            Problem(
                INFO,
                SECTION,
                f"{config_file['variable']} decides where spans go; the probe "
                f"was sent to the environment's endpoint {config.endpoint}",
            )
        )
    probe = send_probe(config, timeout)
    where = f"{config.endpoint} over OTLP/{'gRPC' if config.protocol == 'grpc' else 'HTTP'}"
    if not probe["delivered"]:
        problems.append(
            Problem(
                ERROR,
                SECTION,
                f"the collector at {where} did not take the probe span: {probe['cause']}",
            )
        )
        return {"probe": _public(probe)}, problems
    payload: dict[str, Any] = {"probe": _public(probe)}
    if query_url:
        back = read_back(probe, query_url, wait=max(2 * timeout, 5.0))
        payload["read_back"] = back
        if not back["found"]:
            # Not there while the API answers: whatever took it was no collector of this
            # Jaeger (a wrong port can answer 200), so spans are lost. Unreadable: unknown.
            level = WARNING if back["cause"].startswith("cannot read") else ERROR
            problems.append(
                Problem(
                    level,
                    SECTION,
                    f"the probe was sent to {where} but not read back "
                    f"from {query_url}: {back['cause']}",
                )
            )
    return payload, problems


def _public(probe: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in probe.items() if key != "sent_at"}
