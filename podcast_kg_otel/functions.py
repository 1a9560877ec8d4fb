"""Trace the application's own functions from configuration, with no code change.

``PODCAST_KG_OTEL_TRACED_FUNCTIONS`` lists targets ``module:qualified.name`` separated by
``;`` or ``,``, for example ``pipeline.stages:process_episode;pipeline.graph:GraphWriter.write``.
Each target is wrapped right after its module is first imported (a post-import hook, so
nothing is imported early), or, when it names the entry script (``__main__``, or the
script's own name as in ``main:process_file`` for ``python main.py``), right after the
script defines it (``entry_script``): plain functions, methods, static and class methods,
coroutines, generators and async generators. The span covers the whole call (for a
generator, the whole iteration; the span is current only while the generator body runs),
an exception is recorded once with ERROR status and re-raised unchanged.

A malformed entry, an attribute that does not exist or is not a function, and a module
that can never be imported each give one warning; the other targets keep working. Any
target still not traced when the program ends gets one warning then.
"""

from __future__ import annotations

import atexit
import importlib.util
import inspect
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from podcast_kg_otel_util.env import report_bad_value

from podcast_kg_otel import lazy, notices
from podcast_kg_otel.decorators import wrap_callable
from podcast_kg_otel.interpreter import started_by_multiprocessing

TRACED_FUNCTIONS_ENV = "PODCAST_KG_OTEL_TRACED_FUNCTIONS"
CODE_FUNCTION_NAME = "code.function.name"
CODE_FILE_PATH = "code.file.path"
CODE_LINE_NUMBER = "code.line.number"

_logger = logging.getLogger("podcast_kg_otel.functions")
_MARK = "__podcast_kg_otel_traced__"
_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Target:
    module: str
    qualname: str

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.qualname}"


def parse_targets(raw: str | None, variable: str = TRACED_FUNCTIONS_ENV) -> list[Target]:
    """The valid targets in ``raw``; each malformed entry gives one warning."""
    targets: list[Target] = []
    for entry in re.split(r"[;,\n]+", raw or ""):
        item = entry.strip()
        if not item:
            continue
        if not _TARGET.match(item):
            report_bad_value(
                variable, item, "nothing traced for this entry", "expected module:qualified.name"
            )
            continue
        module, qualname = item.split(":", 1)
        target = Target(module, qualname)
        if target not in targets:
            targets.append(target)
    return targets


def _code_attributes(func: Callable[..., Any], full_name: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {CODE_FUNCTION_NAME: full_name}
    code = getattr(func, "__code__", None)
    if code is not None:
        attributes[CODE_FILE_PATH] = code.co_filename
        attributes[CODE_LINE_NUMBER] = code.co_firstlineno
    return attributes


def traced(
    func: Callable[..., Any],
    span_name: str,
    tracer_provider: trace.TracerProvider | None = None,
) -> Callable[..., Any]:
    """``func`` wrapped in a span named ``span_name``, whatever kind of function it is."""
    attributes = _code_attributes(func, span_name)
    wrapper = wrap_callable(func, span_name, attributes, SpanKind.INTERNAL, tracer_provider)
    setattr(wrapper, _MARK, True)
    return wrapper


_warned: set[Target] = set()


def warn_not_traced(target: Target, problem: str) -> None:
    """One warning per target that will not be traced, saying why."""
    if target in _warned:
        return
    _warned.add(target)
    notices.warn(
        _logger,
        f"{TRACED_FUNCTIONS_ENV}: {target.module}:{target.qualname} {problem}; it is not traced",
    )


def wrap_target(
    target: Target, module: ModuleType, tracer_provider: trace.TracerProvider | None = None
) -> bool:
    """Replace the target in the imported ``module`` with a traced version."""
    *path, name = target.qualname.split(".")
    owner: Any = module
    try:
        for part in path:
            owner = getattr(owner, part)
        raw = inspect.getattr_static(owner, name)
    except AttributeError:
        warn_not_traced(target, f"does not exist in module {target.module}")
        return False
    func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    if not inspect.isfunction(func):
        warn_not_traced(target, f"is a {type(raw).__name__}, not a function")
        return False
    if getattr(func, _MARK, False):
        return True
    wrapped = traced(func, target.full_name, tracer_provider)
    if isinstance(raw, staticmethod):
        setattr(owner, name, staticmethod(wrapped))
    elif isinstance(raw, classmethod):
        setattr(owner, name, classmethod(wrapped))
    else:
        setattr(owner, name, wrapped)
    return True


def _module_findable(name: str) -> bool:
    """Whether ``name`` can be imported, without importing an unimported package."""
    parent = name.rpartition(".")[0]
    probe = name if not parent or parent in sys.modules else name.partition(".")[0]
    try:
        return importlib.util.find_spec(probe) is not None
    except (ImportError, ValueError):
        return False


class _Installation:
    def __init__(self, targets: list[Target]) -> None:
        self.targets = targets
        self.wrapped: set[Target] = set()
        self.pid = os.getpid()

    def hook(self, target: Target) -> Callable[[ModuleType], None]:
        def on_import(module: ModuleType) -> None:
            if wrap_target(target, module):
                self.wrapped.add(target)

        return on_import

    def report_unresolved(self) -> None:
        """At exit: one warning for each target that was never traced (in the process that
        configured them, not in its forked or spawned workers)."""
        if os.getpid() != self.pid or started_by_multiprocessing():
            return
        for target in self.targets:
            if target in self.wrapped or target in _warned:
                continue
            if target.module not in sys.modules and not _module_findable(target.module):
                warn_not_traced(target, f"names module {target.module}, which cannot be imported")
            else:
                warn_not_traced(
                    target,
                    f"was never resolved: module {target.module} was not imported, nor run "
                    "as the entry script, before the program ended",
                )


def install_traced_functions(spec: str | None) -> list[Target]:
    """Trace every target of ``spec`` when its module is imported or, for the entry
    script, while it runs (see ``entry_script``); returns the targets."""
    targets = parse_targets(spec)
    if not targets:
        return []
    from podcast_kg_otel.entry_script import EntryScript

    installation = _Installation(targets)
    for target in targets:
        if target.module != "__main__":
            lazy.when_imported(target.module, installation.hook(target))
    EntryScript(targets, installation.wrapped.add).install()
    atexit.register(installation.report_unresolved)
    return targets
