"""Environment variables read by podcast-kg-otel, beyond the standard ``OTEL_*`` ones.

Standard variables are honoured as the OpenTelemetry specification describes them (see
``docs/configuration.md`` for the full table). The legacy variables below come from the
original tracing guide; a standard variable always wins over its legacy counterpart.
"""

PODCAST_KG_OTEL_STRICT = "PODCAST_KG_OTEL_STRICT"
"""
.. envvar:: PODCAST_KG_OTEL_STRICT

``true`` turns every configuration warning into a ``ConfigurationError`` at start-up (for
CI). Default: ``false``.
"""

JAEGER_HOST = "JAEGER_HOST"
"""
.. envvar:: JAEGER_HOST

Legacy. Host of the OTLP endpoint when no ``OTEL_EXPORTER_OTLP_*ENDPOINT`` is set.
Default: ``127.0.0.1``.
"""

JAEGER_PORT = "JAEGER_PORT"
"""
.. envvar:: JAEGER_PORT

Legacy. Port of the OTLP endpoint. The retired Jaeger-native ports (6831/6832 UDP agent,
14250/14268 collector) are translated to the OTLP port with one migration warning; 4317
selects the gRPC protocol. Default: ``4318`` (``4317`` for gRPC).
"""

JAEGER_ENABLED = "JAEGER_ENABLED"
"""
.. envvar:: JAEGER_ENABLED

Legacy. ``false`` removes the OTLP trace exporter (when ``OTEL_TRACES_EXPORTER`` is unset).
Default: ``true``.
"""

TRACING_SERVICE_NAME = "TRACING_SERVICE_NAME"
"""
.. envvar:: TRACING_SERVICE_NAME

Legacy ``service.name``. Default: ``podcast-kg-pipeline``.
"""

TRACING_SERVICE_VERSION = "TRACING_SERVICE_VERSION"
"""
.. envvar:: TRACING_SERVICE_VERSION

Legacy ``service.version``. Default: ``unknown``.
"""

ENVIRONMENT = "ENVIRONMENT"
"""
.. envvar:: ENVIRONMENT

Legacy ``deployment.environment.name``. Default: ``development``.
"""

TRACING_SAMPLING_RATE = "TRACING_SAMPLING_RATE"
"""
.. envvar:: TRACING_SAMPLING_RATE

Legacy. A rate in 0..1 giving a ``parentbased_traceidratio`` sampler, unless
``OTEL_TRACES_SAMPLER`` is set. Default: unset (``parentbased_always_on``).
"""

TRACING_CONSOLE_EXPORT = "TRACING_CONSOLE_EXPORT"
"""
.. envvar:: TRACING_CONSOLE_EXPORT

Legacy. ``true`` adds the console span exporter (when ``OTEL_TRACES_EXPORTER`` is unset).
Default: ``false``.
"""

TRACING_BATCH_PROCESSOR = "TRACING_BATCH_PROCESSOR"
"""
.. envvar:: TRACING_BATCH_PROCESSOR

Legacy. ``false`` exports each span synchronously (``SimpleSpanProcessor``).
Default: ``true``.
"""

TRACING_MAX_BATCH_SIZE = "TRACING_MAX_BATCH_SIZE"
"""
.. envvar:: TRACING_MAX_BATCH_SIZE

Legacy ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``. Default: ``512``.
"""

INSTRUMENT_FLAGS: dict[str, str] = {
    "INSTRUMENT_NEO4J": "podcast_kg_neo4j",
    "INSTRUMENT_REDIS": "redis",
    "INSTRUMENT_REQUESTS": "requests",
    "INSTRUMENT_LOGGING": "logging",
    "INSTRUMENT_LANGCHAIN": "podcast_kg_langchain",
    "INSTRUMENT_WHISPER": "podcast_kg_faster_whisper",
}
"""
Legacy ``INSTRUMENT_*`` flags and the ``opentelemetry_instrumentor`` entry-point name each one
disables when set to ``false``. Default of every flag: ``true``.
"""

PODCAST_KG_OTEL_LAZY_INSTRUMENTATION = "PODCAST_KG_OTEL_LAZY_INSTRUMENTATION"
"""
.. envvar:: PODCAST_KG_OTEL_LAZY_INSTRUMENTATION

``true`` loads and applies each instrumentor only when its target library is first imported
(post-import hook); ``false`` loads them all at start-up like the stock distro.
Default: ``true``.
"""

PODCAST_KG_OTEL_EXIT_TIMEOUT_MS = "PODCAST_KG_OTEL_EXIT_TIMEOUT_MS"
"""
.. envvar:: PODCAST_KG_OTEL_EXIT_TIMEOUT_MS

The longest the exit may spend ending open spans and flushing them, in milliseconds; a dead
or hanging collector never holds the process longer. While the exporter is still starting or
the collector keeps accepting batches, the exit waits up to 5 s more, so no span is lost on a
busy machine. Default: ``500``.
"""

PODCAST_KG_OTEL_TAIL_SAMPLING = "PODCAST_KG_OTEL_TAIL_SAMPLING"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING

``true`` holds each trace's spans until its local root ends, then keeps the whole trace when
any span has ERROR status (or the root was slow), else at the tail ratio; the head sampler
becomes ``parentbased_always_on``. Default: ``false`` (``true`` when the ratio below is set).
"""

PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO = "PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO

Share (0..1) of traces without errors that tail sampling keeps, decided from the trace id.
Default: the configured ratio sampler's rate (``TRACING_SAMPLING_RATE`` /
``OTEL_TRACES_SAMPLER_ARG``), else ``1.0``.
"""

PODCAST_KG_OTEL_REMOTE_SAMPLING = "PODCAST_KG_OTEL_REMOTE_SAMPLING"
"""
.. envvar:: PODCAST_KG_OTEL_REMOTE_SAMPLING

``true`` turns central sampling on: the ``parentbased_jaeger_remote`` sampler, polling
Jaeger's sampling endpoint (``OTEL_TRACES_SAMPLER_ARG`` when set, else port 5778 of
``JAEGER_HOST``), with ``TRACING_SAMPLING_RATE`` as the rate until the first strategy
arrives. ``OTEL_TRACES_SAMPLER``, when set, wins. Default: ``false``.
"""

PODCAST_KG_OTEL_TAIL_SAMPLING_SLOW_MS = "PODCAST_KG_OTEL_TAIL_SAMPLING_SLOW_MS"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING_SLOW_MS

Tail sampling also keeps every trace whose local root took at least this long, in
milliseconds. Default: ``0`` (off).
"""

PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES = "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES

Most traces held at once; past it the oldest is decided early with the spans it has.
Default: ``2048``.
"""

PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS = "PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS

Most spans held at once, over all traces; past it the oldest trace is decided early.
Default: ``20000``.
"""

PODCAST_KG_OTEL_TAIL_SAMPLING_TIMEOUT_MS = "PODCAST_KG_OTEL_TAIL_SAMPLING_TIMEOUT_MS"
"""
.. envvar:: PODCAST_KG_OTEL_TAIL_SAMPLING_TIMEOUT_MS

A trace whose local root has not ended after this long is decided early, in milliseconds;
its later spans follow that decision (an ERROR span is still kept). Default: ``300000``.
"""

PODCAST_KG_OTEL_TRACED_FUNCTIONS = "PODCAST_KG_OTEL_TRACED_FUNCTIONS"
"""
.. envvar:: PODCAST_KG_OTEL_TRACED_FUNCTIONS

Functions to trace with no code change: ``module:qualified.name`` entries separated by ``;``
or ``,`` (e.g. ``pipeline.stages:process_episode;pipeline.graph:GraphWriter.write``), each
wrapped in a span when its module is imported. Default: empty.
"""

PODCAST_KG_OTEL_FORK_HANDLERS = "PODCAST_KG_OTEL_FORK_HANDLERS"
"""
.. envvar:: PODCAST_KG_OTEL_FORK_HANDLERS

``true`` fixes ``process.pid`` and resets exporter and buffers in forked children, and makes
``os._exit`` in a child flush its spans first (bounded by the exit timeout). Default: ``true``.
"""

PODCAST_KG_OTEL_FLUSH_ON_SIGTERM = "PODCAST_KG_OTEL_FLUSH_ON_SIGTERM"
"""
.. envvar:: PODCAST_KG_OTEL_FLUSH_ON_SIGTERM

``true`` makes SIGTERM (how Kubernetes, systemd and containers stop a process) run the bounded
exit before the process dies by the signal, when the app has not set its own SIGTERM handler.
Default: ``true``.
"""

PODCAST_KG_OTEL_THREAD_CONTEXT = "PODCAST_KG_OTEL_THREAD_CONTEXT"
"""
.. envvar:: PODCAST_KG_OTEL_THREAD_CONTEXT

``true`` carries the context current at ``Thread.start`` / ``ThreadPoolExecutor.submit``
(``map``, ``run_in_executor``, ``threading.Timer``) into the thread, so its spans nest under
it. Default: ``true``.
"""

PODCAST_KG_OTEL_PROCESS_CONTEXT = "PODCAST_KG_OTEL_PROCESS_CONTEXT"
"""
.. envvar:: PODCAST_KG_OTEL_PROCESS_CONTEXT

``true`` sends the context current at submit time with each task of ``multiprocessing.Pool``
and ``ProcessPoolExecutor`` (W3C ``traceparent``), attaches it in the worker around the task,
and flushes the worker's spans after a task that made some. Default: ``true``.
"""

PODCAST_KG_OTEL_RUN_SPAN = "PODCAST_KG_OTEL_RUN_SPAN"
"""
.. envvar:: PODCAST_KG_OTEL_RUN_SPAN

``true`` wraps the whole program run in one span named after the command (``main.py`` for
``python main.py``, ``pipeline`` for ``python -m pipeline``), current in the main thread
from start-up to exit, so a short command-line run is one trace; traced functions and every
other span nest under it. It ends at exit with ``process.exit.code`` (ERROR status on an
uncaught exception or a non-zero exit code). For batch jobs and CLIs, not for long-running
services (one trace per run would hold everything they ever do). Default: ``false``.
"""

OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION = "OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION"
"""
.. envvar:: OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION

Read by the contrib logging instrumentation: ``true`` adds an OpenTelemetry handler to the
root logger. Our distro defaults it to ``false`` while no logs exporter is configured, since
that handler would export nowhere yet stop Python printing an unconfigured app's warnings.
"""

OTEL_SEMCONV_STABILITY_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
"""
.. envvar:: OTEL_SEMCONV_STABILITY_OPT_IN

Read by the contrib instrumentations (redis, requests, httpx, ...): ``http`` and ``database``
make them emit the stable HTTP and database names (``http.request.method``, ``url.full``,
``db.system.name``, ...), the names our own plugins use. Our distro defaults it to
``http,database``; a value of your own is used as it is.
"""

PODCAST_KG_OTEL_JAEGER_QUERY_URL = "PODCAST_KG_OTEL_JAEGER_QUERY_URL"
"""
.. envvar:: PODCAST_KG_OTEL_JAEGER_QUERY_URL

The Jaeger query API that ``podcast-kg-otel traces`` reads. Default: port 16686 on the
host of the OTLP endpoint.
"""

PODCAST_KG_OTEL_EXIT_SUMMARY = "PODCAST_KG_OTEL_EXIT_SUMMARY"
"""
.. envvar:: PODCAST_KG_OTEL_EXIT_SUMMARY

``true`` prints one short block on stderr when the program ends: spans per instrumentation
scope, traces, one-span traces, spans delivered and dropped by cause, and a hint when most
traces are a single span. Default: ``false``.
"""
