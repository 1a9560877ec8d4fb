"""One loader for every path: a setting given by its variable, its legacy variable, an
explicit argument or the configuration file is parsed by its declaration, warns the same
way when bad (naming where it came from), and follows the declared precedence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podcast_kg_otel.config import TracingConfig
from podcast_kg_otel.settings.declarations import declared
from podcast_kg_otel.settings.file import FILE_SETTINGS
from podcast_kg_otel.settings.runtime_settings import RuntimeSettings


def _file(tmp_path: Path, body: str) -> dict[str, str]:
    path = tmp_path / "otel.yaml"
    path.write_text('file_format: "1.0"\ndistribution:\n  podcast_kg_otel:\n' + body)
    return {"OTEL_CONFIG_FILE": str(path)}


@pytest.mark.parametrize(
    ("field", "env", "explicit", "expected"),
    [
        # precedence: argument > OTEL_* > legacy > default
        ("max_batch_size", {}, {}, 512),
        ("max_batch_size", {"TRACING_MAX_BATCH_SIZE": "64"}, {}, 64),
        (
            "max_batch_size",
            {"TRACING_MAX_BATCH_SIZE": "64", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "128"},
            {},
            128,
        ),
        ("max_batch_size", {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "128"}, {"max_batch_size": 32}, 32),
        ("timeout", {"OTEL_EXPORTER_OTLP_TIMEOUT": "3"}, {}, 3.0),
        (
            "timeout",
            {"OTEL_EXPORTER_OTLP_TIMEOUT": "3", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "4"},
            {},
            4.0,
        ),
        ("service_name", {"TRACING_SERVICE_NAME": "legacy"}, {}, "legacy"),
        (
            "service_name",
            {"TRACING_SERVICE_NAME": "legacy", "OTEL_RESOURCE_ATTRIBUTES": "service.name=res"},
            {},
            "res",
        ),
        ("environment", {"ENVIRONMENT": "prod"}, {}, "prod"),
        ("compression", {"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"}, {}, "gzip"),
        ("enabled", {"OTEL_SDK_DISABLED": "true"}, {}, False),
        ("jaeger_port", {"JAEGER_PORT": "4317"}, {"jaeger_port": "4318"}, 4318),
    ],
)
def test_precedence(field: str, env: dict, explicit: dict, expected: object, our_warnings) -> None:
    assert getattr(TracingConfig.from_env(env, **explicit), field) == expected
    assert our_warnings() == []


# (field, bad argument, argument shown, value used as shown, check)
BAD_ARGUMENTS = [
    ("timeout", 0, "'0'", "10.0", lambda c: c.timeout == 10.0),
    ("compression", "zip", "'zip'", "'none'", lambda c: c.compression == "none"),
    ("sampling_rate", 1.5, "'1.5'", "1.0", lambda c: c.sampler_arg == 1.0),
    ("jaeger_enabled", "maybe", "'maybe'", "True", lambda c: c.exporters == ("otlp",)),
    ("max_queue_size", 2.5, "'2.5'", "2048", lambda c: c.max_queue_size == 2048),
    ("export_timeout_millis", -1, "'-1'", "30000.0", lambda c: c.export_timeout_millis == 3e4),
    (
        "jaeger_host",
        "http://x/y",
        "'http://x/y'",
        "'127.0.0.1'",
        lambda c: "127.0.0.1" in c.endpoint,
    ),
    ("max_batch_size", 4096, "'4096'", "2048", lambda c: c.max_batch_size == 2048),
]


@pytest.mark.parametrize(
    ("field", "value", "shown", "used", "check"),
    BAD_ARGUMENTS,
    ids=[case[0] for case in BAD_ARGUMENTS],
)
def test_bad_argument_warns_like_a_bad_variable(
    field: str,
    value: object,
    shown: str,
    used: str,
    check: Callable[[TracingConfig], bool],
    our_warnings: Callable[[], list[str]],
) -> None:
    config = TracingConfig(**{field: value})
    assert check(config), config
    (message,) = our_warnings()
    assert message.startswith(f"{field}={shown} is invalid ("), message
    assert message.endswith(f"using {used} instead"), message


def test_the_same_parser_gives_the_same_reason_for_a_variable_and_an_argument(
    our_warnings: Callable[[], list[str]],
) -> None:
    TracingConfig.from_env({"OTEL_BSP_MAX_QUEUE_SIZE": "0"})
    TracingConfig(max_queue_size=0)
    TracingConfig(runtime=RuntimeSettings(tail_max_spans=0))
    RuntimeSettings.from_env({"PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS": "0"})
    reasons = [message.split(" is invalid ")[1] for message in our_warnings()]
    assert reasons == [
        "(expected a value >= 1); using 2048 instead",
        "(expected a value >= 1); using 2048 instead",
        "(expected a value >= 1); using 20000 instead",
        "(expected a value >= 1); using 20000 instead",
    ]


def test_runtime_arguments_are_checked_in_their_unit(our_warnings) -> None:
    settings = RuntimeSettings(exit_timeout=0.25, tail_trace_timeout=-1.0, tail_ratio=2.0)
    assert settings.exit_timeout == 0.25
    assert settings.tail_trace_timeout == 300.0 and settings.tail_ratio is None
    assert sorted(m.split("=")[0] for m in our_warnings()) == ["tail_ratio", "tail_trace_timeout"]


def test_file_settings_apply_and_win_over_the_variable(tmp_path, our_warnings) -> None:
    env = _file(
        tmp_path,
        "    tail_sampling_ratio: 0.25\n    exit_timeout_ms: 1000\n"
        "    traced_functions: 'a.b:c'\n    flush_on_sigterm: false\n",
    )
    env["PODCAST_KG_OTEL_EXIT_TIMEOUT_MS"] = "300"
    runtime = TracingConfig.from_env(env).runtime
    assert runtime.tail_sampling and runtime.tail_ratio == 0.25  # the ratio turns it on
    assert runtime.exit_timeout == 1.0 and runtime.traced_functions == "a.b:c"
    assert not runtime.sigterm_flush
    (message,) = our_warnings()
    assert "distribution.podcast_kg_otel.exit_timeout_ms and PODCAST_KG_OTEL_EXIT_TIMEOUT_MS" in (
        message
    )
    assert message.endswith("the file wins, PODCAST_KG_OTEL_EXIT_TIMEOUT_MS ignored")


def test_bad_file_value_warns_like_a_bad_variable_and_falls_back(tmp_path, our_warnings) -> None:
    env = _file(tmp_path, "    tail_sampling_max_spans: 0\n    exit_timeout_ms: soon\n    x: 1\n")
    env["PODCAST_KG_OTEL_EXIT_TIMEOUT_MS"] = "300"
    runtime = TracingConfig.from_env(env).runtime
    assert runtime.tail_max_spans == 20000 and runtime.exit_timeout == 0.3
    messages = our_warnings()
    assert len(messages) == 3, messages
    source = env["OTEL_CONFIG_FILE"]
    assert any(
        m.startswith("OTEL_CONFIG_FILE distribution.podcast_kg_otel.tail_sampling_max_spans='0'")
        and m.endswith("(expected a value >= 1); using 20000 instead")
        for m in messages
    ), messages
    assert any(
        m.startswith("OTEL_CONFIG_FILE distribution.podcast_kg_otel.exit_timeout_ms='soon'")
        and m.endswith("using 300.0 instead")
        for m in messages
    ), messages
    assert any("has no setting x" in m and source in m for m in messages), messages


def test_every_runtime_variable_has_a_file_key() -> None:
    keys = {setting.field: key for key, setting in FILE_SETTINGS.items()}
    assert keys[declared("runtime.exit_timeout").field] == "exit_timeout_ms"
    assert {f"runtime.{name}" for name in RuntimeSettings.__dataclass_fields__} - set(keys) == {
        "runtime.export_warning_interval"  # set in code only: no variable
    }


def test_doctor_names_the_file_as_the_source_of_its_settings(tmp_path) -> None:
    from podcast_kg_otel.doctor.settings import check_configuration

    env = _file(tmp_path, "    exit_timeout_ms: 1000\n")
    payload, problems = check_configuration(env)
    settings = {setting["name"]: setting for setting in payload["settings"]}
    assert settings["runtime.exit_timeout"]["value"] == 1.0
    assert settings["runtime.exit_timeout"]["source"] == "OTEL_CONFIG_FILE"
    assert payload["unused_variables"] == [] and problems == []
