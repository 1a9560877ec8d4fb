"""Traced functions defined in the entry script (``python main.py``, ``python -m main``).

The script runs as ``__main__``, and usually calls its own functions before its body ends
(``if __name__ == "__main__": main()``), so a post-import hook never sees it. Python does
not announce a module-level ``def``: a module's namespace is always a plain ``dict`` (its
``__dict__`` cannot be replaced by a subclass that would see the assignment), and 3.11 has
no dict or function watchers short of ``sys.settrace``. So the script is run one top-level
statement at a time instead, and the targets a statement defined are wrapped before the
next statement runs:

* ``python -m main``: CPython runs the module through ``runpy._run_code``. When that run
  can define a target, its source is parsed and each top-level statement is compiled with
  the module's file name, line numbers and ``__future__`` flags, and executed in the
  module's own namespace, in order.
* ``python main.py``: CPython compiles and runs the file in C, with no hook. A path hook
  claims exactly the script's path, which makes CPython run it through runpy, the route it
  takes for a directory or zip with ``__main__.py``; the module's attributes
  (``__spec__``, ``__loader__``, ``__package__``, ``__cached__``) and ``sys.path[0]`` are
  put back to what a plain script run has.

Nothing changes for a run that cannot define a target. If anything of ours fails before
the first statement runs, the script runs the usual way (logged once); the script's own
exceptions, ``SystemExit`` included, propagate unchanged. The only visible difference is in
the traceback of an uncaught exception: two runpy frames and one of ours above the
script's, as with ``python -m``.
"""

from __future__ import annotations
import __future__

import ast
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable
from importlib.machinery import ModuleSpec, SourceFileLoader
from importlib.util import spec_from_file_location
from types import CodeType, ModuleType
from typing import Any

from podcast_kg_otel_util.failopen import guard

from podcast_kg_otel import lazy
from podcast_kg_otel.functions import Target, warn_not_traced, wrap_target
from podcast_kg_otel.interpreter import started_by_multiprocessing

_logger = logging.getLogger("podcast_kg_otel.functions")
_PREPARE = guard(
    _logger,
    "entry-script",
    "podcast-kg-otel: could not prepare the entry script for traced functions; "
    "it runs the usual way",
)
_RUN_NAMES = ("__main__", "__mp_main__")


class _ScriptLoader(SourceFileLoader):
    """The script's loader for runpy; a script run writes no bytecode cache."""

    def set_data(self, path: str, data: bytes, *, _mode: int = 0o666) -> None:
        return None


class _ScriptFinder:
    """The importer of the script's own path: it finds ``__main__`` there, nothing else."""

    def __init__(self, path: str) -> None:
        self.path = path

    def find_spec(self, fullname: str, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != "__main__":
            return None
        return spec_from_file_location(
            "__main__", self.path, loader=_ScriptLoader("__main__", self.path)
        )

    def invalidate_caches(self) -> None:
        return None


class _Namespace:
    """Attribute access onto a run's globals, for ``wrap_target``."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


def _future_flags(tree: ast.Module) -> int:
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def compile_statements(source: str | bytes, filename: str) -> list[CodeType]:
    """One code object per top-level statement of ``source``, as ``compile`` would make them
    for the whole module (same file name, line numbers, ``__future__`` flags)."""
    tree = ast.parse(source, filename)
    flags = _future_flags(tree)
    codes = []
    for index, statement in enumerate(tree.body):
        body = [statement]
        if index and _is_docstring(statement):
            # Only the module's first statement may set __doc__.
            body.insert(0, ast.copy_location(ast.Pass(), statement))
        module = ast.Module(body=body, type_ignores=[])
        codes.append(compile(module, filename, "exec", flags=flags, dont_inherit=True))
    return codes


def script_path(argv: list[str], main: ModuleType | None) -> str | None:
    """The script's absolute path when the interpreter is about to run ``python FILE``."""
    if not argv or main is None or hasattr(main, "__file__"):
        return None  # -m, -c, the REPL, or the script is already running
    first = argv[0]
    if first in ("", "-", "-c", "-m") or not os.path.isfile(first):
        return None
    if first.endswith((".pyc", ".pyo", ".zip", ".pyz")):
        return None  # compiled or zipped scripts keep the usual route
    return os.path.abspath(first)


def _stem(path: str | None) -> str | None:
    return os.path.splitext(os.path.basename(path))[0] if path else None


class EntryScript:
    """Wraps the targets the entry script defines, while it runs."""

    def __init__(self, targets: Iterable[Target], on_wrapped: Callable[[Target], None]) -> None:
        self.targets = list(targets)
        self.on_wrapped = on_wrapped
        self.script: str | None = None
        self._original_run_code: Callable[..., Any] | None = None
        self._runpy: ModuleType | None = None

    # Installation ------------------------------------------------------------------

    def install(self) -> None:
        """Take over ``python FILE`` when the script can define a target, and patch runpy
        when it is imported (CPython imports it for ``-m`` and for the path-hook route)."""
        path = script_path(sys.argv, sys.modules.get("__main__"))
        if path is not None and self._matching({"__main__", _stem(path)}):
            self.script = path
            sys.path_hooks.insert(0, self._path_hook)
        lazy.when_imported("runpy", self._patch_runpy)

    def uninstall(self) -> None:
        self._forget_path_hook()
        if self._runpy is not None and self._original_run_code is not None:
            self._runpy._run_code = self._original_run_code  # type: ignore[attr-defined]
        self._runpy = self._original_run_code = None

    def _path_hook(self, path: str) -> _ScriptFinder:
        if self.script is not None and os.path.abspath(path) == self.script:
            return _ScriptFinder(path)
        raise ImportError("not the entry script")

    def _forget_path_hook(self) -> None:
        if self._path_hook in sys.path_hooks:
            sys.path_hooks.remove(self._path_hook)
        if self.script is not None:
            sys.path_importer_cache.pop(self.script, None)

    def _patch_runpy(self, runpy: ModuleType) -> None:
        original = runpy._run_code  # type: ignore[attr-defined]
        self._runpy, self._original_run_code = runpy, original

        def _run_code(code: CodeType, run_globals: dict[str, Any], *args: Any, **kwargs: Any):
            ours, statements, pending = self._prepare(original, code, args, kwargs)
            if not ours and statements is None:
                return original(code, run_globals, *args, **kwargs)
            # The globals exactly as runpy sets them up, from an empty module body.
            original(compile("", code.co_filename, "exec"), run_globals, *args, **kwargs)
            if ours:
                self._restore_script_run(code.co_filename, run_globals)
            if statements is None:
                exec(code, run_globals)
                return run_globals
            for statement in statements:
                exec(statement, run_globals)
                if pending:
                    self._wrap_defined(pending, run_globals)
            self._report_undefined(pending, code.co_filename)
            return run_globals

        runpy._run_code = _run_code  # type: ignore[attr-defined]

    # One run -----------------------------------------------------------------------

    def _matching(self, names: set[str | None]) -> list[Target]:
        return [target for target in self.targets if target.module in names]

    def _prepare(
        self,
        original: Callable[..., Any],
        code: CodeType,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[bool, list[CodeType] | None, list[Target]]:
        """Whether this is ``python FILE`` taken over by our path hook, and the run's
        statements (None: run its code the usual way) and targets."""
        ours = False
        with _PREPARE:
            call = inspect.signature(original).bind(code, {}, *args, **kwargs)
            mod_name = call.arguments.get("mod_name")
            spec = call.arguments.get("mod_spec")
            ours = spec is not None and isinstance(spec.loader, _ScriptLoader)
            if mod_name not in _RUN_NAMES:
                return ours, None, []
            filename = code.co_filename
            names = {"__main__", mod_name}
            if spec is None or ours or spec.name == "__main__":
                names.add(_stem(filename))
            else:
                names.add(spec.name)
                spec.loader = lazy.real_loader(spec.loader)
            pending = self._matching(names)
            source = self._source(spec, filename) if pending else None
            if source is None:
                return ours, None, []
            return ours, compile_statements(source, filename), pending
        return ours, None, []  # our code failed: the script runs the usual way

    @staticmethod
    def _source(spec: ModuleSpec | None, filename: str) -> str | bytes | None:
        loader = getattr(spec, "loader", None)
        if spec is not None and hasattr(loader, "get_source"):
            return loader.get_source(spec.name)  # type: ignore[union-attr]
        with open(filename, "rb") as file:
            return file.read()

    def _restore_script_run(self, filename: str, run_globals: dict[str, Any]) -> None:
        """What ``python FILE`` has that the runpy route changed."""
        with guard(_logger, "restoring the entry script's attributes"):
            self._restore(filename, run_globals)

    def _restore(self, filename: str, run_globals: dict[str, Any]) -> None:
        self._forget_path_hook()
        run_globals.update(
            __spec__=None,
            __package__=None,
            __cached__=None,
            __loader__=SourceFileLoader("__main__", filename),
        )
        if sys.path and sys.path[0] in (filename, self.script):
            if getattr(sys.flags, "safe_path", False):
                del sys.path[0]
            else:
                sys.path[0] = os.path.dirname(os.path.realpath(filename))

    def _wrap_defined(self, pending: list[Target], run_globals: dict[str, Any]) -> None:
        with guard(_logger, "wrapping a function of the entry script"):
            namespace = None
            for target in list(pending):
                if target.qualname.split(".", 1)[0] not in run_globals:
                    continue
                pending.remove(target)
                namespace = namespace or _Namespace(run_globals)
                if wrap_target(target, namespace):  # type: ignore[arg-type]
                    self.on_wrapped(target)

    @staticmethod
    def _report_undefined(pending: list[Target], script: str) -> None:
        """Once, from the process that runs the program (its workers re-run the script)."""
        with guard(_logger, "reporting targets of the entry script"):
            if started_by_multiprocessing():
                return
            for target in pending:
                warn_not_traced(target, f"is not defined by the entry script {script}")
