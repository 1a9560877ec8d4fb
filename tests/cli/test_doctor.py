"""`podcast-kg-otel doctor` against the real stack: the probe read back from Jaeger, a
collector down or on the wrong port, missing and disabled instrumentations, traced-function
targets that do not resolve, a bad value with its warning and each value's source."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

from podcast_kg_otel.doctor.libraries import check_instrumentations
from podcast_kg_otel.runtime import RuntimeSettings

#: Variables of the test runner that would change what the doctor sees.
_CLEARED = ("OTEL_", "PODCAST_KG_OTEL_", "JAEGER_", "TRACING_", "INSTRUMENT_")


def _doctor(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    command: tuple[str, ...] = (sys.executable, "-m", "podcast_kg_otel"),
) -> tuple[subprocess.CompletedProcess, dict]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
    completed = subprocess.run(
        [*command, "doctor", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
        cwd=cwd,
    )
    return completed, json.loads(completed.stdout)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _setting(report: dict, name: str) -> dict:
    (setting,) = [s for s in report["configuration"]["settings"] if s["name"] == name]
    return setting


def _errors(report: dict) -> list[str]:
    return [p["message"] for p in report["problems"] if p["level"] == "error"]


def test_collector_up_probe_read_back_from_jaeger(stack, jaeger, service_name):
    env = {
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint,
    }
    completed, report = _doctor("--query-url", stack.jaeger_query_url, env=env)
    assert completed.returncode == 0, completed.stdout
    assert report["status"] == 0 and _errors(report) == []
    probe = report["collector"]["probe"]
    assert probe["delivered"] is True
    assert probe["endpoint"] == f"{stack.otlp_http_endpoint}/v1/traces"
    back = report["collector"]["read_back"]
    assert back["found"] is True and back["round_trip_ms"] > 0
    trace = jaeger.wait_for_trace(service_name)
    span = trace.one("podcast-kg-otel.doctor.probe")
    assert span.attributes["podcast_kg_otel.doctor.probe_id"] == probe["probe_id"]
    assert trace.trace_id == probe["trace_id"]


def test_collector_up_over_grpc_text_output(stack, service_name):
    env = {
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_grpc_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
    completed = subprocess.run(
        [sys.executable, "-m", "podcast_kg_otel", "doctor", "--query-url", stack.jaeger_query_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env},
    )
    assert completed.returncode == 0, completed.stdout
    out = completed.stdout
    assert f"taken by {stack.otlp_grpc_endpoint} (grpc)" in out
    assert f"read back from {stack.jaeger_query_url}: round trip " in out
    expected = ["protocol", '"grpc"', "(OTEL_EXPORTER_OTLP_PROTOCOL)"]
    assert expected in [line.split() for line in out.splitlines()]
    assert out.rstrip().endswith("doctor: ok (exit status 0)")


def test_collector_down_fails_and_names_the_cause():
    port = _closed_port()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
    completed, report = _doctor("--no-read-back", "--timeout", "2", env=env)
    assert completed.returncode == 1
    probe = report["collector"]["probe"]
    assert probe["delivered"] is False
    assert probe["cause"] == "connection failed: [Errno 111] Connection refused"
    assert any(
        f"127.0.0.1:{port}/v1/traces" in m and "Connection refused" in m for m in _errors(report)
    )


def test_wrong_port_grpc_to_the_http_receiver(stack):
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    completed, report = _doctor("--no-read-back", "--timeout", "2", env=env)
    assert completed.returncode == 1
    cause = report["collector"]["probe"]["cause"]
    assert cause.startswith("gRPC UNAVAILABLE") and "HTTP/2" in cause


def test_wrong_port_that_answers_is_caught_by_the_read_back(stack):
    """The query port answers any POST with 200: only reading back shows the span is lost."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": stack.jaeger_query_url}
    completed, report = _doctor("--query-url", stack.jaeger_query_url, "--timeout", "1", env=env)
    assert completed.returncode == 1
    assert report["collector"]["probe"]["delivered"] is True
    back = report["collector"]["read_back"]
    assert back["found"] is False and "not there after 5 s" in back["cause"]


def test_library_installed_without_its_instrumentation_and_a_disabled_one():
    env = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "requests", "INSTRUMENT_REDIS": "false"}
    _completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    section = report["instrumentation"]
    rows = {row["entry_point"]: row for row in section["instrumentors"]}
    assert rows["requests"]["status"] == "disabled by OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
    assert rows["redis"]["status"] == "disabled by INSTRUMENT_REDIS=false"
    assert rows["podcast_kg_neo4j"]["status"] == "applies (on the library's first import)"
    # urllib3 is in .venv (under requests) and contrib can instrument it; nothing does here.
    (urllib3,) = [row for row in section["missing"] if row["library"].startswith("urllib3 ")]
    assert urllib3["install"].startswith("pip install 'opentelemetry-instrumentation-urllib3==")
    assert "requests" in urllib3["required_by"]


def test_a_known_library_without_its_instrumentation_is_a_warning():
    """The environment's real metadata without two instrumentation distributions: what a
    user who installed httpx and neo4j but not their instrumentations sees."""
    hidden = {"opentelemetry-instrumentation-httpx", "podcast-kg-otel-neo4j"}
    installed = [d for d in distributions() if d.metadata["Name"] not in hidden]
    section, problems = check_instrumentations({}, set(), RuntimeSettings(), installed)
    missing = {row["instrumentation"]: row["install"] for row in section["missing"]}
    assert (
        missing["opentelemetry-instrumentation-httpx"] == "pip install 'podcast-kg-otel[providers]'"
    )
    assert missing["podcast-kg-otel-neo4j"] == "pip install podcast-kg-otel-neo4j"
    warnings = [p.message for p in problems if p.level == "warning"]
    assert any(
        m.startswith("neo4j ") and m.endswith("pip install podcast-kg-otel-neo4j") for m in warnings
    )
    assert any(m.startswith("httpx ") for m in warnings)
    entry_points = {row["entry_point"] for row in section["instrumentors"]}
    assert "podcast_kg_neo4j" not in entry_points and "httpx" not in entry_points


def test_traced_function_targets(tmp_path):
    (tmp_path / "jobs.py").write_text(
        "import os\n\nLIMIT = 3\n\ndef process(item):\n    return item\n\n"
        "class Worker:\n    def run(self):\n        pass\n\nhandler = process\n"
    )
    (tmp_path / "main.py").write_text("def work():\n    pass\n")
    (tmp_path / "noisy.py").write_text("print('imported!')\nfrom jobs import process as step\n")
    targets = (
        "jobs:process;jobs:Worker.run;jobs:missing;jobs:Worker;jobs:LIMIT;nosuch.mod:f;"
        "not a target;main:work;__main__:work;noisy:step"
    )
    env = {"PODCAST_KG_OTEL_TRACED_FUNCTIONS": targets, "PYTHONPATH": str(tmp_path)}
    completed, report = _doctor("--no-read-back", "--timeout", "1", env=env, cwd=tmp_path)
    assert completed.returncode == 1
    rows = {row["target"]: row for row in report["traced_functions"]["targets"]}
    assert rows["jobs:process"]["status"] == "resolves"
    assert rows["jobs:process"]["where"] == f"{tmp_path / 'jobs.py'}:5"
    assert "imported" not in rows["jobs:process"]  # found in the source, nothing imported
    assert rows["jobs:Worker.run"]["status"] == "resolves"
    assert rows["jobs:missing"]["reason"] == f"missing is not defined in {tmp_path / 'jobs.py'}"
    assert rows["jobs:Worker"]["reason"] == "Worker is a class, not a function"
    assert rows["jobs:LIMIT"] == {
        "target": "jobs:LIMIT",
        "imported": True,
        "status": "unresolved",
        "reason": "is a int, not a function",
    }
    assert rows["nosuch.mod:f"]["status"] == "unresolved"
    assert rows["nosuch.mod:f"]["reason"].startswith("module nosuch.mod cannot be found")
    # main.py is on PYTHONPATH: importable as main, and the entry script when it runs.
    assert rows["main:work"]["status"] == "resolves"
    assert rows["__main__:work"]["status"] == "entry script"
    assert "only while the entry script runs" in rows["__main__:work"]["reason"]
    assert rows["noisy:step"]["status"] == "resolves" and rows["noisy:step"]["imported"] is True
    (malformed,) = report["traced_functions"]["malformed"]
    assert "'not a target' is invalid" in malformed
    assert completed.stdout.startswith("{")  # the imported module's print stayed out of it


def test_entry_script_target_from_the_console_script(tmp_path):
    """Run as `podcast-kg-otel` (the current directory is not on sys.path): a target in
    ./main.py resolves only when that script runs; its source is still checked."""
    (tmp_path / "main.py").write_text("import sys\n\ndef work():\n    pass\n")
    env = {"PODCAST_KG_OTEL_TRACED_FUNCTIONS": "main:work;main:gone"}
    console = (str(Path(sys.executable).parent / "podcast-kg-otel"),)
    completed, report = _doctor(
        "--no-read-back", "--timeout", "1", env=env, cwd=tmp_path, command=console
    )
    assert completed.returncode == 1
    work, gone = report["traced_functions"]["targets"]
    assert work["status"] == "entry script"
    assert work["where"] == f"{tmp_path / 'main.py'}:3"
    assert "python main.py" in work["reason"]
    assert gone["status"] == "unresolved"
    assert gone["reason"] == f"gone is not defined in {tmp_path / 'main.py'}"


def test_strict_mode_reports_every_bad_value():
    env = {"PODCAST_KG_OTEL_STRICT": "true", "TRACING_SAMPLING_RATE": "3", "JAEGER_PORT": "x"}
    completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    assert completed.returncode == 1
    assert report["configuration"]["strict"] is True
    assert len(report["configuration"]["warnings"]) == 2
    assert (
        "PODCAST_KG_OTEL_STRICT=true: the program would stop at start-up on the first of these"
        in _errors(report)
    )


def test_bad_value_its_warning_and_each_value_source():
    env = {
        "TRACING_SAMPLING_RATE": "2",
        "OTEL_SERVICE_NAME": "from-otel",
        "TRACING_SERVICE_NAME": "from-legacy",
        "JAEGER_HOST": "localhost",
        "JAEGER_PORT": str(_closed_port()),
        "ENVIRONMENT": "staging",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret",
    }
    completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    assert completed.returncode == 1
    configuration = report["configuration"]
    assert configuration["warnings"] == [
        "TRACING_SAMPLING_RATE='2' is invalid (expected a value between 0.0 and 1.0); "
        "using 1.0 instead"
    ]
    assert _setting(report, "service_name") == {
        "name": "service_name",
        "value": "from-otel",
        "source": "OTEL_SERVICE_NAME",
        "kind": "OTEL_* variable",
    }
    assert configuration["unused_variables"] == ["TRACING_SERVICE_NAME"]
    assert _setting(report, "endpoint")["source"] == "JAEGER_HOST, JAEGER_PORT"
    assert _setting(report, "environment")["kind"] == "legacy variable"
    assert _setting(report, "sampler")["source"] == "TRACING_SAMPLING_RATE"
    assert _setting(report, "timeout")["source"] == "default"
    assert _setting(report, "headers")["value"] == {"api-key": "***"}
    assert "secret" not in completed.stdout


def test_otel_and_legacy_variable_agreeing_are_both_named():
    env = {"OTEL_SERVICE_NAME": "same", "TRACING_SERVICE_NAME": "same"}
    _completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    source = _setting(report, "service_name")["source"]
    assert source == "OTEL_SERVICE_NAME, TRACING_SERVICE_NAME"
    assert report["configuration"]["unused_variables"] == []


def test_json_shape(stack):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint}
    completed, report = _doctor("--no-read-back", env=env)
    assert completed.returncode == 0
    assert set(report) == {
        "status",
        "problems",
        "configuration",
        "instrumentation",
        "traced_functions",
        "collector",
    }
    assert set(report["configuration"]) == {
        "settings",
        "warnings",
        "unused_variables",
        "config_file",
        "strict",
    }
    assert set(report["instrumentation"]) == {"instrumentors", "missing", "context"}
    assert report["instrumentation"]["context"] == {"threads": "on", "processes": "on"}
    assert set(report["traced_functions"]) == {"targets", "malformed"}
    assert set(report["collector"]) == {"probe"}
    assert {"level", "section", "message"} == set(report["problems"][0])


def test_strict_fails_on_warnings(stack):
    """Warnings pass by default and fail with --strict."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint,
        "OTEL_TRACES_EXPORTER": "console",
    }
    completed, report = _doctor("--no-read-back", env=env)
    assert completed.returncode == 0
    assert [p["level"] for p in report["problems"] if p["section"] == "collector"] == ["warning"]
    strict, _ = _doctor("--no-read-back", "--strict", env=env)
    assert strict.returncode == 1


def test_config_file_says_what_it_decides(tmp_path, stack):
    (tmp_path / "otel.yaml").write_text(
        'file_format: "1.0"\n'
        "resource:\n  attributes:\n    - name: service.name\n      value: from-file\n"
        "tracer_provider:\n  processors:\n    - batch:\n        exporter:\n"
        f"          otlp_http:\n            endpoint: {stack.otlp_http_endpoint}/v1/traces\n"
    )
    env = {
        "OTEL_CONFIG_FILE": str(tmp_path / "otel.yaml"),
        "OTEL_SERVICE_NAME": "from-env",
        "JAEGER_HOST": "localhost",
    }
    completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    assert completed.returncode == 0, completed.stdout
    configuration = report["configuration"]
    assert configuration["config_file"] == {
        "variable": "OTEL_CONFIG_FILE",
        "path": str(tmp_path / "otel.yaml"),
        "usable": True,
        "decides": ["where spans go", "service.name"],
        "overrides": ["service_name", "jaeger_host", "endpoint"],
    }
    service = _setting(report, "service_name")
    assert service["source"] == "OTEL_CONFIG_FILE; OTEL_SERVICE_NAME ignored"
    assert service["value"] is None and service["ignored_value"] == "from-env"
    assert any(
        "OTEL_CONFIG_FILE and OTEL_SERVICE_NAME both set service.name: the file wins" in warning
        for warning in configuration["warnings"]
    )


def test_unusable_config_file_is_an_error():
    env = {"OTEL_CONFIG_FILE": "/nonexistent/otel.yaml"}
    completed, report = _doctor("--no-read-back", "--timeout", "1", env=env)
    assert report["configuration"]["config_file"]["usable"] is False
    assert completed.returncode == 1
