"""The declarations are the one source: every variable named in code is declared, every
declared field exists, and docs/configuration.md's table is the generated one."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from podcast_kg_otel import environment_variables
from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.settings import docs
from podcast_kg_otel.settings.declarations import SETTINGS, declared, variables
from podcast_kg_otel.settings.runtime_settings import RuntimeSettings


def test_committed_docs_table_is_the_generated_one() -> None:
    committed = docs.DOCS.read_text()
    assert docs.render(committed) == committed, "docs/configuration.md is stale: run make docs"


def test_docs_check_command_fails_on_a_stale_table(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "configuration.md"
    text = docs.DOCS.read_text().replace("| `OTEL_BSP_MAX_QUEUE_SIZE` | `2048` |", "| x | 1 |")
    stale.write_text(text)
    monkeypatch.setattr(docs, "DOCS", stale)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
    assert stale.read_text() == docs.DOCS.read_text() == docs.render(text)
    completed = subprocess.run(
        [sys.executable, "-m", "podcast_kg_otel.settings.docs", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_every_variable_is_in_the_docs_table_once() -> None:
    rows = docs.table().splitlines()[2:]
    listed = [name.strip(" `") for row in rows for name in row.split(" | ")[0][2:].split(",")]
    assert sorted(listed) == sorted(variables())


def test_every_named_variable_is_declared() -> None:
    declared_names = set(variables())
    for attribute, value in vars(environment_variables).items():
        if attribute.isupper() and isinstance(value, str):
            assert value in declared_names, attribute
    assert set(environment_variables.INSTRUMENT_FLAGS) <= declared_names


def test_every_declared_field_exists_with_the_declared_default() -> None:
    config_fields = {field.name: field for field in dataclasses.fields(TracingConfig)}
    runtime_fields = {field.name: field for field in dataclasses.fields(RuntimeSettings)}
    for setting in SETTINGS:
        if not setting.field:
            continue
        fields = runtime_fields if setting.runtime else config_fields
        assert setting.name in fields, setting.field
    for name, field in runtime_fields.items():
        setting = declared(f"runtime.{name}")
        assert field.default == setting.to_field(setting.default), name
    for name in ("max_batch_size", "max_queue_size", "schedule_delay_millis", "timeout"):
        assert config_fields[name].default == declared(name).default, name


def test_each_field_is_declared_once() -> None:
    simple = [s.field for s in SETTINGS if s.field and s.field != "span_limits"]
    assert len(simple) == len(set(simple))
