"""The five distributions as users install them: built into one folder, each plugin
installed alone by its name into a clean venv beside the STOCK distro, and the distro with
every extra. Spans are read back from the real Jaeger.

The wheels are built the way `make dist` builds them (hatchling from this checkout,
checked by twine); pip resolves `podcast-kg-otel-util` from that folder, as it will from
the package index once published.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib

from stacktools.tiny_whisper import build_tiny_model, synth_audio, write_wav

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = {
    "podcast-kg-otel": ROOT,
    "podcast-kg-otel-util": ROOT / "util",
    "podcast-kg-otel-neo4j": ROOT / "instrumentors" / "neo4j",
    "podcast-kg-otel-langchain": ROOT / "instrumentors" / "langchain",
    "podcast-kg-otel-faster-whisper": ROOT / "instrumentors" / "faster_whisper",
}
# The versions of the rest that requirements-dev.txt pins, so the clean venvs resolve
# to what the other tests run with.
PINS = ("opentelemetry-distro==0.66b2", "opentelemetry-exporter-otlp-proto-http==1.45.2")
VERSION = "0.1.0"

Venv = Callable[..., Path]


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert completed.returncode == 0, f"{command}\n{completed.stdout}\n{completed.stderr}"
    return completed


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for project in PROJECTS.values():
        _run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
              "--outdir", str(out), str(project)])  # fmt: skip
    _run([str(Path(sys.executable).parent / "twine"), "check", "--strict",
          *map(str, sorted(out.iterdir()))])  # fmt: skip
    return out


@pytest.fixture
def clean_venv(tmp_path: Path, dist: Path) -> Venv:
    """`clean_venv(*requirements)`: a new venv with only these installed (from `dist`
    and the package index); returns its bin directory."""

    def make(*requirements: str) -> Path:
        home = tmp_path / "venv"
        venv.create(home, with_pip=True)
        bin_dir = home / "bin"
        _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--find-links",
              str(dist), *requirements])  # fmt: skip
        return bin_dir

    return make


def _installed(bin_dir: Path) -> dict[str, str]:
    listed = _run([str(bin_dir / "python"), "-m", "pip", "list", "--format=freeze"]).stdout
    return dict(line.lower().split("==", 1) for line in listed.splitlines() if "==" in line)


def _run_traced(bin_dir: Path, code: str, env: dict[str, str], cwd: Path) -> None:
    script = cwd / "program.py"
    script.write_text(code)
    command = [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "python"), str(script)]
    # PYTHONPATH of the test run must not leak our checkout into the clean venv.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = _run(command, env={**clean, **env}, cwd=cwd)
    assert "done" in completed.stdout, completed.stderr


def test_every_distribution_builds_and_passes_twine(dist: Path) -> None:
    names = sorted(path.name for path in dist.iterdir())
    expected = []
    for name in PROJECTS:
        stem = name.replace("-", "_")
        expected += [f"{stem}-{VERSION}-py3-none-any.whl", f"{stem}-{VERSION}.tar.gz"]
    assert names == sorted(expected)


def _stock_env(stack, service_name: str) -> dict[str, str]:
    return {
        **stack.otel_env(service_name),
        "OTEL_PYTHON_DISTRO": "distro",
        "OTEL_PYTHON_CONFIGURATOR": "configurator",
    }


def test_neo4j_plugin_alone_under_stock_distro(stack, jaeger, service_name, clean_venv, tmp_path):
    bin_dir = clean_venv("podcast-kg-otel-neo4j", "neo4j==6.4.1", *PINS)
    installed = _installed(bin_dir)
    assert installed["podcast-kg-otel-util"] == VERSION
    assert "podcast-kg-otel" not in installed
    code = (
        "import os, neo4j\n"
        "auth = (os.environ['T_USER'], os.environ['T_PASSWORD'])\n"
        "with neo4j.GraphDatabase.driver(os.environ['T_URI'], auth=auth) as driver:\n"
        "    driver.execute_query('RETURN $x AS x', x=1)\n"
        "print('done')\n"
    )
    env = {
        **_stock_env(stack, service_name),
        "T_URI": stack.neo4j_uri,
        "T_USER": stack.neo4j_user,
        "T_PASSWORD": stack.neo4j_password,
    }
    _run_traced(bin_dir, code, env, tmp_path)
    span = jaeger.wait_for_trace(service_name).root
    assert span.name == "RETURN"
    assert span.kind == "client"
    assert span.scope == "podcast_kg_otel_neo4j"
    assert span.attributes["db.system.name"] == "neo4j"


def test_langchain_plugin_alone_under_stock_distro(
    stack, jaeger, service_name, clean_venv, tmp_path
):
    bin_dir = clean_venv("podcast-kg-otel-langchain", "langchain-core==1.7.2", *PINS)
    assert "podcast-kg-otel" not in _installed(bin_dir)
    code = (
        "from langchain_core.language_models import FakeListChatModel\n"
        "from langchain_core.output_parsers import StrOutputParser\n"
        "from langchain_core.prompts import ChatPromptTemplate\n"
        "prompt = ChatPromptTemplate.from_messages([('human', 'topic: {topic}')])\n"
        "chain = prompt | FakeListChatModel(responses=['podcasts']) | StrOutputParser()\n"
        "assert chain.invoke({'topic': 'x'}) == 'podcasts'\n"
        "print('done')\n"
    )
    _run_traced(bin_dir, code, _stock_env(stack, service_name), tmp_path)
    trace = jaeger.wait_for_trace(service_name, min_spans=2)
    assert trace.root.name == "invoke_workflow RunnableSequence"
    chat = trace.one("chat")
    assert chat.kind == "client"
    assert chat.parent is trace.root
    assert chat.scope == "podcast_kg_otel_langchain"
    assert chat.attributes["gen_ai.operation.name"] == "chat"


def test_faster_whisper_plugin_alone_under_stock_distro(
    stack, jaeger, service_name, clean_venv, tmp_path
):
    bin_dir = clean_venv("podcast-kg-otel-faster-whisper", "faster-whisper==1.2.1", *PINS)
    assert "podcast-kg-otel" not in _installed(bin_dir)
    model = build_tiny_model(tmp_path / "tiny")
    audio = write_wav(tmp_path / "clip.wav", synth_audio(1.0))
    code = (
        "import sys\n"
        "from faster_whisper import WhisperModel\n"
        "model = WhisperModel(sys.argv[1], device='cpu', compute_type='float32')\n"
        "segments, info = model.transcribe(sys.argv[2], language='en')\n"
        "assert [s.text for s in segments] == [' hello world']\n"
        "print('done')\n"
    )
    script = tmp_path / "program.py"
    script.write_text(code)
    command = [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "python"), str(script),
               str(model), str(audio)]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = _run(command, env={**clean, **_stock_env(stack, service_name)}, cwd=tmp_path)
    assert "done" in completed.stdout, completed.stderr
    traces = jaeger.wait_for_traces(service_name, count=2)
    names = sorted(trace.root.name for trace in traces)
    assert names[0] == "faster_whisper.load_model", names
    transcribe = next(t for t in traces if t.root.name.startswith("speech_to_text")).root
    assert transcribe.scope == "podcast_kg_otel_faster_whisper"
    assert transcribe.attributes["faster_whisper.segments.count"] == 1


# What a user of the 0.66b2 / 1.45.2 release set already has installed: installing ours
# with every extra must not move it (an extra needing another opentelemetry-instrumentation
# would downgrade it, as opentelemetry-instrumentation-threading 0.66b1 does).
USER_SET = {
    "opentelemetry-api": "1.45.2",
    "opentelemetry-sdk": "1.45.2",
    "opentelemetry-instrumentation": "0.66b2",
    "opentelemetry-distro": "0.66b2",
    "opentelemetry-semantic-conventions": "0.66b2",
    "opentelemetry-instrumentation-requests": "0.66b2",
    "opentelemetry-instrumentation-redis": "0.66b2",
}


def test_distro_with_every_extra_coinstalls_beside_the_users_set(clean_venv, dist):
    bin_dir = clean_venv(*(f"{name}=={version}" for name, version in USER_SET.items()))
    extras = sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"])  # fmt: skip
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--find-links", str(dist),
          f"podcast-kg-otel[{','.join(extras)}]"])  # fmt: skip
    _run([str(bin_dir / "python"), "-m", "pip", "check"])
    installed = _installed(bin_dir)
    assert {name: installed.get(name) for name in USER_SET} == USER_SET
    for name in PROJECTS:
        assert installed[name] == VERSION, name
    # Every extra's pins arrived as pinned (pre-releases included).
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for requirement in (r for extra in extras for r in optional[extra] if "==" in r):
        name, version = (part.strip() for part in requirement.split("=="))
        assert installed.get(name) == version, requirement
