"""The distro's own settings (``PODCAST_KG_OTEL_*``): what neither the SDK nor the
tracing guide has a variable for (run-time behaviour: lazy instrumentation, the exit, tail
sampling, traced functions, context into threads and processes, strict mode, the query API
the CLI reads). Declared as in ``declarations``, which lists them after the standard and
legacy ones."""

from __future__ import annotations

from podcast_kg_otel.settings.setting import (
    BOOL,
    ELSEWHERE,
    FLOAT,
    INT,
    TEXT,
    Setting,
)

DISTRO_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "",
        ("PODCAST_KG_OTEL_STRICT",),
        BOOL,
        False,
        doc="`true`: configuration warnings become a start-up error (read by "
        "`podcast_kg_otel_util.env`, which every plugin shares).",
    ),
    Setting(
        "runtime.lazy_instrumentation",
        ("PODCAST_KG_OTEL_LAZY_INSTRUMENTATION",),
        BOOL,
        True,
        doc="Each instrumentor (ours and contrib) is loaded and applied only when its target "
        "library is first imported (post-import hook; `import x`, `from x import y`, "
        "`import x.sub`, or at once if already imported). `false`: all at start-up, like "
        "stock.",
    ),
    Setting(
        "runtime.exit_timeout",
        ("PODCAST_KG_OTEL_EXIT_TIMEOUT_MS",),
        FLOAT,
        500.0,
        minimum=0,
        scale=0.001,
        shown_default="`500`",
        doc="Longest the exit spends ending open spans (marked "
        "`podcast_kg_otel.span.ended_at_exit=true`) and flushing; a dead or hanging collector "
        "never holds the process longer. While the exporter is still starting or the "
        "collector keeps accepting batches it may wait up to 5 s more, so no span is lost on "
        "a busy machine.",
    ),
    Setting(
        "runtime.export_warning_interval",
        (),
        FLOAT,
        60.0,
        minimum=0,
        doc="Seconds between two export-failure lines (set in code only).",
    ),
    Setting(
        "runtime.tail_sampling",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING",),
        BOOL,
        False,
        shown_default="`false` (`true` when the ratio below is set)",
        doc="Hold each trace until its local root ends; keep the whole trace if any span is "
        "ERROR (or the root was slow), else at the tail ratio. The head sampler becomes "
        "`parentbased_always_on`; traces with a remote parent follow the parent's sampled "
        "flag.",
    ),
    Setting(
        "runtime.tail_ratio",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_RATIO",),
        FLOAT,
        None,
        minimum=0,
        maximum=1,
        shown_default="the ratio sampler's rate (`TRACING_SAMPLING_RATE` / "
        "`OTEL_TRACES_SAMPLER_ARG`); `0` under `always_off` / `parentbased_always_off` "
        "(errors only); the remote strategy under `jaeger_remote` / "
        "`parentbased_jaeger_remote`; else `1.0`",
        doc="Share (0..1) of error-free traces kept, decided from the trace id like "
        "`TraceIdRatioBased`. When set, it beats a remote strategy.",
    ),
    Setting(
        "runtime.tail_slow_threshold",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_SLOW_MS",),
        FLOAT,
        None,
        minimum=0,
        scale=0.001,
        shown_default="`0` (off)",
        doc="Also keep every trace whose local root took at least this long.",
    ),
    Setting(
        "runtime.tail_max_traces",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_TRACES",),
        INT,
        2048,
        minimum=1,
        doc="Most traces held at once; past it the oldest is decided early with what it has.",
    ),
    Setting(
        "runtime.tail_max_spans",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_MAX_SPANS",),
        INT,
        20000,
        minimum=1,
        doc="Most spans held at once over all traces; past it the oldest trace is decided early.",
    ),
    Setting(
        "runtime.tail_trace_timeout",
        ("PODCAST_KG_OTEL_TAIL_SAMPLING_TIMEOUT_MS",),
        FLOAT,
        300000.0,
        minimum=1,
        scale=0.001,
        shown_default="`300000`",
        doc="A trace whose local root has not ended after this long is decided early; its "
        "later spans follow the decision (an ERROR span is still kept).",
    ),
    Setting(
        "runtime.traced_functions",
        ("PODCAST_KG_OTEL_TRACED_FUNCTIONS",),
        TEXT,
        "",
        shown_default="empty",
        doc="`module:qualified.name` entries separated by `;` or `,` (e.g. "
        "`pipeline.stages:process_episode;pipeline.graph:GraphWriter.write`), each wrapped in "
        "a span when its module is imported: functions, methods, static/class methods, "
        "coroutines, generators, async generators. Targets in the entry script work too: "
        "`main:process_file` (or `__main__:process_file`) for `python main.py` and "
        "`python -m main`; the script then runs one top-level statement at a time through "
        "`runpy` and each target is wrapped as soon as it is defined (an uncaught exception's "
        "traceback shows two runpy frames and one of ours above the script's, as with `-m`). "
        "A malformed entry, a missing attribute or a module that cannot be imported gives one "
        "warning; any target still not traced when the program ends gets one warning then.",
    ),
    Setting(
        "runtime.fork_handlers",
        ("PODCAST_KG_OTEL_FORK_HANDLERS",),
        BOOL,
        True,
        doc="In forked children (`os.fork`, multiprocessing `fork`): fix "
        "`process.pid`/`process.parent_pid`, reset the exporter and buffers, and make "
        "`os._exit` flush first (bounded by the exit timeout). `spawn` children configure "
        "themselves from the environment.",
    ),
    Setting(
        "runtime.sigterm_flush",
        ("PODCAST_KG_OTEL_FLUSH_ON_SIGTERM",),
        BOOL,
        True,
        doc="SIGTERM (how Kubernetes, systemd and containers stop a process) first runs the "
        "bounded exit: open spans are ended and marked, buffered spans exported within the "
        "exit timeout; then the process dies by SIGTERM as before. Only installed when the "
        "app has not set its own SIGTERM handler (an app handler that exits normally gets "
        "the usual `atexit` flush). Python runs signal handlers between bytecodes, so a main "
        "thread inside one long C call stops when that call returns (the orchestrator's kill "
        "timeout still applies); `false` restores the immediate default death.",
    ),
    Setting(
        "",
        ("PODCAST_KG_OTEL_JAEGER_QUERY_URL",),
        ELSEWHERE,
        None,
        shown_default="port 16686 on the OTLP endpoint's host",
        doc="The Jaeger query API that `podcast-kg-otel traces` and `doctor` read (not used "
        "by the instrumented program).",
    ),
    Setting(
        "runtime.thread_context",
        ("PODCAST_KG_OTEL_THREAD_CONTEXT",),
        BOOL,
        True,
        doc="Work handed to a thread runs under the context current when it was handed over, "
        "so its spans nest: `threading.Thread` (subclasses overriding `run` too) and "
        "`threading.Timer` take the context at `start()`, `ThreadPoolExecutor.submit`/`map` "
        "and `loop.run_in_executor` at submit time (`asyncio.to_thread` already copies it). "
        "Nothing is captured when no context is current. `false`: threads start with an "
        "empty context, as in plain Python.",
    ),
    Setting(
        "runtime.process_context",
        ("PODCAST_KG_OTEL_PROCESS_CONTEXT",),
        BOOL,
        True,
        doc="Each task sent to `multiprocessing.Pool` (`apply`, `apply_async`, `map`, "
        "`map_async`, `imap`, `imap_unordered`, `starmap`, `starmap_async`) or "
        "`ProcessPoolExecutor` (`submit`, `map`) carries the submitting span as a W3C "
        "`traceparent` (global propagator) and runs in the worker under it, with the fork, "
        "spawn and forkserver start methods; a worker flushes its spans after each task that "
        "made some (bounded by `PODCAST_KG_OTEL_EXIT_TIMEOUT_MS`, up to 5 s more while a "
        "worker builds its exporter; a flush still retrying a collector that is down is not "
        "waited for again), so ending the pool loses none; the map family flushes once per "
        "chunk. `multiprocessing.pool.ThreadPool` tasks carry the context like thread pools. "
        "`false`: tasks run with no context and no per-task flush.",
    ),
    Setting(
        "runtime.run_span",
        ("PODCAST_KG_OTEL_RUN_SPAN",),
        BOOL,
        False,
        doc="`true` wraps the whole program run in one span named after the command "
        "(`main.py` for `python main.py`, `pipeline` for `python -m pipeline`), current in the "
        "main thread from start-up to exit: a short command-line run becomes one trace even "
        "with no traced function, and traced functions nest under it. It ends at exit before "
        "the flush (never marked `ended_at_exit`, except when SIGTERM stops the process) with "
        "`process.exit.code`: 0, the code given to `sys.exit` (a bare `raise SystemExit(n)` "
        "bypasses it and reads as 0), or 1 for an uncaught exception, which is recorded with "
        "ERROR status; a non-zero code is ERROR too. With tail sampling on, the whole run is "
        "one trace held until exit (within the tail-sampling bounds). Threads nest under it "
        "when they start within its context. Use it for batch jobs and CLIs; not for "
        "long-running services or workers (one trace per run would hold everything they ever "
        "do) nor with traced functions meant to be one trace per unit of work. "
        "Multiprocessing workers never start one.",
    ),
    Setting(
        "runtime.exit_summary",
        ("PODCAST_KG_OTEL_EXIT_SUMMARY",),
        BOOL,
        False,
        doc="`true` prints one block on stderr at exit (main process only, after the exit "
        "flush): spans per instrumentation scope, traces, one-span traces, spans delivered "
        "and dropped by cause (`export_stats()`), and a hint naming "
        "`PODCAST_KG_OTEL_TRACED_FUNCTIONS` when most traces are a single span.",
    ),
)
