"""The distro's import depth: the longest chain of intra-package imports in podcast_kg_otel.

By default an edge is an ``import``/``from ... import`` of a ``podcast_kg_otel`` module at
module level (what importing a module runs); with ``--all`` imports inside functions and
under ``TYPE_CHECKING`` count too (every dependency a reader follows). A cycle is reported
and broken at the edge that closes it. Prints the depth (modules on the longest chain) and
the chain itself.

    .venv/bin/python tools/import_depth.py [--all] [package directory]
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

PACKAGE = "podcast_kg_otel"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _statements(tree: ast.Module, everywhere: bool) -> list[ast.stmt]:
    """The import statements to count: all of them, or those run at import time."""
    if everywhere:
        return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    found: list[ast.stmt] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            pending += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                pending += handler.body
    return found


def imports(root: Path, everywhere: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = {module_name(root, path): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _statements(ast.parse(path.read_text(), str(path)), everywhere):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name and t != PACKAGE}
    return graph


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    cycles: list[tuple[str, str]] = []

    @cache
    def chain(module: str, visiting: frozenset[str] = frozenset()) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for target in sorted(graph[module]):
            if target in visiting:
                cycles.append((module, target))
                continue
            candidate = chain(target, visiting | {module})
            if len(candidate) > len(best):
                best = candidate
        return (module, *best)

    result = max((chain(m, frozenset()) for m in sorted(graph)), key=len)
    for source, target in sorted(set(cycles)):
        print(f"cycle broken: {source} -> {target}", file=sys.stderr)
    return list(result)


def main() -> None:
    args = sys.argv[1:]
    everywhere = "--all" in args
    paths = [arg for arg in args if arg != "--all"]
    root = Path(paths[0] if paths else Path(__file__).parents[1] / PACKAGE)
    chain = longest_chain(imports(root.resolve(), everywhere))
    print(f"import depth: {len(chain)} layers")
    print(" -> ".join(chain))


if __name__ == "__main__":
    main()
