"""Traced functions of the entry script, run in-process through runpy (the route CPython
takes for ``python -m`` and, with our path hook, for ``python FILE``)."""

from __future__ import annotations

import logging
import runpy
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from podcast_kg_otel import entry_script, functions
from podcast_kg_otel.entry_script import EntryScript, compile_statements, script_path
from podcast_kg_otel.functions import Target

SCRIPT = '''
"""The script's docstring."""
from __future__ import annotations

import sys

SEEN = []


def process_file(name: UndefinedType) -> str:
    return name.upper()


"a bare string between statements, not a docstring"


class Stage:
    def run(self, item):
        return item


def main():
    SEEN.append(getattr(process_file, "__podcast_kg_otel_traced__", False))
    SEEN.append(getattr(Stage.run, "__podcast_kg_otel_traced__", False))
    return [process_file(name) for name in ("a", "b")]


if __name__ == "__main__":
    RESULT = main()
    if FAIL:
        raise ValueError("the script failed")
'''


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


Install = Callable[..., set[Target]]


@pytest.fixture
def install() -> Iterator[Install]:
    """``install("main:process_file", ...)`` sets the targets; returns the wrapped set."""
    installed: list[EntryScript] = []

    def run(*entries: str) -> set[Target]:
        wrapped: set[Target] = set()
        entry = EntryScript(functions.parse_targets(";".join(entries)), wrapped.add)
        entry.install()
        installed.append(entry)
        return wrapped

    functions._warned.clear()
    yield run
    for entry in installed:
        entry.uninstall()


def _run(script: Path, fail: bool = False) -> dict:
    return runpy.run_path(str(script), {"FAIL": fail}, run_name="__main__")


def test_targets_are_wrapped_before_the_script_calls_them(script, install) -> None:
    wrapped = install("main:process_file", "__main__:Stage.run")
    namespace = _run(script)
    assert namespace["SEEN"] == [True, True]
    assert namespace["RESULT"] == ["A", "B"]
    assert wrapped == {Target("main", "process_file"), Target("__main__", "Stage.run")}
    assert namespace["process_file"].__wrapped__.__name__ == "process_file"


def test_module_attributes_are_those_of_a_whole_module_run(script, install) -> None:
    install("main:process_file")
    namespace = _run(script)
    assert namespace["__doc__"] == "The script's docstring."
    assert namespace["__file__"] == str(script)
    # from __future__ import annotations applies to every statement
    assert namespace["process_file"].__annotations__ == {"name": "UndefinedType", "return": "str"}


def test_a_run_without_targets_of_its_own_runs_the_usual_way(script, install, monkeypatch):
    install("other_module:process_file")

    def never(*args, **kwargs):
        raise AssertionError("a statement-by-statement run was prepared")

    monkeypatch.setattr(entry_script, "compile_statements", never)
    assert _run(script)["SEEN"] == [False, False]


def test_the_scripts_exception_propagates_unchanged_with_its_line(script, install) -> None:
    install("main:process_file")
    with pytest.raises(ValueError, match="the script failed") as raised:
        _run(script, fail=True)
    last = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (last.filename, last.line) == (str(script), 'raise ValueError("the script failed")')
    assert last.lineno == SCRIPT.splitlines().index(f"        {last.line}") + 1


def test_a_failure_of_ours_runs_the_script_the_usual_way(script, install, monkeypatch, caplog):
    wrapped = install("main:process_file")

    def broken(source, filename):
        raise RuntimeError("our bug")

    monkeypatch.setattr(entry_script, "compile_statements", broken)
    namespace = _run(script)
    assert namespace["RESULT"] == ["A", "B"] and namespace["SEEN"] == [False, False]
    assert not wrapped
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "runs the usual way" in warned[0]


def test_a_target_the_script_never_defines_warns_once(script, install, caplog) -> None:
    install("main:process_file", "main:missing", "__main__:Stage.nope")
    _run(script)
    _run(script)
    warned = [r.getMessage() for r in caplog.records if r.name == "podcast_kg_otel.functions"]
    assert len(warned) == 2, warned
    assert any("main:missing is not defined by the entry script" in w for w in warned)
    assert any("__main__:Stage.nope does not exist" in w for w in warned)


def test_compile_statements_one_code_per_statement_with_real_lines(tmp_path: Path) -> None:
    source = "x = 1\n\n'not a docstring'\ny = x + 1\n"
    codes = compile_statements(source, str(tmp_path / "s.py"))
    assert len(codes) == 3
    assert [min(line for *_, line in code.co_lines() if line) for code in codes] == [1, 3, 4]
    namespace: dict = {}
    for code in codes:
        exec(code, namespace)
    assert namespace["y"] == 2 and namespace.get("__doc__") is None


@pytest.mark.parametrize(
    ("argv", "has_file", "expected"),
    [
        (["main.py"], False, "main.py"),
        (["main.py", "--flag"], False, "main.py"),
        (["-m"], False, None),
        (["-c"], False, None),
        ([""], False, None),
        (["main.py"], True, None),  # already running: too late to take over
        (["missing.py"], False, None),
        (["app.pyz"], False, None),
    ],
)
def test_script_path(tmp_path, monkeypatch, argv, has_file, expected) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.py").write_text("")
    (tmp_path / "app.pyz").write_text("")
    main = type(sys)("__main__")
    if has_file:
        main.__file__ = "main.py"
    found = script_path(argv, main)
    assert found == (str(tmp_path / expected) if expected else None)


def test_a_packages_main_module_run_with_dash_m(tmp_path, install, monkeypatch) -> None:
    package = tmp_path / "feedtool"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(SCRIPT))
    monkeypatch.syspath_prepend(str(tmp_path))
    wrapped = install("feedtool.__main__:process_file")
    namespace = runpy.run_module("feedtool", {"FAIL": False}, run_name="__main__")
    assert namespace["SEEN"] == [True, False]
    assert wrapped == {Target("feedtool.__main__", "process_file")}


def test_uninstall_restores_runpy_and_the_path_hooks(script, monkeypatch) -> None:
    original = runpy._run_code
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setattr(sys, "path_hooks", list(sys.path_hooks))
    main = type(sys)("__main__")  # a script that has not started yet
    monkeypatch.setitem(sys.modules, "__main__", main)
    entry = EntryScript(functions.parse_targets("main:process_file"), set().add)
    entry.install()
    assert sys.path_hooks[0] == entry._path_hook and runpy._run_code is not original
    with pytest.raises(ImportError):
        entry._path_hook(str(script.parent))  # only the script's own path is claimed
    entry.uninstall()
    assert entry._path_hook not in sys.path_hooks and runpy._run_code is original
