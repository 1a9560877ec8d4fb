"""Functions traced from ``PODCAST_KG_OTEL_TRACED_FUNCTIONS`` with no code change."""

from __future__ import annotations

from pathlib import Path

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

from .conftest import runtime_env

STAGES = """
import asyncio


class EpisodeError(Exception):
    pass


def process_episode(episode):
    writer = GraphWriter.create()
    writer.write(GraphWriter.normalize(f" {episode} "))
    asyncio.run(enrich(episode))
    list(chunks(episode))
    if episode == "bad":
        raise EpisodeError("cannot parse bad")
    return "ok"


async def enrich(episode):
    return [item async for item in keywords(episode)]


async def keywords(episode):
    for word in (episode, "podcast"):
        yield word


def chunks(episode):
    yield from episode


class GraphWriter:
    @classmethod
    def create(cls):
        return cls()

    @staticmethod
    def normalize(text):
        return text.strip()

    def write(self, item):
        return item
"""

APP = """
from pipeline_demo import stages

for episode in ("ep-1", "ep-2", "bad"):
    try:
        stages.process_episode(episode)
    except stages.EpisodeError as error:
        print("failed", error)
"""

TARGETS = ";".join(
    [
        "pipeline_demo.stages:process_episode",
        "pipeline_demo.stages:GraphWriter.write",
        "pipeline_demo.stages:GraphWriter.normalize",
        "pipeline_demo.stages:GraphWriter.create",
        "pipeline_demo.stages:enrich",
        "pipeline_demo.stages:keywords",
        "pipeline_demo.stages:chunks",
        "pipeline_demo.stages:GraphWriter.missing",
        "not a target",
        "no_such_module_xyz:run",
    ]
)


def test_one_root_span_per_episode_with_every_kind_of_function(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str, tmp_path: Path
) -> None:
    package = tmp_path / "pipeline_demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "stages.py").write_text(STAGES)
    env = runtime_env(stack, service_name, PODCAST_KG_OTEL_TRACED_FUNCTIONS=TARGETS)

    result = run_instrumented(APP, env=env)

    assert result.returncode == 0, result.stderr
    assert "failed cannot parse bad" in result.stdout
    traces = jaeger.wait_for_traces(service_name, count=3, min_spans=7)
    assert len(traces) == 3
    prefix = "pipeline_demo.stages."
    for trace in traces:
        root = trace.root
        assert root.name == prefix + "process_episode"
        assert sorted(child.name.removeprefix(prefix) for child in root.children) == [
            "GraphWriter.create",
            "GraphWriter.normalize",
            "GraphWriter.write",
            "chunks",
            "enrich",
        ]
        enrich = trace.one(prefix + "enrich")
        assert [child.name for child in enrich.children] == [prefix + "keywords"]
        assert root.attributes["code.function.name"] == prefix + "process_episode"
    (failed,) = [trace.root for trace in traces if trace.root.status_code == "ERROR"]
    assert len(failed.events_named("exception")) == 1
    assert failed.attributes["error.type"] == "pipeline_demo.stages.EpisodeError"

    warnings = [line for line in result.stderr.splitlines() if "TRACED_FUNCTIONS" in line]
    assert len(warnings) == 3, result.stderr
    assert any("GraphWriter.missing does not exist" in line for line in warnings)
    assert any("'not a target' is invalid" in line for line in warnings)
    assert any("no_such_module_xyz" in line and "cannot be imported" in line for line in warnings)
