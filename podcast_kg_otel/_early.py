"""Start-up hook run by ``podcast_kg_otel.pth`` in every interpreter of the environment,
before ``sitecustomize`` and before ``opentelemetry.propagate`` is imported.

It does two cheap things, and nothing at all unless the environment asks for it:

* in a process that upstream auto-instrumentation will initialise (its ``sitecustomize``
  directory is on ``PYTHONPATH``), it makes ``podcast_kg_otel`` the default distro and
  configurator, so ours is selected even when other distros are installed; explicit
  ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR`` values are left alone;
* it repairs the variables upstream reads, and raises on, at import time: an
  ``OTEL_PROPAGATORS`` naming a propagator that is not installed (kills the
  ``opentelemetry-instrument`` launcher before the application starts) and a non-integer
  span limit (breaks ``import opentelemetry.sdk.trace``). Each gets one warning; the
  propagator list is reduced to the valid names, a bad limit is removed (SDK default).
"""

import os

_NAME = "podcast_kg_otel"
_AUTO_DIR = os.path.join("opentelemetry", "instrumentation", "auto_instrumentation")
# Upstream matches entry-point names case-sensitively; only "none" is case-insensitive.
_BUILTIN_PROPAGATORS = {"tracecontext", "baggage"}
# The names of ``defaults.SPAN_LIMIT_VARIABLES``, listed here because this hook imports
# nothing of the package unless a value is bad (tests/distro/test_setup.py keeps them equal).
_SPAN_LIMITS = (
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)


def _select_distro() -> None:
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if not any(path.rstrip(os.sep).endswith(_AUTO_DIR) for path in paths):
        return
    if os.environ.setdefault("OTEL_PYTHON_DISTRO", _NAME) == _NAME:
        os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", _NAME)


def _sanitize_propagators() -> None:
    raw = os.environ.get("OTEL_PROPAGATORS")
    if not raw:
        return
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if all(name in _BUILTIN_PROPAGATORS or name.lower() == "none" for name in names):
        return
    from podcast_kg_otel_util.env import report_bad_value, strict_mode

    from podcast_kg_otel import components
    from podcast_kg_otel.defaults import DEFAULT_PROPAGATORS

    known = components.installed(components.PROPAGATOR_GROUP)
    valid = [name for name in names if name in known]
    if len(valid) == len(names) or strict_mode():
        return  # strict mode: leave it, so start-up fails loudly
    used = ",".join(valid or DEFAULT_PROPAGATORS)
    report_bad_value("OTEL_PROPAGATORS", raw, used, "unknown propagator name")
    os.environ["OTEL_PROPAGATORS"] = used


def _sanitize_span_limits() -> None:
    bad = [
        name
        for name in _SPAN_LIMITS
        if os.environ.get(name, "").strip() and not os.environ[name].strip().isdigit()
    ]
    if not bad:
        return
    from podcast_kg_otel_util.env import report_bad_value, strict_mode

    from podcast_kg_otel.defaults import SPAN_LIMIT_VARIABLES

    if strict_mode():
        return  # strict mode: leave it, so start-up fails loudly
    for name in bad:
        default = SPAN_LIMIT_VARIABLES[name][1]
        used = "unlimited" if default < 0 else default
        report_bad_value(name, os.environ.pop(name), used, "expected a non-negative integer")


def run() -> None:
    """Called from the .pth file; never raises into interpreter start-up."""
    try:
        _select_distro()
        _sanitize_propagators()
        _sanitize_span_limits()
    except Exception:
        pass
