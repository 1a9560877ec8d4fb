"""Configuration is the distro's bottom layer: the settings package imports nothing from
the rest of the distro but its fixed tables, and the configuration modules above it import
no runtime wiring (the wiring imports them, never the reverse)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import podcast_kg_otel

_TOOL = Path(__file__).resolve().parents[2] / "tools" / "import_depth.py"
_ROOT = Path(podcast_kg_otel.__file__).resolve().parent
#: What the configuration layer may stand on besides itself: names, tables and parsers, and
#: the names of the installed SDK components (each of these imports none of the distro).
_BELOW = {
    "podcast_kg_otel",
    "podcast_kg_otel.components",
    "podcast_kg_otel.defaults",
    "podcast_kg_otel.environment_variables",
    "podcast_kg_otel.parsing",
}


def _graph(everywhere: bool) -> dict[str, set[str]]:
    spec = importlib.util.spec_from_file_location("import_depth", _TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_depth", tool)
    spec.loader.exec_module(tool)
    return tool.imports(_ROOT, everywhere)


def test_settings_import_nothing_above_them() -> None:
    graph = _graph(everywhere=True)
    settings = {name for name in graph if name.startswith("podcast_kg_otel.settings")}
    assert settings >= {"podcast_kg_otel.settings.declarations", "podcast_kg_otel.settings.loader"}
    for module in settings:
        above = graph[module] - settings - _BELOW
        assert not above, f"{module} imports {sorted(above)}"


def test_what_the_settings_stand_on_imports_none_of_the_distro() -> None:
    graph = _graph(everywhere=True)
    for module in _BELOW - {"podcast_kg_otel"}:
        assert not graph[module] - {"podcast_kg_otel"}, f"{module} imports {graph[module]}"


def test_configuration_imports_no_runtime_wiring() -> None:
    graph = _graph(everywhere=False)
    allowed = _BELOW | {"podcast_kg_otel.config_env"}
    for module in ("podcast_kg_otel.config", "podcast_kg_otel.config_env"):
        above = {
            name for name in graph[module] if not name.startswith("podcast_kg_otel.settings")
        } - allowed
        assert not above, f"{module} imports {sorted(above)}"
    assert "podcast_kg_otel.settings.runtime_settings" in graph["podcast_kg_otel.runtime"]
