"""Post-import hooks and lazily applied instrumentors, in process."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points
from types import ModuleType, SimpleNamespace

from podcast_kg_otel import lazy
from podcast_kg_otel.lazy import _LazyInstrumentor, instrumentor_targets, when_imported


def _instrumentor_entry_point(name: str) -> object:
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name=name)
    return entry_point


def test_hook_runs_once_after_import_in_every_import_form(write_module) -> None:
    package = write_module("pkg.__init__", "VALUE = 1\n").rsplit(".", 1)[0]
    submodule = write_module("pkg.sub", "from . import VALUE\nDOUBLE = VALUE * 2\n")
    seen: list[tuple[str, object]] = []
    when_imported(package, lambda module: seen.append((module.__name__, module.VALUE)))
    when_imported(submodule, lambda module: seen.append((module.__name__, module.DOUBLE)))
    assert package in lazy.pending() and seen == []

    sub = importlib.import_module(submodule)  # a submodule import imports the package first
    exec(f"from {package} import VALUE", {})
    importlib.import_module(package)

    assert seen == [(package, 1), (submodule, 2)]
    assert sub.__loader__.__class__.__name__ == "SourceFileLoader"  # our wrapper is gone
    assert sub.__spec__.loader is sub.__loader__
    assert package not in lazy.pending()


def test_hook_for_an_imported_module_runs_at_once(write_module) -> None:
    name = write_module("already", "X = 3\n")
    module = importlib.import_module(name)
    seen: list[ModuleType] = []
    when_imported(name, seen.append)
    assert seen == [module]


def test_failing_hook_never_breaks_the_import(write_module, caplog) -> None:
    name = write_module("fragile", "X = 4\n")

    def broken(module: ModuleType) -> None:
        raise RuntimeError("hook bug")

    when_imported(name, broken)
    assert importlib.import_module(name).X == 4
    assert "post-import hook" in caplog.text


def test_targets_come_from_the_instruments_extra() -> None:
    assert instrumentor_targets(_instrumentor_entry_point("redis")) == ("redis",)
    assert instrumentor_targets(_instrumentor_entry_point("requests")) == ("requests",)
    assert instrumentor_targets(_instrumentor_entry_point("logging")) == ("logging",)
    assert instrumentor_targets(_instrumentor_entry_point("podcast_kg_neo4j")) == ("neo4j",)
    unknown = SimpleNamespace(name="mystery", dist=None, module="x")
    assert instrumentor_targets(unknown) is None


class _FakeEntryPoint:
    """An instrumentor entry point whose class records instrument() calls."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.module = module

    def load(self) -> type:
        return importlib.import_module(self.module).Instrumentor


INSTRUMENTOR = """
import {target}

calls = []

class Instrumentor:
    _is_instrumented_by_opentelemetry = False

    def instrument(self, **kwargs):
        calls.append(({target}.__name__, kwargs))
        Instrumentor._is_instrumented_by_opentelemetry = True
"""


def test_instrumentor_applies_on_first_import_of_its_target(write_module) -> None:
    target = write_module("library", "NAME = 'lib'\n")
    instrumentor = write_module("instr", INSTRUMENTOR.format(target=target))
    _LazyInstrumentor(_FakeEntryPoint("lib", instrumentor), [target], {"x": 1}).watch()
    assert instrumentor not in sys.modules and target not in sys.modules

    importlib.import_module(target)

    assert sys.modules[instrumentor].calls == [(target, {"x": 1})]


def test_instrumentor_module_imported_first_waits_until_it_is_complete(write_module) -> None:
    # `from opentelemetry.instrumentation.redis import RedisInstrumentor` imports redis
    # while the instrumentor module is half-initialised: applying then would fail.
    target = write_module("library2", "NAME = 'lib2'\n")
    instrumentor = write_module("instr2", INSTRUMENTOR.format(target=target))
    lazy_one = _LazyInstrumentor(_FakeEntryPoint("lib2", instrumentor), [target], {})
    lazy_one.watch()

    module = importlib.import_module(instrumentor)

    assert module.calls == [(target, {})]
    assert lazy_one.started


def test_already_instrumented_is_left_alone(write_module) -> None:
    target = write_module("library3", "NAME = 'lib3'\n")
    instrumentor = write_module("instr3", INSTRUMENTOR.format(target=target))
    module = importlib.import_module(instrumentor)
    module.Instrumentor().instrument(by="user")
    _LazyInstrumentor(_FakeEntryPoint("lib3", instrumentor), [target], {}).watch()
    assert module.calls == [(target, {"by": "user"})]
