"""Which chain runs are plumbing: composition glue that adds nothing to a trace.

Sequences, parallels, passthroughs, prompt templates, output parsers and LangGraph's
hidden internals are folded away by default (their children attach to the nearest shown
ancestor); user functions, named chains and graph nodes keep a span.
"""

from __future__ import annotations

from collections.abc import Sequence

_PLUMBING_PREFIXES = (
    "RunnableSequence",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableAssign",
    "RunnablePick",
    "RunnableBinding",
    "RunnableEach",
    "RunnableBranch",
    "RunnableWithFallbacks",
    "RunnableLambda",
    "RunnableGenerator",
    "ChannelWrite",
    "ChannelRead",
    "Branch<",
    "__",
)
_PLUMBING_RUN_TYPES = frozenset({"prompt", "parser"})
_HIDDEN_TAG = "langsmith:hidden"


def is_plumbing(name: str, run_type: str | None, tags: Sequence[str] | None) -> bool:
    if run_type in _PLUMBING_RUN_TYPES:
        return True
    if tags and _HIDDEN_TAG in tags:
        return True
    return name.startswith(_PLUMBING_PREFIXES)
