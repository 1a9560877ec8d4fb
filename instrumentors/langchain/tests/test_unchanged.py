"""LangChain behaves the same with the instrumentor on: `astream_events`, `astream_log`,
`collect_runs` and the user's own sync and async handlers see exactly the events they
see without it, for chat models and text LLMs, in sync and async code.

Each test records what LangChain shows uninstrumented, instruments, records again and
compares; run ids (new on every call) are replaced by their order of appearance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel, FakeListLLM
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from langchain_core.tracers.context import collect_runs

pytestmark = pytest.mark.usefixtures("no_context_errors")

PROMPT = PromptTemplate.from_template("Tell me about {topic}")
TEXT = "text_completion"
MODELS: dict[str, Callable[[], Any]] = {
    "llm": lambda: FakeListLLM(responses=["one two", "three four"]),
    "chat": lambda: FakeListChatModel(responses=["one two", "three four"]),
}
EVENTS = (
    "on_llm_start",
    "on_chat_model_start",
    "on_llm_new_token",
    "on_llm_end",
    "on_llm_error",
    "on_chain_start",
    "on_chain_end",
    "on_chain_error",
)


class Ids:
    """Run ids replaced by their order of first appearance."""

    def __init__(self) -> None:
        self._seen: dict[Any, int] = {}

    def __call__(self, run_id: Any) -> int | None:
        if run_id is None:
            return None
        return self._seen.setdefault(str(run_id), len(self._seen))


def _recorder(base: type, asynchronous: bool) -> type:
    """A handler class that records every chain and model callback it gets."""

    def make(event: str) -> Any:
        def record(self: Any, *args: Any, run_id: UUID, parent_run_id: Any = None, **kw: Any):
            self.calls.append((event, self.ids(run_id), self.ids(parent_run_id)))

        if not asynchronous:
            return record

        async def arecord(self: Any, *args: Any, **kwargs: Any) -> None:
            record(self, *args, **kwargs)

        return arecord

    def init(self: Any) -> None:
        base.__init__(self)
        self.calls = []
        self.ids = Ids()

    return type("Recorder", (base,), {"__init__": init, **{e: make(e) for e in EVENTS}})


SyncRecorder = _recorder(BaseCallbackHandler, asynchronous=False)
AsyncRecorder = _recorder(AsyncCallbackHandler, asynchronous=True)


def chain(kind: str) -> Any:
    return PROMPT | MODELS[kind]() | StrOutputParser()


async def call(runnable: Any, how: str, config: dict[str, Any] | None = None) -> Any:
    """One call of `runnable` in the style `how`, in this event loop or in a thread."""
    inputs = {"topic": "graphs"}
    if how == "invoke":
        return await asyncio.to_thread(runnable.invoke, inputs, config)
    if how == "ainvoke":
        return await runnable.ainvoke(inputs, config)
    if how == "stream":
        return await asyncio.to_thread(lambda: list(runnable.stream(inputs, config)))
    if how == "astream":
        return [chunk async for chunk in runnable.astream(inputs, config)]
    if how == "batch":
        return await asyncio.to_thread(runnable.batch, [inputs, inputs], config)
    if how == "abatch":
        return await runnable.abatch([inputs, inputs], config)
    raise AssertionError(how)


async def both(instrument: Callable[..., Any], observe: Callable[[], Any]) -> tuple[Any, Any]:
    """What `observe()` returns without the instrumentor, then with it."""
    plain = await observe()
    spans = instrument()
    traced = await observe()
    assert spans.all, "the instrumented run made no span"
    return plain, traced


KINDS = pytest.mark.parametrize("kind", sorted(MODELS))
CALLS = pytest.mark.parametrize(
    "how", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"]
)


@KINDS
async def test_astream_events(instrument, kind):
    async def observe():
        ids = Ids()
        return [
            (e["event"], e["name"], ids(e["run_id"]), tuple(ids(p) for p in e["parent_ids"]))
            async for e in chain(kind).astream_events({"topic": "graphs"}, version="v2")
        ]

    plain, traced = await both(instrument, observe)
    model_events = [e for e in plain if e[1].startswith("FakeList")]
    assert [e[0] for e in model_events][:1] in (["on_llm_start"], ["on_chat_model_start"])
    assert model_events[-1][0] in ("on_llm_end", "on_chat_model_end")
    assert traced == plain


@KINDS
async def test_astream_log(instrument, kind):
    async def observe():
        patches = [p async for p in chain(kind).astream_log({"topic": "graphs"})]
        return [(op["op"], op["path"]) for patch in patches for op in patch.ops]

    plain, traced = await both(instrument, observe)
    model_log = f"/logs/{MODELS[kind]().__class__.__name__}"
    assert ("add", model_log) in plain
    assert traced == plain


def _tree(run: Any) -> tuple[Any, ...]:
    return (
        run.name,
        run.run_type,
        tuple(e["name"] for e in run.events),
        run.error,
        run.outputs is not None,
        tuple(_tree(child) for child in run.child_runs),
    )


@KINDS
@CALLS
async def test_collect_runs(instrument, kind, how):
    async def observe():
        with collect_runs() as collector:
            await call(chain(kind), how)
        return sorted(_tree(run) for run in collector.traced_runs)

    plain, traced = await both(instrument, observe)
    assert plain and all(len(tree[-1]) == 3 for tree in plain)  # prompt, model, parser
    assert traced == plain


@KINDS
@CALLS
@pytest.mark.parametrize("recorder", [SyncRecorder, AsyncRecorder], ids=["sync", "async"])
async def test_users_own_handler(instrument, kind, how, recorder):
    async def observe():
        handler = recorder()
        await call(chain(kind), how, {"callbacks": [handler]})
        # A batch's inputs run concurrently: compare its run trees, not the interleaving.
        return _forest(handler.calls) if how in ("batch", "abatch") else handler.calls

    plain, traced = await both(instrument, observe)
    start = "on_llm_start" if kind == "llm" else "on_chat_model_start"
    events = repr(plain)
    runs = 2 if how in ("batch", "abatch") else 1
    assert events.count(repr(start)) == events.count("'on_llm_end'") == runs
    assert traced == plain


def _forest(calls: list[tuple[str, int, int | None]]) -> list[Any]:
    """The recorded calls as sorted run trees: each run's own events in order, then its
    children's trees."""
    events: dict[int, list[str]] = {}
    children: dict[int | None, list[int]] = {}
    for event, run, parent in calls:
        if run not in events:
            events[run] = []
            children.setdefault(parent, []).append(run)
        events[run].append(event)

    def tree(run: int) -> tuple[Any, ...]:
        return (tuple(events[run]), sorted(tree(c) for c in children.get(run, ())))

    return sorted(tree(root) for root in children.get(None, ()))


class HttpLLM(FakeListLLM):
    """A text LLM whose async call makes a client span, as an HTTP instrumentation would."""

    tracer: Any = None

    async def _acall(self, *args: Any, **kwargs: Any) -> str:
        with self.tracer.start_as_current_span("POST /v1/completions"):
            return await super()._acall(*args, **kwargs)


async def test_async_text_llm_span_keeps_its_parent_and_children(instrument):
    spans = instrument()
    model = HttpLLM(responses=["one two"], tracer=spans.provider.get_tracer("http"))
    tracer = spans.provider.get_tracer("app")

    with tracer.start_as_current_span("request") as request:
        await (PROMPT | model | StrOutputParser()).ainvoke({"topic": "graphs"})

    workflow = spans.one("invoke_workflow RunnableSequence")
    assert workflow.parent.span_id == request.context.span_id
    llm = spans.one(TEXT)
    assert spans.parent_of(llm) is workflow
    assert spans.parent_of(spans.one("POST /v1/completions")) is llm
    spans.assert_each_ended_once()
