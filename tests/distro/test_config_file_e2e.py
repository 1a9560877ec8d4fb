"""OTEL_CONFIG_FILE under our distro: the file configures the SDK as upstream defines it
(opentelemetry-configuration at the version we pin), and our extensions still apply on top.
Spans are read back from the real Jaeger."""

from __future__ import annotations

import json

import pytest

PROGRAM = """
import os
from opentelemetry import trace

def process(n):
    if n == 2:
        raise ValueError("bad episode")

tracer = trace.get_tracer("config-file-test")
for n in range(3):
    try:
        process(n)
    except ValueError:
        pass
left_open = tracer.start_span("left-open-at-exit")
print("done")
"""


def _file(tmp_path, service: str | None, exporter: str, processor: str = "batch") -> str:
    resource = (
        f"resource:\n  attributes:\n    - name: service.name\n      value: {service}\n"
        if service
        else ""
    )
    delay = "        schedule_delay: 100\n" if processor == "batch" else ""
    text = (
        'file_format: "1.0"\n'
        f"{resource}"
        "tracer_provider:\n"
        "  processors:\n"
        f"    - {processor}:\n"
        f"{delay}"
        "        exporter:\n"
        f"{exporter}"
    )
    path = tmp_path / "otel.yaml"
    path.write_text(text)
    return str(path)


def _otlp(stack) -> str:
    return f"          otlp_http:\n            endpoint: {stack.otlp_http_endpoint}/v1/traces\n"


def _base_env() -> dict[str, str]:
    # Nothing from the environment path may leak into what the file decides.
    return {
        "OTEL_TRACES_EXPORTER": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_SERVICE_NAME": "",
    }


TRACED = {"PODCAST_KG_OTEL_TRACED_FUNCTIONS": "__main__:process"}


def test_file_configures_export_and_our_extensions_apply(
    stack, jaeger, service_name, run_instrumented, tmp_path
):
    path = _file(tmp_path, service_name, _otlp(stack))
    env = {**_base_env(), **TRACED, "OTEL_CONFIG_FILE": path, "TRACING_SERVICE_VERSION": "7.1"}
    completed = run_instrumented(PROGRAM, env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == ""
    traces = jaeger.wait_for_traces(service_name, count=4)
    roots = sorted(trace.root.name for trace in traces)
    # Traced functions are ours: one trace per process() call, the failing one ERROR.
    assert roots.count("left-open-at-exit") == 1
    processed = [t.root for t in traces if t.root.name.endswith("process")]
    assert len(processed) == 3
    assert sorted(root.status_code for root in processed) == ["ERROR", "UNSET", "UNSET"]
    open_span = next(t.root for t in traces if t.root.name == "left-open-at-exit")
    assert open_span.attributes["podcast_kg_otel.span.ended_at_exit"] is True
    # The file's service.name; the legacy service version and our resource fill the rest.
    assert open_span.service == service_name
    assert open_span.resource["service.version"] == "7.1"
    assert open_span.resource["telemetry.distro.name"] == "podcast-kg-otel"


def test_traced_functions_and_tail_sampling_on_top_of_the_file(
    stack, jaeger, service_name, run_instrumented, tmp_path
):
    path = _file(tmp_path, service_name, _otlp(stack))
    env = {
        **_base_env(),
        **TRACED,
        "OTEL_CONFIG_FILE": path,
        "PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO": "0",
    }
    completed = run_instrumented(PROGRAM, env=env)
    assert completed.returncode == 0, completed.stderr
    # Ratio 0: of the three process() traces only the failing one is kept, whole.
    traces = jaeger.wait_for_traces(service_name, count=1, settle=1.5)
    kept = [t for t in traces if t.root.name.endswith("process")]
    assert len(kept) == 1, [t.root.name for t in traces]
    assert kept[0].root.status_code == "ERROR"
    assert kept[0].root.events_named("exception")[0].attributes["exception.type"] == "ValueError"


def test_console_file_prints_spans(run_instrumented, tmp_path):
    """The issue's reproduction: a file exporting to the console printed nothing."""
    path = _file(tmp_path, "console-service", "          console: {}\n", processor="simple")
    completed = run_instrumented(
        "from opentelemetry import trace\n"
        "with trace.get_tracer('t').start_as_current_span('printed-span'):\n"
        "    pass\n",
        env={**_base_env(), "OTEL_CONFIG_FILE": path},
    )
    assert completed.returncode == 0, completed.stderr
    span = json.loads(completed.stdout)
    assert span["name"] == "printed-span"
    assert span["resource"]["attributes"]["service.name"] == "console-service"


def test_conflicts_warn_once_naming_both(stack, jaeger, service_name, run_instrumented, tmp_path):
    path = _file(tmp_path, service_name, _otlp(stack))
    env = {
        **_base_env(),
        "OTEL_CONFIG_FILE": path,
        "OTEL_SERVICE_NAME": "from-the-environment",
        "JAEGER_HOST": "elsewhere.invalid",
    }
    completed = run_instrumented("print('done')", env=env)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert sorted(lines) == [
        "podcast-kg-otel: OTEL_CONFIG_FILE and JAEGER_HOST both configure where spans go: "
        "the file wins, JAEGER_HOST ignored",
        "podcast-kg-otel: OTEL_CONFIG_FILE and OTEL_SERVICE_NAME both set service.name: the "
        "file wins, OTEL_SERVICE_NAME ignored",
    ]


def test_old_variable_name_works_with_one_warning(
    stack, jaeger, service_name, run_instrumented, tmp_path
):
    path = _file(tmp_path, service_name, _otlp(stack))
    code = "from opentelemetry import trace\ntrace.get_tracer('t').start_span('old-name').end()\n"
    completed = run_instrumented(code, env={**_base_env(), "OTEL_EXPERIMENTAL_CONFIG_FILE": path})
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == (
        f"podcast-kg-otel: OTEL_EXPERIMENTAL_CONFIG_FILE={path} is the old name of "
        "OTEL_CONFIG_FILE; using the file. Rename the variable to OTEL_CONFIG_FILE."
    )
    assert jaeger.wait_for_trace(service_name).root.name == "old-name"


@pytest.mark.parametrize(
    "content", ["file_format: '1.0'\ntracer_provider: [not, a, mapping]\n", "{{{ not yaml"]
)
def test_unusable_file_falls_back_to_the_environment(
    stack, jaeger, service_name, run_instrumented, tmp_path, content
):
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    code = "from opentelemetry import trace\ntrace.get_tracer('t').start_span('fallback').end()\n"
    env = {**stack.otel_env(service_name), "OTEL_CONFIG_FILE": str(path)}
    completed = run_instrumented(code, env=env)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"podcast-kg-otel: OTEL_CONFIG_FILE={path} could not be used (")
    assert lines[0].endswith("); configuring from the environment instead")
    assert jaeger.wait_for_trace(service_name).root.name == "fallback"


def test_our_settings_from_the_files_distribution_section(
    stack, jaeger, service_name, run_instrumented, tmp_path
):
    """Traced functions and tail sampling set in the file itself, not in variables."""
    path = _file(tmp_path, service_name, _otlp(stack))
    with open(path, "a") as file:
        file.write(
            "distribution:\n  podcast_kg_otel:\n"
            "    traced_functions: '__main__:process'\n    tail_sampling_ratio: 0\n"
        )
    completed = run_instrumented(PROGRAM, env={**_base_env(), "OTEL_CONFIG_FILE": path})
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == ""
    traces = jaeger.wait_for_traces(service_name, count=1, settle=1.5)
    kept = [t for t in traces if t.root.name.endswith("process")]
    assert len(kept) == 1, [t.root.name for t in traces]
    assert kept[0].root.status_code == "ERROR"
