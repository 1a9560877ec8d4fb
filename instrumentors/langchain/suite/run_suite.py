"""Run langchain-core's own unit suite plain and with our instrumentor on; fail on any
test whose outcome differs.

    python run_suite.py SDIST_DIR [--report-dir DIR] [pytest args...]

Called by `make test-langchain-suite` with the python of the suite's venv, in the
unpacked langchain-core sdist. Each mode is one pytest session over `tests/unit_tests`
with the options of langchain-core's own `make test` (no network, benchmarks off, its
tracing variables unset); per-test outcomes come from the JUnit XML reports. A test
that differs is run again alone in both modes: when either outcome does not come back
(the plain run of a flaky test failing once, say) it is reported as not reproduced and
does not fail the target; a difference that comes back in both modes does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTEST_ARGS = ["--benchmark-disable", "--disable-socket", "--allow-unix-socket", "-q"]
UNSET = (
    "LANGCHAIN_TRACING_V2",
    "LANGCHAIN_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGSMITH_TRACING",
    "LANGCHAIN_PROJECT",
)
# Differences that are what instrumenting with a callback handler is, not a change of
# LangChain's behaviour. Each is named with the reason; every other difference fails.
EXPECTED = {
    "tests.unit_tests.runnables.test_config::test_merge_config_callbacks": (
        "asserts that a chain group's callback manager holds exactly the user's handlers; "
        "ours is one more (as LangSmith's tracer is when its tracing variable is set, "
        "which is why langchain-core's own `make test` unsets it)"
    ),
}
# Tests asserting wall-clock time: on a shared machine their outcome follows the load,
# not LangChain's behaviour. Reported, not compared (benchmarks/bench_langchain.py
# measures our cost instead).
TIMING = {
    "tests.unit_tests.language_models.chat_models.test_benchmark::test_benchmark_model": (
        "asserts that 1,000 invokes of a fake chat model take under 1 s of wall-clock time"
    ),
}


def run(sdist: Path, instrumented: bool, report: Path, select: list[str]) -> dict[str, str]:
    """One pytest session; returns {test id: outcome}."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *PYTEST_ARGS]
    if instrumented:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
        env["LCSUITE_SPANS_FILE"] = str(report.with_suffix(".spans"))
        args += ["-p", "lcsuite_instrument"]
    args += [f"--junitxml={report}", *(select or ["tests/unit_tests"])]
    done = subprocess.run(args, cwd=sdist, env=env, stdout=subprocess.PIPE, text=True)
    summary = done.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"  {'ours ' if instrumented else 'plain'}: {summary[0]}", flush=True)
    if not report.exists():
        print(done.stdout[-4000:])
        raise SystemExit(f"pytest wrote no report (exit {done.returncode})")
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    """{test id: passed|failed|error|skipped|xfailed} from a JUnit XML report."""
    result: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
            elif child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
        result[test] = outcome
    return result


def node_id(test: str) -> str:
    """pytest's node id of a JUnit test name (classname::name)."""
    classname, name = test.split("::", 1)
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        path = Path(*parts[:cut]).with_suffix(".py")
        if path.exists():
            return "::".join([str(path), *parts[cut:], name])
    raise SystemExit(f"no test file for {test}")


def counts(result: dict[str, str]) -> str:
    kinds = ("passed", "failed", "error", "skipped", "xfailed")
    return ", ".join(f"{sum(1 for o in result.values() if o == k)} {k}" for k in kinds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist", type=Path)
    parser.add_argument("--report-dir", type=Path)
    parser.add_argument("select", nargs="*", help="test paths (default tests/unit_tests)")
    args = parser.parse_intermixed_args()
    reports = args.report_dir or Path(tempfile.mkdtemp(prefix="lcsuite-"))
    reports.mkdir(parents=True, exist_ok=True)
    sdist = args.sdist.resolve()
    os.chdir(sdist)

    print(f"langchain-core suite in {sdist}", flush=True)
    plain = run(sdist, False, reports / "plain.xml", args.select)
    ours = run(sdist, True, reports / "ours.xml", args.select)
    spans = (reports / "ours.spans").read_text().strip()
    print(f"plain: {len(plain)} tests: {counts(plain)}")
    print(f"ours:  {len(ours)} tests: {counts(ours)}; spans made by our instrumentor: {spans}")

    differing = sorted(t for t in plain.keys() | ours.keys() if plain.get(t) != ours.get(t))
    for test, why in {**EXPECTED, **TIMING}.items():
        print(f"not compared: {test}: plain {plain.get(test)}, ours {ours.get(test)}")
        print(f"    why: {why}")
    suspects = [t for t in differing if t not in EXPECTED and t not in TIMING]
    again: dict[str, tuple[str | None, str | None]] = {}
    if suspects:
        print(f"{len(suspects)} test(s) differ; running them again alone in both modes")
        ids = [node_id(t) for t in suspects]
        plain_again = run(sdist, False, reports / "plain-again.xml", ids)
        ours_again = run(sdist, True, reports / "ours-again.xml", ids)
        again = {t: (plain_again.get(t), ours_again.get(t)) for t in suspects}
    real = [t for t, outcome in again.items() if outcome == (plain.get(t), ours.get(t))]
    for test, (plain_alone, ours_alone) in again.items():
        if test in real:
            print(f"DIFFERS: {test}: plain {plain.get(test)}, ours {ours.get(test)}")
        else:
            print(
                f"not reproduced (flaky or order-dependent): {test}: plain {plain.get(test)}, "
                f"ours {ours.get(test)}; alone: plain {plain_alone}, ours {ours_alone}"
            )
    print(
        f"differing outcomes: {len(real)} (not reproduced: {len(again) - len(real)}); "
        f"reports in {reports}"
    )
    return 1 if real else 0


if __name__ == "__main__":
    raise SystemExit(main())
