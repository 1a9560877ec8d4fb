"""``RuntimeSettings``: the ``PODCAST_KG_OTEL_*`` run-time settings as one value, with its
defaults and checks taken from the declarations (``declarations``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podcast_kg_otel.settings import loader
from podcast_kg_otel.settings.declarations import SETTINGS, declared

_RUNTIME = {setting.name: setting for setting in SETTINGS if setting.runtime}


def _default(name: str) -> Any:
    setting = _RUNTIME[name]
    return setting.to_field(setting.default)


@dataclass(frozen=True)
class RuntimeSettings:
    """Lazy instrumentation, the bounded exit, tail sampling, traced functions, fork,
    thread and process handling (see ``declarations`` for each field)."""

    lazy_instrumentation: bool = _default("lazy_instrumentation")
    exit_timeout: float = _default("exit_timeout")
    export_warning_interval: float = _default("export_warning_interval")
    tail_sampling: bool = _default("tail_sampling")
    tail_ratio: float | None = _default("tail_ratio")
    tail_slow_threshold: float | None = _default("tail_slow_threshold")
    tail_max_traces: int = _default("tail_max_traces")
    tail_max_spans: int = _default("tail_max_spans")
    tail_trace_timeout: float = _default("tail_trace_timeout")
    traced_functions: str = _default("traced_functions")
    fork_handlers: bool = _default("fork_handlers")
    sigterm_flush: bool = _default("sigterm_flush")
    thread_context: bool = _default("thread_context")
    process_context: bool = _default("process_context")
    run_span: bool = _default("run_span")
    exit_summary: bool = _default("exit_summary")

    def __post_init__(self) -> None:
        """Fields given in code are checked like the variables (one warning, the default)."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            default = field.default
            if value is default or value == default:
                continue
            setting = _RUNTIME[field.name]
            checked = loader.argument(setting, field.name, value, default)
            if checked is not value:
                object.__setattr__(self, field.name, checked)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        file: tuple[str, Mapping[str, Any]] = ("", {}),
    ) -> RuntimeSettings:
        """Every run-time setting from its variable, or from ``file``: the configuration
        file's variable and its ``distribution.podcast_kg_otel`` section
        (``settings.file.section``), which wins; bad values give one warning each."""
        file_variable, file_values = file
        # Asking for a tail ratio turns tail sampling on, unless it is set to false.
        ratio_set = loader.is_set(declared("runtime.tail_ratio"), env) or (
            "tail_sampling_ratio" in file_values
        )
        values: dict[str, Any] = {}
        for name, setting in _RUNTIME.items():
            if name == "tail_sampling":
                setting = dataclasses.replace(setting, default=ratio_set)
            shown = "the head sampler's share" if name == "tail_ratio" else None
            value = loader.from_env(setting, env, shown=shown)
            if file_values:
                value = loader.from_file(setting, file_variable, file_values, value, env, shown)
            values[name] = setting.to_field(value)
        if values["tail_slow_threshold"] == 0:
            values["tail_slow_threshold"] = None  # 0 ms: off
        return cls(**values)
