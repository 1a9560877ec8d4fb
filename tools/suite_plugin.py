"""A pytest plugin for running a library's own test suite with one of our instrumentors
on for the whole session, to show the library behaves the same with it installed.

Run the suite twice and compare the outcome files (`diff` them; a failure's line carries
its one-line reason, so failures are compared too)::

    PYTHONPATH=tools pytest -p suite_plugin --suite-outcomes=plain.txt tests/unit
    PYTHONPATH=tools pytest -p suite_plugin --suite-outcomes=ours.txt \
        --suite-instrument=podcast_kg_otel_neo4j:Neo4jInstrumentor tests/unit

With --suite-instrument, the instrumentor is applied at session start with an SDK
tracer provider whose exporter only counts spans (every span is sampled, so all of
our code runs), and the summary says how many spans were made and how many
fail-open warnings our code logged (each is a place where it could not read the
library's objects; the library call still ran unchanged).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


class _CountingExporter(SpanExporter):
    """Keeps nothing but the number of spans (a suite of 40,000 tests makes many)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


class _OurWarnings(logging.Handler):
    """Collects the warnings of our packages (loggers named podcast_kg_otel*)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("podcast_kg_otel"):
            self.messages.append(f"{record.name}: {record.getMessage()}")


class _Suite:
    def __init__(self, config: pytest.Config) -> None:
        self.target: str | None = config.getoption("suite_instrument")
        path = config.getoption("suite_outcomes")
        self.outcomes_path = Path(path) if path else None
        self.outcomes: dict[str, str] = {}
        self.exporter = _CountingExporter()
        self.warnings = _OurWarnings()
        self.instrumentor: Any = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.target is None:
            return
        module_name, _, class_name = self.target.partition(":")
        instrumentor_cls = getattr(importlib.import_module(module_name), class_name)
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        logging.getLogger().addHandler(self.warnings)
        self.instrumentor = instrumentor_cls()
        self.instrumentor.instrument(tracer_provider=provider)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One outcome per test: the call's, or the setup's/teardown's when not passed."""
        if report.when == "call" or report.outcome != "passed":
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xpassed" if report.passed else "xfailed"
            elif report.when != "call" and report.failed:
                outcome = f"error in {report.when}"
            if report.failed:  # and why, so failures are compared too
                outcome = f"{outcome} | {_crash(report)}"
            if self.outcomes.get(report.nodeid, "passed") == "passed":
                self.outcomes[report.nodeid] = outcome

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.outcomes_path is not None:
            lines = (f"{nodeid}\t{outcome}\n" for nodeid, outcome in sorted(self.outcomes.items()))
            self.outcomes_path.write_text("".join(lines), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.target is None:
            return
        terminalreporter.write_line(
            f"suite_plugin: {self.target} on; {self.exporter.count} spans, "
            f"{len(self.warnings.messages)} fail-open warning(s) from our code"
        )
        for message in self.warnings.messages:
            terminalreporter.write_line(f"  {message}")


def _crash(report: pytest.TestReport) -> str:
    """The one-line reason of a failure, object addresses masked (they differ per run)."""
    message = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
    return _ADDRESS.sub("0x?", message.splitlines()[0] if message else "")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("suite_plugin")
    group.addoption("--suite-instrument", default=None, help="module:Instrumentor to apply")
    group.addoption("--suite-outcomes", default=None, help="file for 'nodeid<TAB>outcome' lines")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Suite(config), "suite_plugin_session")
