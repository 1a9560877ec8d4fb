"""Tracing functions named in configuration, on an in-memory exporter."""

from __future__ import annotations

import asyncio
import importlib
import logging

import pytest
from opentelemetry import trace

from podcast_kg_otel import functions
from podcast_kg_otel.functions import Target, parse_targets, wrap_target

STAGES = """
class StageError(Exception):
    pass


def process_episode(episode):
    return f"done {episode}"


def failing(episode):
    raise StageError(f"bad {episode}")


async def fetch(url):
    return url.upper()


def chunks(n):
    received = yield 0
    for i in range(1, n):
        received = yield i + (received or 0)
    return "end"


async def stream(n):
    for i in range(n):
        yield i


class GraphWriter:
    def __init__(self, prefix):
        self.prefix = prefix

    def write(self, item):
        return self.prefix + item

    @staticmethod
    def normalize(item):
        return item.strip()

    @classmethod
    def create(cls):
        return cls("graph:")

    NOT_A_FUNCTION = 3
"""


@pytest.fixture
def stages(write_module, provider):
    name = write_module("pipeline.stages", STAGES)
    module = importlib.import_module(name)
    for qualname in (
        "process_episode",
        "failing",
        "fetch",
        "chunks",
        "stream",
        "GraphWriter.write",
        "GraphWriter.normalize",
        "GraphWriter.create",
    ):
        assert wrap_target(Target(name, qualname), module, provider)
    return module


def _names(exporter) -> list[str]:
    return [span.name.rsplit(".", 1)[-1] for span in exporter.get_finished_spans()]


def test_parse_targets_warns_once_per_malformed_entry(caplog) -> None:
    targets = parse_targets("a.b:f; a.b:C.m,bad entry;a.b:f\n nocolon ;x:1y;;")
    assert targets == [Target("a.b", "f"), Target("a.b", "C.m")]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 3 and all("PODCAST_KG_OTEL_TRACED_FUNCTIONS" in w for w in warned)
    assert "'bad entry'" in warned[0]


def test_plain_function_and_methods(stages, exporter) -> None:
    assert stages.process_episode("e1") == "done e1"
    writer = stages.GraphWriter.create()
    assert writer.write("x") == "graph:x"
    assert stages.GraphWriter.normalize(" y ") == "y"
    assert writer.normalize(" z ") == "z"
    assert _names(exporter) == ["process_episode", "create", "write", "normalize", "normalize"]
    span = exporter.get_finished_spans()[0]
    assert span.name == f"{stages.__name__}.process_episode"
    assert span.attributes["code.function.name"] == span.name
    assert span.attributes["code.file.path"].endswith("stages.py")
    assert span.status.status_code is trace.StatusCode.UNSET


def test_exception_is_recorded_once_and_reraised_unchanged(stages, exporter) -> None:
    with pytest.raises(stages.StageError, match="bad e2") as raised:
        stages.failing("e2")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    assert span.attributes["error.type"].endswith("StageError")
    assert raised.value.args == ("bad e2",)


def test_coroutine_and_async_generator(stages, exporter) -> None:
    async def main() -> tuple[str, list[int]]:
        return await stages.fetch("u"), [i async for i in stages.stream(3)]

    assert asyncio.run(main()) == ("U", [0, 1, 2])
    assert _names(exporter) == ["fetch", "stream"]


def test_generator_span_covers_the_iteration_and_send(stages, exporter, provider) -> None:
    tracer = provider.get_tracer("t")
    gen = stages.chunks(3)
    assert next(gen) == 0
    with tracer.start_as_current_span("caller-between-yields"):
        pass  # while the generator is suspended, its span is not current
    assert gen.send(10) == 11
    assert gen.send(1) == 3
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "end"
    caller, chunks = exporter.get_finished_spans()
    assert caller.parent is None and chunks.name.endswith("chunks")


def test_missing_or_non_function_target_warns_once(write_module, caplog) -> None:
    name = write_module("pipeline2.stages", STAGES)
    module = importlib.import_module(name)
    functions._warned.clear()
    assert not wrap_target(Target(name, "nope"), module)
    assert not wrap_target(Target(name, "nope"), module)
    assert not wrap_target(Target(name, "GraphWriter.NOT_A_FUNCTION"), module)
    assert not wrap_target(Target(name, "Missing.method"), module)
    warned = [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.functions"]
    assert len(warned) == 3
    assert "does not exist" in warned[0] and "is a int, not a function" in warned[1]


def test_targets_are_wrapped_when_their_module_is_imported(write_module, monkeypatch) -> None:
    monkeypatch.setattr(functions.atexit, "register", lambda report: report)
    name = write_module("pipeline3.stages", STAGES)
    functions.install_traced_functions(f"{name}:process_episode")
    module = importlib.import_module(name)
    assert getattr(module.process_episode, "__podcast_kg_otel_traced__", False)
    assert module.process_episode.__wrapped__.__name__ == "process_episode"
