"""Post-import hooks, and instrumentors applied only when their library is imported.

Stock auto-instrumentation loads every installed instrumentor at start-up, and most of
them import their target library at module level (the redis instrumentor imports redis),
so an app that never touches redis still pays for it. Here an instrumentor entry point is
only *registered* at start-up; it is loaded and applied right after its target library's
first import (``import x``, ``from x import y`` or ``import x.sub`` all import ``x``), or
at once when the library is already imported.

The hooks come from our own ``sys.meta_path`` finder rather than ``wrapt.importer``: it is
a few lines, it fires each hook exactly once, it never lets a hook's error break the
user's import, and it can wait for an instrumentor module that is itself still being
imported (see ``_LazyInstrumentor``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.util
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from podcast_kg_otel_util.failopen import guard

_logger = logging.getLogger("podcast_kg_otel.lazy")

Hook = Callable[[ModuleType], None]

_hooks: dict[str, list[Hook]] = {}
_lock = threading.RLock()

# Instrumentors whose target is the standard library: their distributions declare no
# `instruments` requirement to derive the module from.
_STDLIB_TARGETS: dict[str, tuple[str, ...]] = {
    "logging": ("logging",),
    "threading": ("threading",),
    "asyncio": ("asyncio",),
    "sqlite3": ("sqlite3",),
    "urllib": ("urllib.request",),
}

# Instrumentors whose distribution's requirements do not name the right module: the
# google-genai SDK lives in the `google` namespace package that protobuf (so the OTLP
# exporter) imports too, and one httpx distribution ships an instrumentor per library.
_NAMED_TARGETS: dict[str, tuple[str, ...]] = {
    "google-genai": ("google.genai",),
    "httpx": ("httpx",),
    "httpx2": ("httpx2",),
}


def _initializing(module: ModuleType | None) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _run(name: str, hook: Hook, module: ModuleType) -> None:
    # A hook never breaks the user's import.
    with guard(
        _logger, f"hook:{name}:{hook!r}", f"podcast-kg-otel: post-import hook for {name} failed"
    ):
        hook(module)


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        hooks = _hooks.pop(name, [])
    for hook in hooks:
        _run(name, hook, module)


class _NotifyingLoader(importlib.abc.Loader):
    """Runs the real loader, then the hooks registered for the module."""

    def __init__(self, loader: importlib.abc.Loader, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # Put the real loader back first, so the module (importlib.resources, pkgutil)
        # never sees this wrapper.
        module.__spec__.loader = self._loader
        with contextlib.suppress(AttributeError):
            module.__loader__ = self._loader
        self._loader.exec_module(module)
        _fire(self._name, sys.modules.get(self._name, module))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._loader, attribute)


def real_loader(loader: Any) -> Any:
    """The loader under our wrapper: runpy runs a module from its spec without importing
    it, so the wrapper never gets to put the real loader back itself."""
    return loader._loader if isinstance(loader, _NotifyingLoader) else loader


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of modules that have pending hooks."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _hooks:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _NotifyingLoader(spec.loader, fullname)
            return spec
        return None


_finder = _PostImportFinder()


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once, right after module ``name`` is first imported.

    When the module is already imported, the hook runs now. Errors in the hook are
    logged once and never reach the importing code.
    """
    with _lock:
        module = sys.modules.get(name)
        if module is None or _initializing(module):
            _hooks.setdefault(name, []).append(hook)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    _run(name, hook, module)


def pending() -> list[str]:
    """Module names that still have hooks waiting for their import."""
    with _lock:
        return sorted(_hooks)


@functools.cache
def _distribution_module(distribution: str) -> str | None:
    """The top-level module a distribution installs, found without importing it (looked up
    once per distribution: grpcio alone has four instrumentor entry points)."""
    candidate = re.sub(r"[-_.]+", "_", distribution).lower()
    try:
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    except (ImportError, ValueError):
        pass
    try:
        from importlib.metadata import distribution as find

        top_level = find(distribution).read_text("top_level.txt") or ""
    except Exception:  # unknown layout: the caller loads eagerly
        return None
    names = [line.strip() for line in top_level.splitlines() if line.strip()]
    return names[0] if names else None


def instrumentor_targets(entry_point: Any) -> tuple[str, ...] | None:
    """The modules whose import should trigger an instrumentor entry point.

    Derived from the ``instruments`` / ``instruments-any`` requirements of the
    entry point's distribution; None when they cannot be worked out (load eagerly).
    """
    if entry_point.name in _STDLIB_TARGETS:
        return _STDLIB_TARGETS[entry_point.name]
    if entry_point.name in _NAMED_TARGETS:
        return _NAMED_TARGETS[entry_point.name]
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    modules: list[str] = []
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or not any(
            marker.evaluate({"extra": extra}) for extra in ("instruments", "instruments-any")
        ):
            continue
        module = _distribution_module(requirement.name)
        if module is None:
            return None
        if module not in modules:
            modules.append(module)
    return tuple(modules) or None


class _LazyInstrumentor:
    """One instrumentor entry point waiting for its target library.

    It applies when a target module has been imported, but not while the instrumentor's
    own module is half-imported (``from opentelemetry.instrumentation.redis import
    RedisInstrumentor`` imports redis first): then it waits for that module to finish.
    """

    def __init__(self, entry_point: Any, targets: Iterable[str], kwargs: dict[str, Any]) -> None:
        self.entry_point = entry_point
        self.targets = tuple(targets)
        self.kwargs = kwargs
        self.started = False
        self.target_loaded = False
        self._lock = threading.Lock()

    def watch(self) -> None:
        when_imported(self.entry_point.module, self._on_instrumentor_module)
        for target in self.targets:
            when_imported(target, self._on_target)

    def _on_target(self, _module: ModuleType) -> None:
        self.target_loaded = True
        self._apply_if_ready()

    def _on_instrumentor_module(self, _module: ModuleType) -> None:
        # Its body has run; importlib only clears `_initializing` after this hook.
        self._apply_if_ready(instrumentor_complete=True)

    def _apply_if_ready(self, instrumentor_complete: bool = False) -> None:
        if not self.target_loaded:
            return
        if not instrumentor_complete and _initializing(sys.modules.get(self.entry_point.module)):
            return
        with self._lock:
            if self.started:
                return
            self.started = True
        name = self.entry_point.name
        with guard(  # one instrumentor never breaks the app
            _logger,
            f"instrument:{name}",
            f"podcast-kg-otel: instrumentor {name} failed to load or apply; "
            "the application continues without it",
        ):
            instrumentor = self.entry_point.load()()
            if getattr(instrumentor, "_is_instrumented_by_opentelemetry", False):
                return
            instrumentor.instrument(**self.kwargs)
            _logger.debug("Instrumented %s on import of %s", name, self.targets)


def defer_instrumentor(entry_point: Any, **kwargs: Any) -> bool:
    """Apply ``entry_point``'s instrumentor when its target library is imported.

    Returns False when the target modules cannot be worked out; the caller then loads
    the instrumentor the stock way.
    """
    targets = instrumentor_targets(entry_point)
    if not targets:
        return False
    _LazyInstrumentor(entry_point, targets, kwargs).watch()
    return True
