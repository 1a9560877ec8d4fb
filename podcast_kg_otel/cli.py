"""The ``podcast-kg-otel`` command (also ``python -m podcast_kg_otel``).

``podcast-kg-otel traces`` prints the latest traces of a service, read from a Jaeger query
API, as trees: for users without the Jaeger UI (CI logs, a locally built Jaeger, a terminal
over SSH).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.parse
from collections.abc import Sequence

from podcast_kg_otel.environment_variables import PODCAST_KG_OTEL_JAEGER_QUERY_URL
from podcast_kg_otel.jaeger_query import QueryClient, Trace
from podcast_kg_otel.trace_view import render

QUERY_PORT = 16686
ERROR_SEARCH_FACTOR = 20


def default_query_url() -> str:
    """``PODCAST_KG_OTEL_JAEGER_QUERY_URL``, else the query port on the OTLP endpoint's host
    (right for the local stack and for a Jaeger that receives and serves on one host)."""
    explicit = os.environ.get(PODCAST_KG_OTEL_JAEGER_QUERY_URL, "").strip()
    if explicit:
        return explicit
    from podcast_kg_otel.config import current_config

    host = urllib.parse.urlsplit(current_config().endpoint or "").hostname or "127.0.0.1"
    return f"http://{host}:{QUERY_PORT}"


def default_service() -> str:
    from podcast_kg_otel.config import current_config

    return current_config().service_name


def _has_error(trace: Trace) -> bool:
    return any(span.status_code == "ERROR" for span in trace.spans)


def _duration_us(trace: Trace) -> int:
    start = min(span.start_us for span in trace.spans)
    return max(span.start_us + span.duration_us for span in trace.spans) - start


def _header(trace: Trace, query_url: str) -> str:
    status = "  ERROR" if _has_error(trace) else ""
    return (
        f"trace {trace.trace_id}  {len(trace.spans)} span(s)  "
        f"{_duration_us(trace) / 1000:.1f} ms{status}\n  {query_url}/trace/{trace.trace_id}"
    )


def traces_command(args: argparse.Namespace) -> int:
    query_url = (args.query_url or default_query_url()).rstrip("/")
    client = QueryClient(query_url)
    try:
        if args.trace_id:
            found = client.trace(args.trace_id)
            traces = [found] if found else []
        else:
            params: dict[str, str] = {"lookback": args.lookback}
            if args.min_duration:
                params["minDuration"] = args.min_duration
            service = args.service or default_service()
            # Jaeger v2's stores do not search the synthetic `error` tag: errors are picked
            # from a wider window of the newest traces here.
            limit = max(args.limit * ERROR_SEARCH_FACTOR, 200) if args.errors else args.limit
            traces = client.traces(service, limit=limit, **params)
    except (OSError, urllib.error.URLError, ValueError) as error:
        print(f"podcast-kg-otel traces: cannot read {query_url}: {error}", file=sys.stderr)
        return 2
    traces.sort(key=lambda trace: min(span.start_us for span in trace.spans), reverse=True)
    if args.errors:
        traces = [trace for trace in traces if _has_error(trace)][: args.limit]
    if not traces:
        what = args.trace_id or f"service {args.service or default_service()!r}"
        print(f"no traces found for {what} at {query_url}", file=sys.stderr)
        return 1
    for trace in traces:
        print(_header(trace, query_url))
        print(render(trace))
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podcast-kg-otel", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    traces = commands.add_parser(
        "traces", help="print the latest traces of a service as trees, read from Jaeger"
    )
    traces.add_argument("--service", help="service name (default: the configured one)")
    traces.add_argument(
        "--query-url",
        help=f"Jaeger query API (default: ${PODCAST_KG_OTEL_JAEGER_QUERY_URL}, else port "
        f"{QUERY_PORT} on the OTLP endpoint's host)",
    )
    traces.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    traces.add_argument("--errors", action="store_true", help="only traces with an error")
    traces.add_argument(
        "--min-duration", help="only traces with a span at least this long (e.g. 250ms, 2s)"
    )
    traces.add_argument("--lookback", default="1h", help="how far back (default 1h; e.g. 2d)")
    traces.add_argument("--trace-id", help="one trace by its id (other filters are ignored)")
    traces.set_defaults(run=traces_command)
    from podcast_kg_otel import doctor  # the command's own imports wait until it runs

    doctor.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
