"""Which instrumentations will apply: each installed instrumentor entry point and its
library, libraries installed without their instrumentation (with the ``pip install`` line),
what is switched off, and the thread/process context set-up.

Everything is read from package metadata; no instrumentor and no library is imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.metadata import Distribution, PackageNotFoundError, distribution, distributions
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from podcast_kg_otel_util import env as envtools

from podcast_kg_otel import environment_variables as ours
from podcast_kg_otel.doctor.findings import INFO, WARNING, Problem

SECTION = "instrumentation"
DISTRIBUTION = "podcast-kg-otel"
ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
DISABLE_VARIABLE = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
#: The libraries whose instrumentation we ship or pin (the pipeline's libraries and the
#: provider SDKs): installed without it is a warning. Other libraries come from the
#: contrib's own list (``bootstrap_gen``) and are reported as information.
KNOWN_LIBRARIES = {
    "neo4j": "podcast-kg-otel-neo4j",
    "langchain-core": "podcast-kg-otel-langchain",
    "faster-whisper": "podcast-kg-otel-faster-whisper",
    "openai": "opentelemetry-instrumentation-openai-v2",
    "google-genai": "opentelemetry-instrumentation-google-genai",
    "httpx": "opentelemetry-instrumentation-httpx",
    "grpcio": "opentelemetry-instrumentation-grpc",
    "redis": "opentelemetry-instrumentation-redis",
    "requests": "opentelemetry-instrumentation-requests",
}
#: Contrib lists its tortoiseorm instrumentation under pydantic (models it reads), which
#: is not an instrumentation of pydantic itself.
_NOT_TARGETS = frozenset({"pydantic"})
_INSTRUMENTS_EXTRAS = ("instruments", "instruments-any")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist: Distribution) -> list[Requirement]:
    parsed = []
    for line in dist.requires or []:
        try:
            parsed.append(Requirement(line))
        except InvalidRequirement:
            continue
    return parsed


def _instruments(dist: Distribution) -> list[Requirement]:
    """The libraries an instrumentation declares it instruments (its ``instruments`` extra)."""
    return [
        requirement
        for requirement in _requirements(dist)
        if requirement.marker is not None
        and any(requirement.marker.evaluate({"extra": extra}) for extra in _INSTRUMENTS_EXTRAS)
    ]


def _required_by(installed: Mapping[str, Distribution]) -> dict[str, list[str]]:
    """library -> the installed distributions that depend on it (extras left out)."""
    users: dict[str, list[str]] = {}
    for name, dist in installed.items():
        for requirement in _requirements(dist):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                users.setdefault(_norm(requirement.name), []).append(name)
    return users


def install_line(instrumentation: str, pin: str = "") -> str:
    """The exact ``pip install`` for an instrumentation: our plugins by name, what the
    distro pins through one of its extras by that extra, anything else as contrib pins it."""
    if instrumentation.startswith(f"{DISTRIBUTION}-"):
        return f"pip install {instrumentation}"
    try:
        ours_dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        return f"pip install '{pin or instrumentation}'"
    pinned = [r for r in _requirements(ours_dist) if _norm(r.name) == instrumentation]
    for extra in ours_dist.metadata.get_all("Provides-Extra") or []:
        if extra != "all" and any(
            r.marker is not None and r.marker.evaluate({"extra": extra}) for r in pinned
        ):
            return f"pip install '{DISTRIBUTION}[{extra}]'"
    return f"pip install '{pin or instrumentation}'"


def _contrib_libraries() -> dict[str, str]:
    """library -> pinned instrumentation requirement, from contrib's bootstrap list."""
    try:
        from opentelemetry.instrumentation.bootstrap_gen import libraries
    except ImportError:
        return {}
    table: dict[str, str] = {}
    for entry in libraries:
        library = _norm(Requirement(entry["library"]).name)
        if library not in _NOT_TARGETS:
            table.setdefault(library, entry["instrumentation"])
    return table


def _disabled_by(name: str, env: Mapping[str, str]) -> str:
    """The variable that switched entry point ``name`` off."""
    if name in envtools.env_list(DISABLE_VARIABLE, env):
        return DISABLE_VARIABLE
    for flag, entry_point in ours.INSTRUMENT_FLAGS.items():
        if entry_point == name and not envtools.env_bool(flag, True, env):
            return f"{flag}={env[flag].strip()}"
    return DISABLE_VARIABLE


def _entry_points(installed: Mapping[str, Distribution]) -> list[tuple[Any, Distribution]]:
    return [
        (entry_point, dist)
        for dist in installed.values()
        for entry_point in dist.entry_points
        if entry_point.group == ENTRY_POINT_GROUP
    ]


def check_instrumentations(
    env: Mapping[str, str],
    disabled: Iterable[str],
    runtime: Any,
    installed_distributions: Iterable[Distribution] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Instrumentor entry points with their status, libraries missing an instrumentation,
    and the context set-up (``runtime``: the resolved ``RuntimeSettings``)."""
    installed = {
        _norm(dist.metadata["Name"]): dist
        for dist in (
            distributions() if installed_distributions is None else installed_distributions
        )
        if dist.metadata["Name"]
    }
    disabled = set(disabled)
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    instrumented: set[str] = set()
    for entry_point, dist in sorted(_entry_points(installed), key=lambda item: item[0].name):
        libraries = _instruments(dist)
        found = [(requirement, installed.get(_norm(requirement.name))) for requirement in libraries]
        present = [(req, lib) for req, lib in found if lib is not None]
        matching = [
            (req, lib)
            for req, lib in present
            if req.specifier.contains(lib.version, prereleases=True)
        ]
        instrumented.update(_norm(req.name) for req, _ in present)
        row: dict[str, Any] = {
            "entry_point": entry_point.name,
            "instrumentation": f"{dist.metadata['Name']} {dist.version}",
            "library": ", ".join(f"{lib.metadata['Name']} {lib.version}" for _, lib in present)
            or ("standard library" if not libraries else None),
        }
        if entry_point.name in disabled:
            row["status"] = f"disabled by {_disabled_by(entry_point.name, env)}"
            problems.append(Problem(INFO, SECTION, f"{entry_point.name}: {row['status']}"))
        elif libraries and not present:
            row["status"] = "library not installed"
        elif libraries and not matching:
            wanted = ", ".join(str(req) for req, _ in present)
            row["status"] = f"not applied: the installed version is outside {wanted}"
            problems.append(
                Problem(
                    WARNING,
                    SECTION,
                    f"{entry_point.name}: {row['library']} is installed but "
                    f"{dist.metadata['Name']} {dist.version} instruments {wanted} only; "
                    "it will not be applied",
                )
            )
        elif runtime.lazy_instrumentation:
            row["status"] = "applies (on the library's first import)"
        else:
            row["status"] = "applies (at start-up)"
        rows.append(row)
    missing = _missing(installed, instrumented, problems)
    context = {
        "threads": "on"
        if runtime.thread_context
        else f"off ({ours.PODCAST_KG_OTEL_THREAD_CONTEXT})",
        "processes": "on"
        if runtime.process_context
        else f"off ({ours.PODCAST_KG_OTEL_PROCESS_CONTEXT})",
    }
    return {"instrumentors": rows, "missing": missing, "context": context}, problems


def _missing(
    installed: Mapping[str, Distribution], instrumented: set[str], problems: list[Problem]
) -> list[dict[str, Any]]:
    """Installed libraries that we or contrib can instrument, with no instrumentation."""
    contrib = _contrib_libraries()
    users = _required_by(installed)
    candidates = {library: (name, "") for library, name in KNOWN_LIBRARIES.items()}
    for library, pinned in contrib.items():
        candidates.setdefault(library, (_norm(Requirement(pinned).name), pinned))
    rows = []
    for library, (instrumentation, pin) in sorted(candidates.items()):
        dist = installed.get(library)
        if dist is None or library in instrumented or instrumentation in installed:
            continue
        line = install_line(instrumentation, pin)
        needed_by = sorted(users.get(library, []))
        row = {
            "library": f"{dist.metadata['Name']} {dist.version}",
            "instrumentation": instrumentation,
            "install": line,
            "required_by": needed_by,
        }
        rows.append(row)
        if library in KNOWN_LIBRARIES:
            level = WARNING
            note = ""
        else:
            level = INFO
            note = (
                f" (installed as a dependency of {', '.join(needed_by)}: only needed if "
                "your code calls it directly)"
                if needed_by
                else ""
            )
        problems.append(
            Problem(
                level,
                SECTION,
                f"{row['library']} is installed without its instrumentation "
                f"{instrumentation}{note}: {line}",
            )
        )
    return rows
