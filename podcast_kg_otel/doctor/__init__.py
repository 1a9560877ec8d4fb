"""``podcast-kg-otel doctor``: what the distro will do in this environment, and what is wrong.

It reports the effective configuration with the source of each value and its warnings,
the instrumentations that will apply and the ones missing, the traced-function targets,
and whether the collector takes a probe span (read back from Jaeger when its query API is
known). Exit status 1 on an error; warnings fail only with ``--strict`` (see README).
Imported only by the command, never at program start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from podcast_kg_otel_util.env import STRICT_ENV

from podcast_kg_otel.doctor.findings import ERROR, INFO, WARNING, Problem, exit_status, lenient

DEFAULT_TIMEOUT = 5.0


def diagnose(
    env: dict[str, str], query_url: str | None, read_back: bool, timeout: float
) -> tuple[dict[str, Any], list[Problem]]:
    """Every section's findings (the JSON document) and all problems."""
    from podcast_kg_otel.config import TracingConfig
    from podcast_kg_otel.doctor.collector import check_collector
    from podcast_kg_otel.doctor.findings import muted
    from podcast_kg_otel.doctor.libraries import check_instrumentations
    from podcast_kg_otel.doctor.settings import check_configuration
    from podcast_kg_otel.doctor.targets import check_targets

    report: dict[str, Any] = {}
    problems: list[Problem] = []
    report["configuration"], found = check_configuration(env)
    problems += found
    with lenient(), muted():  # already reported above
        config = TracingConfig.from_env({k: v for k, v in env.items() if k != STRICT_ENV})
        if read_back and not query_url:
            from podcast_kg_otel.cli import default_query_url

            query_url = default_query_url()
    report["instrumentation"], found = check_instrumentations(
        env, config.disabled_instrumentations, config.runtime
    )
    problems += found
    report["traced_functions"], found = check_targets(config.runtime.traced_functions)
    problems += found
    report["collector"], found = check_collector(
        config,
        query_url if read_back else None,
        timeout,
        report["configuration"]["config_file"],
    )
    problems += found
    return report, problems


def _settings_lines(configuration: dict[str, Any], show_all: bool) -> list[str]:
    lines = ["Configuration"]
    file_info = configuration["config_file"]
    if file_info:
        decides = ", ".join(file_info["decides"]) or "nothing of ours"
        usable = "" if file_info["usable"] else " (cannot be used: the environment applies)"
        lines.append(
            f"  {file_info['variable']}={file_info['path']}{usable}; it decides: {decides}"
        )
    shown = [s for s in configuration["settings"] if show_all or s["source"] != "default"]
    width = max((len(s["name"]) for s in shown), default=0)
    for setting in shown:
        value = "the file's" if setting["kind"] == "config file" else json.dumps(setting["value"])
        lines.append(f"  {setting['name']:<{width}}  {value}  ({setting['source']})")
    hidden = len(configuration["settings"]) - len(shown)
    if hidden:
        lines.append(f"  ... and {hidden} setting(s) at their defaults (--all shows them)")
    return lines


def _instrumentation_lines(section: dict[str, Any]) -> list[str]:
    lines = ["Instrumentation"]
    for row in section["instrumentors"]:
        library = row["library"] or "-"
        lines.append(f"  {row['entry_point']:<26} {library:<32} {row['status']}")
    for row in section["missing"]:
        lines.append(f"  {row['library']} has no instrumentation: {row['install']}")
    context = section["context"]
    lines.append(f"  context into threads: {context['threads']}, processes: {context['processes']}")
    return lines


def _target_lines(section: dict[str, Any]) -> list[str]:
    lines = ["Traced functions (PODCAST_KG_OTEL_TRACED_FUNCTIONS)"]
    if not section["targets"] and not section["malformed"]:
        lines.append("  none configured")
    for row in section["targets"]:
        detail = "  ".join(row[key] for key in ("where", "reason", "note") if key in row)
        how = "; module imported to check" if row.get("imported") else ""
        lines.append(f"  {row['status']:<12} {row['target']}  {detail}{how}")
    for message in section["malformed"]:
        lines.append(f"  malformed    {message}")
    return lines


def _collector_lines(section: dict[str, Any]) -> list[str]:
    lines = ["Collector"]
    if "skipped" in section:
        return [*lines, f"  not checked: {section['skipped']}"]
    probe = section["probe"]
    target = f"{probe['endpoint']} ({probe['protocol']})"
    if probe["delivered"]:
        lines.append(
            f"  probe span {probe['trace_id']} (service {probe['service']}) taken by {target} "
            f"in {probe['export_ms']} ms"
        )
    else:
        lines.append(f"  probe span NOT taken by {target}: {probe['cause']}")
    back = section.get("read_back")
    if back and back["found"]:
        lines.append(f"  read back from {back['query_url']}: round trip {back['round_trip_ms']} ms")
    elif back:
        lines.append(f"  not read back from {back['query_url']}: {back['cause']}")
    return lines


def render(report: dict[str, Any], problems: list[Problem], status: int, show_all: bool) -> str:
    lines = _settings_lines(report["configuration"], show_all)
    lines += ["", *_instrumentation_lines(report["instrumentation"])]
    lines += ["", *_target_lines(report["traced_functions"])]
    lines += ["", *_collector_lines(report["collector"])]
    counts = {level: sum(p.level == level for p in problems) for level in (ERROR, WARNING, INFO)}
    lines += [
        "",
        f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} note(s)",
    ]
    for problem in sorted(problems, key=lambda p: (ERROR, WARNING, INFO).index(p.level)):
        lines.append(f"  {problem.level:<8} {problem.section}: {problem.message}")
    verdict = "something is wrong" if status else "ok"
    lines.append(f"doctor: {verdict} (exit status {status})")
    return "\n".join(lines)


def doctor_command(args: argparse.Namespace) -> int:
    query_url = args.query_url.rstrip("/") if args.query_url else None
    report, problems = diagnose(dict(os.environ), query_url, not args.no_read_back, args.timeout)
    status = exit_status(problems, args.strict)
    if args.json:
        document = {
            "status": status,
            "problems": [problem.as_dict() for problem in problems],
            **report,
        }
        json.dump(document, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(report, problems, status, args.all))
    return status


def add_parser(commands: Any) -> None:
    """The ``doctor`` subcommand of ``podcast-kg-otel``."""
    doctor = commands.add_parser(
        "doctor",
        help="check the configuration, instrumentations, traced functions and collector",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document on stdout")
    doctor.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    doctor.add_argument("--all", action="store_true", help="show settings at their defaults too")
    doctor.add_argument(
        "--query-url",
        help="Jaeger query API to read the probe back from (default: "
        "$PODCAST_KG_OTEL_JAEGER_QUERY_URL, else port 16686 on the OTLP endpoint's host)",
    )
    doctor.add_argument(
        "--no-read-back", action="store_true", help="send the probe span without reading it back"
    )
    doctor.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds the probe export may take (default {DEFAULT_TIMEOUT:g})",
    )
    doctor.set_defaults(run=doctor_command)
