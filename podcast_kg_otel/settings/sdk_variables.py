"""The ``OTEL_*`` values the SDK and the OTLP exporters read themselves, repaired before
they read them.

Upstream's handling of a bad value varies: a non-integer ``OTEL_BSP_*``/``OTEL_BLRP_*``
logs a traceback and uses the default, ``0`` or a batch larger than the queue raises out
of the processor's constructor (no provider at all), a non-number gRPC timeout raises out
of the exporter's, an HTTP one warns without naming the variable, a bad compression or
sampler argument warns without naming it, and a non-integer span limit raises at import.
Here each one gets what our own settings get: the declaration's parser, one warning
naming the variable, the value and the value used, and the variable rewritten to that
value (a span limit is removed: the SDK default applies), so what the SDK reads is what
we said we use. Telemetry never goes off.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import MutableMapping
from typing import Any

from podcast_kg_otel_util import env as envtools

from podcast_kg_otel import components
from podcast_kg_otel.defaults import (
    DEFAULT_RESOURCE_DETECTORS,
    RATIO_SAMPLERS,
    SDK_RESOURCE_DETECTORS,
)
from podcast_kg_otel.settings import loader
from podcast_kg_otel.settings.declarations import (
    BOOL,
    FLOAT,
    INT,
    NAMES,
    RATIO_SAMPLER_ARG,
    SETTINGS,
    Setting,
    declared,
    declared_variable,
)

#: (export batch size, queue size) variables: the SDK raises when the batch is larger.
_BATCH_PAIRS = (
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE"),
    ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "OTEL_BLRP_MAX_QUEUE_SIZE"),
)


def _text(value: Any, kind: str) -> str:
    """``value`` written the way the SDK parses it."""
    if kind == INT:
        return str(int(value))
    if kind == BOOL:
        return "true" if value else "false"
    return str(value)


def _repair_setting(setting: Setting, environ: MutableMapping[str, str]) -> None:
    """Each set variable of ``setting`` that its parser rejects is rewritten to the value
    used instead, or removed when the SDK falls back to that value itself (the warning is
    the loader's, so the configuration's is not repeated); a valid one the SDK could not
    read (``5000.0`` read with ``int()``, ``yes`` for ``true``) is normalized."""
    for position, variable in enumerate(setting.variables):
        text = loader.raw(environ, variable)
        if text is None:
            continue
        inherited = (setting.inherits,) if setting.inherits else ()
        below = dataclasses.replace(setting, variables=(*setting.variables[position:], *inherited))
        shown = setting.shown_default if setting.default is None else None
        used = loader.from_env(below, environ, shown=shown)
        if used is None or (setting.inherits and not loader.valid(setting, text)):
            # The SDK falls back to the inherited variable itself (read when it changes).
            environ.pop(variable, None)
            continue
        rewritten = _text(used, setting.sdk)
        if rewritten != text and not _same(text, used, setting.sdk):
            environ[variable] = rewritten


def _same(text: str, value: Any, kind: str) -> bool:
    """True when the SDK reads ``text`` as ``value`` already."""
    try:
        if kind == INT:
            return int(text) == value
        if kind == FLOAT:
            return float(text) == value
    except ValueError:
        return False
    if kind == BOOL:
        return text.lower() == _text(value, kind)
    return text.lower() == value


def _repair_batches(environ: MutableMapping[str, str]) -> None:
    for batch_variable, queue_variable in _BATCH_PAIRS:
        batch_text = loader.raw(environ, batch_variable)
        if batch_text is None:
            continue
        queue_text = loader.raw(environ, queue_variable)
        queue = int(queue_text) if queue_text else declared_variable(queue_variable).default
        size = loader.batch_within_queue(int(batch_text), queue, batch_variable, batch_text)
        environ[batch_variable] = str(size)


def _repair_sampler_arg(environ: MutableMapping[str, str]) -> None:
    """A ratio sampler's argument: a rate in 0..1 (upstream: a warning not naming it)."""
    sampler = (loader.raw(environ, declared("sampler").variables[0]) or "").lower()
    if sampler not in RATIO_SAMPLERS:
        return
    _repair_setting(RATIO_SAMPLER_ARG, environ)


#: Opt-in names every supported instrumentation release knows: a list of only these is
#: not checked further (the library's own list costs an import of ~0.3 s).
_KNOWN_OPT_INS = frozenset(
    {"http", "http/dup", "database", "database/dup", "gen_ai_latest_experimental"}
)


def _known_opt_ins() -> tuple[str, ...]:
    """The ``OTEL_SEMCONV_STABILITY_OPT_IN`` names the installed instrumentation library
    understands (it ignores any other)."""
    from opentelemetry.instrumentation._semconv import _StabilityMode

    return tuple(mode.value for mode in _StabilityMode if mode is not _StabilityMode.DEFAULT)


def _repair_names(setting: Setting, environ: MutableMapping[str, str]) -> None:
    """A list whose reader silently ignores unknown names: one warning naming them, and
    the list the reader will act on written back."""
    for variable in setting.variables:
        text = loader.raw(environ, variable)
        if text is None:
            continue
        names = envtools.split_list(text)
        if _KNOWN_OPT_INS.issuperset(names):
            continue
        try:
            known = _known_opt_ins()
        except ImportError:  # no instrumentation library: nobody reads it
            return
        unknown = [name for name in names if name not in known]
        if not unknown:
            continue
        used = ",".join(name for name in names if name in known)
        reason = f"unknown name {', '.join(unknown)}; known: {', '.join(known)}"
        envtools.report_bad_value(variable, text, used, reason, environ)
        environ[variable] = used


def _repair_resource_detectors(environ: MutableMapping[str, str]) -> None:
    """The SDK reads the detector list again in every forked child (and in
    ``Resource.create``) and logs a traceback for each unknown name: only the known ones
    are written back, or our default when none is (the warning is the configuration's)."""
    (variable,) = declared("resource_detectors").variables
    text = loader.raw(environ, variable)
    if text is None:
        return
    names = envtools.split_list(text)
    group = components.RESOURCE_DETECTOR_GROUP
    known, unknown = components.split_known(group, names, (*SDK_RESOURCE_DETECTORS, "*"))
    if unknown:
        environ[variable] = ",".join(known or DEFAULT_RESOURCE_DETECTORS)


def repair(environ: MutableMapping[str, str] | None = None) -> None:
    """Repair every SDK-read variable in ``environ`` (``os.environ``); under
    ``PODCAST_KG_OTEL_STRICT=true`` the first bad one raises ``ConfigurationError``."""
    env = os.environ if environ is None else environ
    for setting in SETTINGS:
        if setting.sdk == NAMES:
            _repair_names(setting, env)
        elif setting.sdk:
            _repair_setting(setting, env)
    _repair_batches(env)
    _repair_sampler_arg(env)
    _repair_resource_detectors(env)
    for variable in loader.bad_span_limits(env):
        env.pop(variable, None)  # the SDK default applies
