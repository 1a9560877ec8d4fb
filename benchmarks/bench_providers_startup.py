"""Start-up cost of the `providers` extra under our distro, in one run.

    python benchmarks/bench_providers_startup.py [--rounds 21]

Each round runs ``opentelemetry-instrument python -c pass`` twice, alternating: with the
provider-side instrumentors (openai, google-genai, httpx, httpx2, grpc_*) registered as
installed, and with them disabled through ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``. Both are
lazy, so the difference is their registration (targets read from package metadata, one
post-import hook each, the nested-inference tracer provider): what installing the extra adds
to a program that never imports a provider SDK.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMAND = [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", "pass"]
PROVIDER_INSTRUMENTORS = (
    "openai,google-genai,httpx,httpx2,grpc_client,grpc_aio_client,grpc_server,grpc_aio_server"
)


def _wall(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(COMMAND, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PODCAST_KG_"))}
    base["OTEL_SERVICE_NAME"] = "bench-providers-startup"
    cases = {
        "ours -c pass, providers extra registered": base,
        "ours -c pass, provider instrumentors disabled": {
            **base,
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": PROVIDER_INSTRUMENTORS,
        },
    }
    for env in cases.values():  # warm-up: page cache
        _wall(env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, env in cases.items():
            times[name].append(_wall(env))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"start-up, median of {rounds} interleaved runs (ms)")
    for name, value in medians.items():
        print(f"  {name:48s} {value:8.1f}")
    with_extra, without = medians.values()
    print(f"  added by the extra: {with_extra - without:+.1f} ms ({with_extra / without:.3f}x)")


if __name__ == "__main__":
    main()
