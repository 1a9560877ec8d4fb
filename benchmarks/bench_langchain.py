"""LangChain instrumentation overhead, ours against OpenInference, OpenLLMetry and the
official OpenTelemetry instrumentation, in one run.

The chain is `ChatPromptTemplate | FakeListChatModel | StrOutputParser`, the model
naming itself (`model_name`), as provider models do: the official instrumentation makes
no chat span for a model without a name. Each
implementation runs in its own worker process: ours in this repository's environment,
the competitors each in a virtual environment of their own (they register a conflicting
`langchain` entry point), created on first use under
~/.cache/podcast-kg-otel/bench-venvs/. A worker first times the chain uninstrumented,
then instruments it with its default settings and an SDK TracerProvider with a
BatchSpanProcessor and a discarding exporter, and times it again; the added cost per
invocation is the difference, measured inside the same process.

Two more rows run in this repository's environment: `noop-handler`, a handler with
every callback ours has, as no-ops, hooked like ours (LangChain's own callback cost, the
floor of any callback-based tracer), and `ours-noop-sdk`, ours with a no-op
TracerProvider (our handler's logic without the SDK's span cost; its spans do not
record, so the response attributes are not read either).

`spans/call` is what each exported per instrumented call: the rows are comparable only
where it is the same.

`--cpu` times the process's CPU time instead of the wall clock (the batch processor's
export thread included): on a machine shared with other work, wall-clock rounds measure
the load more than the code.

    python benchmarks/bench_langchain.py [--calls 2000] [--rounds 7] [--cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from pathlib import Path

LANGCHAIN_CORE = "langchain-core==1.7.2"
OTEL_SDK = "opentelemetry-sdk==1.45.2"
COMPETITORS = {
    "openinference": "openinference-instrumentation-langchain==0.1.80",
    "openllmetry": "opentelemetry-instrumentation-langchain==0.62.4",
    # The official one (python-genai repository), pre-release only.
    "otel-genai": "opentelemetry-instrumentation-genai-langchain==1.3b0",
}
# It declares `langchain` (the umbrella package) as its instrumented library; the
# callbacks it hooks are langchain-core's, which is all this environment has.
INSTRUMENT_KWARGS: dict[str, dict[str, object]] = {"otel-genai": {"skip_dep_check": True}}
VENV_ROOT = Path.home() / ".cache" / "podcast-kg-otel" / "bench-venvs"


def _instrumentor(impl: str) -> object:
    if impl in ("ours", "ours-noop-sdk"):
        from podcast_kg_otel_langchain import LangChainInstrumentor

        return LangChainInstrumentor()
    if impl == "noop-handler":
        return _NoopHandlerInstrumentor()
    if impl == "openinference":
        from openinference.instrumentation.langchain import LangChainInstrumentor

        return LangChainInstrumentor()
    if impl == "openllmetry":
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor

        return LangchainInstrumentor()
    if impl == "otel-genai":
        from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor

        return LangChainInstrumentor()
    raise SystemExit(f"unknown implementation {impl!r}")


class _NoopHandlerInstrumentor:
    """The floor of any callback-based tracer: a handler that implements every callback
    ours implements, as a no-op, with our handler's flags, added by our own hook.

    Implementing them matters: `BaseCallbackHandler.on_chat_model_start` raises
    NotImplementedError, and LangChain answers that by rendering the messages to text
    (`get_buffer_string`) and calling `on_llm_start` instead, which a bare subclass would
    charge to the floor."""

    def instrument(self, **kwargs: object) -> None:
        from langchain_core.callbacks import BaseCallbackHandler
        from podcast_kg_otel_langchain.handler import OtelCallbackHandler
        from podcast_kg_otel_langchain.hook import TARGETS, AddHandler
        from wrapt import wrap_function_wrapper

        def noop(self: object, *args: object, **kwargs: object) -> None:
            return None

        callbacks = {
            name: noop
            for name in vars(OtelCallbackHandler)
            if name.startswith("on_") and callable(getattr(OtelCallbackHandler, name))
        }
        flags = {
            name: getattr(OtelCallbackHandler, name)
            for name in ("run_inline", "raise_error", "ignore_custom_event")
        }
        copies = {"__copy__": lambda self: self, "__deepcopy__": lambda self, memo: self}
        noop_class = type("Noop", (BaseCallbackHandler,), {**callbacks, **flags, **copies})
        hook = AddHandler(noop_class())
        for target in TARGETS:
            wrap_function_wrapper("langchain_core.callbacks.manager", target, hook)

    def uninstrument(self) -> None:
        import langchain_core.callbacks.manager as manager

        for cls in (manager.CallbackManager, manager.AsyncCallbackManager):
            cls.configure = cls.__dict__["configure"].__wrapped__


_clock = time.perf_counter


def _time_per_call(chain: object, calls: int) -> float:
    """Mean time per call, in microseconds."""
    payload = {"topic": "graphs"}
    start = _clock()
    for _ in range(calls):
        chain.invoke(payload)  # type: ignore[attr-defined]
    return (_clock() - start) / calls * 1e6


def worker(impl: str, calls: int, rounds: int) -> dict[str, float]:
    """Uninstrumented rounds, then instrumented rounds; best and median round of each."""
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Discard(SpanExporter):
        count = 0

        def export(self, spans: Sequence[object]) -> SpanExportResult:
            Discard.count += len(spans)
            return SpanExportResult.SUCCESS

    class NamedFakeChat(FakeListChatModel):
        model_name: str = "fake-model-1"

    prompt = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])
    chain = prompt | NamedFakeChat(responses=["a fine answer"]) | StrOutputParser()
    from opentelemetry.trace import NoOpTracerProvider

    if impl == "ours-noop-sdk":
        # Our handler's own logic: the same callbacks, but spans that cost nothing.
        provider = NoOpTracerProvider()
    else:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Discard()))
    instrumentor = _instrumentor(impl)
    # Not alternated: OpenLLMetry's uninstrument() leaves part of its cost behind, so
    # every implementation gets all uninstrumented rounds first, then is instrumented once.
    _time_per_call(chain, calls // 4)
    base = [_time_per_call(chain, calls) for _ in range(rounds)]
    instrumentor.instrument(tracer_provider=provider, **INSTRUMENT_KWARGS.get(impl, {}))  # type: ignore[attr-defined]
    _time_per_call(chain, calls // 4)
    instrumented = [_time_per_call(chain, calls) for _ in range(rounds)]
    getattr(provider, "shutdown", lambda: None)()
    return {
        "spans_per_call": Discard.count / (calls // 4 + calls * rounds),
        "base_us": min(base),
        "instrumented_us": min(instrumented),
        "base_median_us": statistics.median(base),
        "instrumented_median_us": statistics.median(instrumented),
    }


def _competitor_python(name: str) -> Path:
    root = VENV_ROOT / name
    python = root / "bin" / "python"
    if not python.exists():
        print(f"creating {root} (one-time)", file=sys.stderr)
        venv.create(root, with_pip=True)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", LANGCHAIN_CORE, OTEL_SDK, COMPETITORS[name]],
            check=True,
        )
    return python


def _run_worker(
    python: Path | str, impl: str, calls: int, rounds: int, cpu: bool
) -> dict[str, float]:
    env = {**os.environ, "OTEL_SDK_DISABLED": "false"}
    env.pop("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", None)
    out = subprocess.run(
        [str(python), __file__, "--worker", impl, "--calls", str(calls), "--rounds", str(rounds)]
        + (["--cpu"] if cpu else []),
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cpu", action="store_true", help="time process CPU, not wall clock")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.cpu:
            global _clock
            _clock = time.process_time
        print(json.dumps(worker(args.worker, args.calls, args.rounds)))
        return
    pythons = {
        "noop-handler": sys.executable,
        "ours-noop-sdk": sys.executable,
        "ours": sys.executable,
    }
    pythons.update({name: _competitor_python(name) for name in COMPETITORS})
    results = {
        impl: _run_worker(python, impl, args.calls, args.rounds, args.cpu)
        for impl, python in pythons.items()
    }
    print("chain: prompt | FakeListChatModel | StrOutputParser,", end=" ")
    clock = "process CPU time" if args.cpu else "wall clock"
    print(f"{args.calls} calls x {args.rounds} rounds, {clock}; best round (median round)")
    header = ("implementation", "uninstr. us", "instr. us", "added us", "added %", "spans/call")
    print(
        f"{header[0]:<15}{header[1]:>19}{header[2]:>19}{header[3]:>10}{header[4]:>9}{header[5]:>12}"
    )
    for impl, row in results.items():
        added = row["instrumented_us"] - row["base_us"]
        base = f"{row['base_us']:.1f} ({row['base_median_us']:.1f})"
        instrumented = f"{row['instrumented_us']:.1f} ({row['instrumented_median_us']:.1f})"
        print(
            f"{impl:<15}{base:>19}{instrumented:>19}"
            f"{added:>10.1f}{100 * added / row['base_us']:>8.1f}%"
            f"{row['spans_per_call']:>12.2f}"
        )
    added = {i: r["instrumented_us"] - r["base_us"] for i, r in results.items()}
    for name in COMPETITORS:
        print(f"{name} / ours added cost: {added[name] / added['ours']:.2f}")
    best = min(added[name] for name in COMPETITORS)
    print(f"ours / best competitor added cost: {added['ours'] / best:.2f}")
    floor = added["noop-handler"]
    print(
        f"ours above the no-op handler floor: {added['ours'] - floor:.1f} us "
        f"(our logic, no-op SDK: {added['ours-noop-sdk'] - floor:.1f} us; "
        f"SDK spans: {added['ours'] - added['ours-noop-sdk']:.1f} us)"
    )


if __name__ == "__main__":
    main()
