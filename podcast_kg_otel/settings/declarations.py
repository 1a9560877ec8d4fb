"""Every setting of the distro, declared once: the field it fills, the variables that set
it in precedence order (standard ``OTEL_*`` first, then the tracing guide's legacy ones),
its parser and bounds, its default and one line of documentation.

The loader (``loader``) reads these for the environment, explicit arguments and the
configuration file alike; ``docs/configuration.md`` is generated from them (``docs``).
A declaration whose ``kind`` is ``COMPOSITE`` is read by a function of its own in
``config_env`` (several variables combine into one value, e.g. the endpoint) or
``settings.file`` (the configuration file); one whose
``field`` is empty is read where it is used (named in its ``doc``).

The legacy variables with no standard counterpart (``legacy_declarations``) and the
distro's own ``PODCAST_KG_OTEL_*`` settings (``distro_declarations``) are declared in modules
of their own and listed here, after the standard ones. These modules import nothing from
the rest of the distro but its fixed tables.
"""

from __future__ import annotations

import dataclasses

from podcast_kg_otel.defaults import (
    COMPRESSIONS,
    DEFAULT_ENVIRONMENT,
    DEFAULT_PROPAGATORS,
    DEFAULT_RESOURCE_DETECTORS,
    DEFAULT_SAMPLER,
    DEFAULT_SERVICE_NAME,
    DEFAULT_SERVICE_VERSION,
    PROTOCOLS,
    SPAN_LIMIT_VARIABLES,
    STABLE_SEMCONV,
)
from podcast_kg_otel.settings.distro_declarations import DISTRO_SETTINGS
from podcast_kg_otel.settings.legacy_declarations import LEGACY_SETTINGS
from podcast_kg_otel.settings.setting import (
    BOOL,
    CHOICE,
    COMPOSITE,
    ELSEWHERE,
    FLOAT,
    INT,
    NAMES,
    RESOURCE,
    TEXT,
    Setting,
)

_COUNT_LIMITS = tuple(name for name, (_, default) in SPAN_LIMIT_VARIABLES.items() if default >= 0)
_LENGTH_LIMITS = tuple(name for name, (_, default) in SPAN_LIMIT_VARIABLES.items() if default < 0)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "enabled",
        ("OTEL_SDK_DISABLED",),
        BOOL,
        False,
        negate=True,
        doc="`true`: no SDK is installed (the API stays a no-op; propagation still works).",
    ),
    Setting(
        "service_name",
        ("OTEL_SERVICE_NAME", f"{RESOURCE}[service.name]", "TRACING_SERVICE_NAME"),
        TEXT,
        DEFAULT_SERVICE_NAME,
        doc="`service.name`. Beats `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, which beats "
        "`TRACING_SERVICE_NAME` (legacy).",
    ),
    Setting(
        "service_version",
        (f"{RESOURCE}[service.version]", "TRACING_SERVICE_VERSION"),
        TEXT,
        DEFAULT_SERVICE_VERSION,
        doc="`service.version`; `TRACING_SERVICE_VERSION` is the legacy variable.",
    ),
    Setting(
        "environment",
        (
            f"{RESOURCE}[deployment.environment.name]",
            f"{RESOURCE}[deployment.environment]",
            "ENVIRONMENT",
        ),
        TEXT,
        DEFAULT_ENVIRONMENT,
        doc="`deployment.environment.name`; `ENVIRONMENT` is the legacy variable.",
    ),
    Setting(
        "resource_attributes",
        (RESOURCE,),
        COMPOSITE,
        None,
        shown_default="–",
        doc="`k=v,k2=v2` (percent-decoded). Overrides detected attributes; `service.version` "
        "and `deployment.environment.name` here beat the legacy variables.",
    ),
    Setting(
        "resource_detectors",
        ("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",),
        COMPOSITE,
        DEFAULT_RESOURCE_DETECTORS,
        shown_default=f"`{','.join(DEFAULT_RESOURCE_DETECTORS)}`",
        doc="Comma list of `opentelemetry_resource_detector` names filling the resource "
        "besides the service and distro attributes: the SDK's `process`, `os`, `host`, or any "
        "installed one (e.g. a container or cloud detector), `*` for all installed. "
        "`service_instance` is always added and `otel` always applies, as in the SDK. Setting "
        "it replaces the default (keep `process,os,host` to add one); `otel` alone gives the "
        "leanest resource, which collectors that index every resource attribute of every "
        "span (Jaeger on Badger, Cassandra or Elasticsearch) store fastest.",
    ),
    Setting(
        "exporters",
        ("OTEL_TRACES_EXPORTER",),
        COMPOSITE,
        None,
        shown_default="`otlp`",
        doc="Comma list: `otlp`, `otlp_proto_http`, `otlp_proto_grpc`, `console`, any "
        "installed `opentelemetry_traces_exporter` entry point, or `none`. When set it "
        "replaces `JAEGER_ENABLED`/`TRACING_CONSOLE_EXPORT`.",
    ),
    Setting(
        "metrics_exporters",
        ("OTEL_METRICS_EXPORTER",),
        COMPOSITE,
        (),
        shown_default="`none`",
        doc="Metrics are **off** unless set (Jaeger accepts traces only).",
    ),
    Setting(
        "logs_exporters",
        ("OTEL_LOGS_EXPORTER",),
        COMPOSITE,
        (),
        shown_default="`none`",
        doc="Logs are **off** unless set.",
    ),
    Setting(
        "protocol",
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
        CHOICE,
        None,
        choices=PROTOCOLS,
        shown_default="`http/protobuf`",
        doc="`http/protobuf` or `grpc` (`JAEGER_PORT=4317` selects `grpc` when neither is set).",
    ),
    Setting(
        "endpoint",
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        COMPOSITE,
        None,
        shown_default="`http://127.0.0.1:4318/v1/traces`",
        doc="`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full traces URL, used as is. "
        "`OTEL_EXPORTER_OTLP_ENDPOINT`: the base URL; `/v1/traces` is appended for HTTP. "
        "Both unset: from `JAEGER_HOST`/`JAEGER_PORT`. gRPC default: `http://127.0.0.1:4317`.",
    ),
    Setting(
        "headers",
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"),
        COMPOSITE,
        None,
        shown_default="–",
        doc="`k=v,k2=v2` (percent-decoded); the traces variable beats the generic one. "
        "Values are never printed.",
    ),
    Setting(
        "timeout",
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"),
        FLOAT,
        10.0,
        minimum=0.001,
        doc="Export timeout in **seconds**, as the Python OTLP exporters read it (`0` would "
        "fail every export).",
        sdk=FLOAT,
    ),
    Setting(
        "compression",
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"),
        CHOICE,
        "none",
        choices=COMPRESSIONS,
        doc="`none`, `gzip` or `deflate`.",
        sdk=CHOICE,
    ),
    Setting(
        "",
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ),
        ELSEWHERE,
        None,
        shown_default="–",
        doc="TLS files (and their `_TRACES_` forms), read by the OTLP exporter itself.",
    ),
    Setting(
        "sampler",
        ("OTEL_TRACES_SAMPLER",),
        COMPOSITE,
        DEFAULT_SAMPLER,
        doc="`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, "
        "`parentbased_always_off`, `parentbased_traceidratio` or an installed "
        "`opentelemetry_traces_sampler`. Beats `TRACING_SAMPLING_RATE`.",
    ),
    Setting(
        "sampler_arg",
        ("OTEL_TRACES_SAMPLER_ARG",),
        COMPOSITE,
        None,
        shown_default="`1.0` for the ratio samplers",
        doc="Ratio in 0..1 for `traceidratio`/`parentbased_traceidratio`; passed as is to "
        "other samplers. For `jaeger_remote`/`parentbased_jaeger_remote`: "
        "`endpoint=http://host:5778,pollingIntervalMs=60000,initialSamplingRate=0.001` (any "
        "subset; see *Central sampling*).",
    ),
    Setting(
        "sampling_rate",
        ("TRACING_SAMPLING_RATE",),
        FLOAT,
        None,
        minimum=0.0,
        maximum=1.0,
        invalid=1.0,
        shown_default="unset",
        doc="Legacy: rate in 0..1 → `parentbased_traceidratio` sampler, unless "
        "`OTEL_TRACES_SAMPLER` is set. Under central sampling it stays the local rate: the "
        "rate used until Jaeger's first strategy arrives (unless `initialSamplingRate` is "
        "given).",
    ),
    Setting(
        "",
        ("PODCAST_KG_OTEL_REMOTE_SAMPLING",),
        BOOL,
        False,
        doc="`true` turns central sampling on: the `parentbased_jaeger_remote` sampler, "
        "polling `OTEL_TRACES_SAMPLER_ARG`'s endpoint, else `http://$JAEGER_HOST:5778`. "
        "`OTEL_TRACES_SAMPLER`, when set, wins. See *Central sampling*.",
    ),
    Setting(
        "propagators",
        ("OTEL_PROPAGATORS",),
        COMPOSITE,
        DEFAULT_PROPAGATORS,
        shown_default="`tracecontext,baggage`",
        doc="Installed `opentelemetry_propagator` names or `none`. Set as the global "
        "propagator directly, so it takes effect whatever the import order (upstream reads "
        "it once at import: opentelemetry-python#4679).",
    ),
    Setting(
        "schedule_delay_millis",
        ("OTEL_BSP_SCHEDULE_DELAY",),
        FLOAT,
        5000.0,
        minimum=1,
        doc="Batch export delay, ms.",
        sdk=INT,
    ),
    Setting(
        "max_queue_size",
        ("OTEL_BSP_MAX_QUEUE_SIZE",),
        INT,
        2048,
        minimum=1,
        doc="Spans queued for export.",
        sdk=INT,
    ),
    Setting(
        "max_batch_size",
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "TRACING_MAX_BATCH_SIZE"),
        INT,
        512,
        minimum=1,
        doc="Spans per export (`TRACING_MAX_BATCH_SIZE` is the legacy variable); capped at "
        "the queue size (with a warning).",
        sdk=INT,
    ),
    Setting(
        "export_timeout_millis",
        ("OTEL_BSP_EXPORT_TIMEOUT",),
        FLOAT,
        30000.0,
        minimum=0,
        doc="Batch export timeout, ms.",
        sdk=INT,
    ),
    *(
        Setting(
            "",
            (f"OTEL_EXPORTER_OTLP_{signal}_TIMEOUT",),
            FLOAT,
            10.0,
            minimum=0.001,
            sdk=FLOAT,
            inherits="OTEL_EXPORTER_OTLP_TIMEOUT",
            doc=f"{signal.capitalize()} export timeout in seconds (read by the OTLP exporter; "
            "`OTEL_EXPORTER_OTLP_TIMEOUT` when unset).",
        )
        for signal in ("METRICS", "LOGS")
    ),
    *(
        Setting(
            "",
            (f"OTEL_EXPORTER_OTLP_{signal}_COMPRESSION",),
            CHOICE,
            "none",
            choices=COMPRESSIONS,
            sdk=CHOICE,
            inherits="OTEL_EXPORTER_OTLP_COMPRESSION",
            doc=f"{signal.capitalize()} export compression (read by the OTLP exporter; "
            "`OTEL_EXPORTER_OTLP_COMPRESSION` when unset).",
        )
        for signal in ("METRICS", "LOGS")
    ),
    Setting(
        "",
        ("OTEL_METRIC_EXPORT_INTERVAL",),
        FLOAT,
        60000.0,
        minimum=1,
        sdk=FLOAT,
        doc="Metrics export interval, ms (read by the SDK when a metrics exporter is set).",
    ),
    Setting(
        "",
        ("OTEL_METRIC_EXPORT_TIMEOUT",),
        FLOAT,
        30000.0,
        minimum=0,
        sdk=FLOAT,
        doc="Metrics export timeout, ms (read by the SDK when a metrics exporter is set).",
    ),
    *(
        Setting("", (f"OTEL_BLRP_{name}",), INT, default, minimum=minimum, sdk=INT, doc=doc)
        for name, default, minimum, doc in (
            ("SCHEDULE_DELAY", 1000, 1, "Log batch export delay, ms."),
            ("MAX_QUEUE_SIZE", 2048, 1, "Log records queued for export."),
            ("MAX_EXPORT_BATCH_SIZE", 512, 1, "Log records per export; capped at the queue size."),
            ("EXPORT_TIMEOUT", 30000, 0, "Log batch export timeout, ms."),
        )
    ),
    Setting(
        "span_limits",
        _COUNT_LIMITS,
        COMPOSITE,
        128,
        doc="SDK span limits (an empty value means unlimited).",
    ),
    Setting(
        "span_limits",
        _LENGTH_LIMITS,
        COMPOSITE,
        None,
        shown_default="unlimited",
        doc="Longest attribute value.",
    ),
    Setting(
        "disabled_instrumentations",
        ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",),
        COMPOSITE,
        None,
        shown_default="–",
        doc="Instrumentor entry-point names not to load (`*` = all); merged with the "
        "`INSTRUMENT_*` flags.",
    ),
    Setting(
        "",
        ("OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION",),
        ELSEWHERE,
        None,
        shown_default="`false` while no logs exporter is configured",
        doc="Read by the contrib logging instrumentation: `true` adds an OpenTelemetry handler "
        "to the root logger. With logs export off that handler exports nowhere, yet its "
        "presence stops Python printing an unconfigured app's own warnings, so we default it "
        "off. Trace ids are still added to log records.",
    ),
    Setting(
        "",
        ("OTEL_SEMCONV_STABILITY_OPT_IN",),
        NAMES,
        STABLE_SEMCONV,
        sdk=NAMES,
        shown_default=f"`{STABLE_SEMCONV}` under our distro",
        doc="Read by the contrib instrumentations (redis, requests, httpx): the stable HTTP "
        "and database names (`http.request.method`, `url.full`, `db.system.name`, ...), as our "
        "own plugins emit. A value of your own is used as given (e.g. `http/dup` for "
        "both vocabularies during a dashboard migration; leaving out `database` brings back "
        "the old database names); a name the installed instrumentation library does not know "
        "(ignored by it) gives one warning.",
    ),
    *(
        Setting(
            "",
            (f"OTEL_EXPORTER_OTLP{signal}_INSECURE",),
            BOOL,
            None,
            sdk=BOOL,
            inherits="OTEL_EXPORTER_OTLP_INSECURE" if signal else "",
            shown_default="from the endpoint's scheme",
            doc=f"gRPC{signal.replace('_', ' ').lower()} export: `true` for a plain-text "
            "connection. The exporters take only `true`: `yes`/`1`/`on` are written as "
            "`true`, `no`/`0`/`off` as `false` before they read them; another value is removed "
            "(one warning).",
        )
        for signal in ("", "_TRACES", "_METRICS", "_LOGS")
    ),
    Setting(
        "",
        ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",),
        ELSEWHERE,
        None,
        shown_default="off",
        doc="Prompts and completions on GenAI spans (our LangChain plugin and the provider SDK "
        "instrumentations of the `providers` extra). `true`/`false` work for all of them: for "
        "the provider SDK instrumentations the distro spells them as util-genai's "
        "`SPAN_ONLY`/`NO_CONTENT`.",
    ),
    Setting(
        "",
        ("OTEL_PYTHON_DISTRO", "OTEL_PYTHON_CONFIGURATOR"),
        ELSEWHERE,
        None,
        shown_default="`podcast_kg_otel` under `opentelemetry-instrument`",
        doc="Which distro/configurator upstream runs; see *Selection*.",
    ),
    Setting(
        "",
        ("OTEL_CONFIG_FILE", "OTEL_EXPERIMENTAL_CONFIG_FILE"),
        COMPOSITE,
        None,
        shown_default="–",
        doc="A declarative configuration file (the `config-file` extra): the SDK is configured "
        "from it as upstream defines, and our extensions apply on top (README, *A configuration "
        "file*); our run-time settings can go in its `distribution.podcast_kg_otel` section (see "
        "above). `OTEL_EXPERIMENTAL_CONFIG_FILE` is the old name (one warning).",
    ),
    *LEGACY_SETTINGS,
    *DISTRO_SETTINGS,
)


def declared(field: str) -> Setting:
    """The one declaration of ``field`` (``runtime.<name>`` for run-time settings)."""
    matches = [setting for setting in SETTINGS if setting.field == field]
    if len(matches) != 1:
        raise KeyError(field)
    return matches[0]


def declared_variable(variable: str) -> Setting:
    """The declaration that lists ``variable``."""
    for setting in SETTINGS:
        if variable in setting.variables:
            return setting
    raise KeyError(variable)


def variables() -> tuple[str, ...]:
    """Every environment variable declared (resource-attribute keys excluded), sorted."""
    names = {name for setting in SETTINGS for name in setting.variables if "[" not in name}
    return tuple(sorted(names))


def configuration_variables() -> tuple[str, ...]:
    """The variables the configuration reads (those only documented here left out)."""
    names = {
        name
        for setting in SETTINGS
        if setting.kind != ELSEWHERE
        for name in setting.variables
        if "[" not in name
    }
    return tuple(sorted(names))


#: ``OTEL_TRACES_SAMPLER_ARG`` as the ratio samplers read it: a rate (a bad one means 1.0).
RATIO_SAMPLER_ARG = dataclasses.replace(
    declared("sampler_arg"), kind=FLOAT, default=1.0, minimum=0.0, maximum=1.0, sdk=FLOAT
)
