"""Traced-function targets (``PODCAST_KG_OTEL_TRACED_FUNCTIONS``): which resolve, which do
not, and why.

A target's module is found without importing it, and its source is read to find the
function: nothing of the application runs. Only when the source cannot tell (the name is
bound by an assignment or an import, the module is compiled or has no source) is the
module imported, guarded, and the output says so.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.machinery
import importlib.util
import io
import os
import sys
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from typing import Any

from podcast_kg_otel.doctor.findings import ERROR, INFO, Problem, captured_warnings, lenient
from podcast_kg_otel.functions import TRACED_FUNCTIONS_ENV, Target, parse_targets, wrap_target

SECTION = "traced_functions"
ENTRY_MODULE = "__main__"
CURRENT_DIRECTORY = "the current directory"


def find_spec(module: str) -> tuple[ModuleSpec | None, str]:
    """The module's spec, found without running any of its packages, and where from
    ("imported" when only an import can tell: a module that is no package's file, like
    ``os.path``)."""
    if module in sys.modules:
        return getattr(sys.modules[module], "__spec__", None), "imported"
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
        where = "sys.path"
        if spec is None and os.getcwd() not in sys.path:
            spec = importlib.machinery.PathFinder.find_spec(parts[0], [os.getcwd()])
            where = CURRENT_DIRECTORY
        for depth in range(1, len(parts)):
            if spec is None:
                return None, where
            if not spec.submodule_search_locations:
                return spec, "imported"
            name = ".".join(parts[: depth + 1])
            spec = importlib.machinery.PathFinder.find_spec(
                name, list(spec.submodule_search_locations)
            )
    except (ImportError, ValueError):
        return None, "sys.path"
    return spec, where


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a module or class body, looking into if/try/with blocks."""
    for statement in body:
        yield statement
        for block in ("body", "orelse", "finalbody"):
            if isinstance(statement, (ast.If, ast.Try, ast.With)):
                yield from _statements(getattr(statement, block, []))
        for handler in getattr(statement, "handlers", []):
            yield from _statements(handler.body)


def _bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    return {
        node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
    }


def find_in_source(source: str, qualname: str) -> tuple[str, int | None]:
    """What ``qualname`` is in ``source``: ("function", line), ("class", line),
    ("missing", None), or ("unknown", None) when only running the module can tell."""
    body: list[ast.stmt] = ast.parse(source).body
    parts = qualname.split(".")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        found: ast.stmt | None = None
        dynamic = False
        for statement in _statements(body):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if statement.name == part:
                    found = statement  # the last definition wins, as at run time
            elif part in _bound_names(statement) or "*" in _bound_names(statement):
                dynamic = True
        if dynamic:
            return "unknown", None
        if found is None:
            return "missing", None
        if last:
            kind = "class" if isinstance(found, ast.ClassDef) else "function"
            return kind, found.lineno
        if not isinstance(found, ast.ClassDef):
            return "unknown", None  # an attribute of a function: only running can tell
        body = found.body
    return "unknown", None


def _import_and_resolve(target: Target) -> tuple[bool, str]:
    """Import the module (guarded, its output kept off ours) and resolve the target the way
    the distro will; (resolves, why not)."""
    with captured_warnings("podcast_kg_otel.functions") as warnings:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                module = importlib.import_module(target.module)
        except BaseException as error:  # SystemExit too: the module's code is not ours
            return False, f"importing module {target.module} raised {type(error).__name__}: {error}"
        resolved = wrap_target(target, module)
    if resolved:
        return True, ""
    why = warnings[0] if warnings else "it cannot be wrapped"
    prefix = f"{TRACED_FUNCTIONS_ENV}: {target.module}:{target.qualname} "
    return False, why.removeprefix(prefix).removesuffix("; it is not traced")


def _static(target: Target, origin: str, row: dict[str, Any]) -> str:
    """Look the target up in its module's source; fills ``row``, returns the kind found."""
    with open(origin, encoding="utf-8", errors="replace") as file:
        try:
            kind, line = find_in_source(file.read(), target.qualname)
        except SyntaxError as error:
            row["note"] = f"{origin} does not parse: {error.msg}"
            return "unknown"
    if kind == "function":
        row["where"] = f"{origin}:{line}"
    elif kind == "class":
        row.update(status="unresolved", reason=f"{target.qualname} is a class, not a function")
    elif kind == "missing":
        row.update(status="unresolved", reason=f"{target.qualname} is not defined in {origin}")
    return kind


def check_target(target: Target) -> dict[str, Any]:
    """One target: resolves, unresolved (with the reason) or entry script."""
    row: dict[str, Any] = {"target": f"{target.module}:{target.qualname}"}
    if target.module == ENTRY_MODULE:
        row.update(
            status="entry script",
            reason="resolves only while the entry script runs, whichever script that is",
        )
        return row
    spec, where = find_spec(target.module)
    if spec is None:
        row.update(
            status="unresolved",
            reason=f"module {target.module} cannot be found on sys.path (not installed, "
            "misspelled, or its directory is not on PYTHONPATH)",
        )
        return row
    here = where == CURRENT_DIRECTORY  # not importable from here, only when run from here
    if here and "." not in target.module:
        row.update(
            status="entry script",
            reason=f"{target.module} is in the current directory, not on sys.path: resolves "
            f"while it runs as the program (python {target.module}.py, or python -m "
            f"{target.module} from this directory)",
        )
    elif here:
        row["note"] = (
            f"found in the current directory ({os.getcwd()}), not on sys.path: importable "
            "when the program runs from here"
        )
    origin = spec.origin or ""
    kind = "unknown"
    if where != "imported" and origin.endswith(".py") and os.path.isfile(origin):
        kind = _static(target, origin, row)
    if kind in ("class", "missing"):
        return row
    if kind == "function":
        row.setdefault("status", "resolves")
        return row
    if here:
        row.setdefault("status", "unchecked")
        row.setdefault("reason", "only running the program can tell (the source does not)")
        return row
    resolved, why = _import_and_resolve(target)
    row.update(imported=True, status="resolves" if resolved else "unresolved")
    if not resolved:
        row["reason"] = why
    return row


def check_targets(raw: str) -> tuple[dict[str, Any], list[Problem]]:
    """Every entry of ``raw`` (the variable's value): malformed, resolving or not."""
    problems: list[Problem] = []
    with lenient(), captured_warnings() as malformed:
        targets = parse_targets(raw)
    rows = [check_target(target) for target in targets]
    for message in malformed:
        problems.append(Problem(ERROR, SECTION, message))
    for row in rows:
        if row["status"] == "unresolved":
            problems.append(Problem(ERROR, SECTION, f"{row['target']}: {row['reason']}"))
        elif row["status"] in ("entry script", "unchecked"):
            problems.append(Problem(INFO, SECTION, f"{row['target']}: {row['reason']}"))
    return {"targets": rows, "malformed": list(malformed)}, problems
