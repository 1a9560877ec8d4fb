"""Errors as semconv attributes: the Neo4j code for server errors, the class otherwise.

Server messages can quote data (a constraint violation names the duplicate value),
so they never reach the span: the status description and the exception event carry
the Neo4j code instead of the message. Other errors that are not the driver's own
(DriverError) keep only their type: they can quote parameter values too.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

import neo4j
from neo4j.exceptions import DriverError
from opentelemetry.trace import Span, Status, StatusCode
from podcast_kg_otel_util.errors import error_type

from podcast_kg_otel_neo4j import attributes as attr

_UNKNOWN_GQL_STATUS = "50N42"  # the driver's polyfill for servers without GQL errors
# Before 6.0 reading GQL fields of an exception emits a PreviewWarning the application
# would see; there we take GQL data only from the raw FAILURE metadata.
_GQL_ON_EXCEPTIONS = int(getattr(neo4j, "__version__", "6").split(".")[0]) >= 6


def _gql(span: Span, status: Any, classification: Any) -> None:
    if isinstance(status, str) and status and status != _UNKNOWN_GQL_STATUS:
        span.set_attribute(attr.NEO4J_GQL_STATUS, status)
    name = getattr(classification, "name", classification)
    if isinstance(name, str) and name and name != "UNKNOWN":
        span.set_attribute(attr.NEO4J_GQL_CLASSIFICATION, name)


def record_exception(span: Span, exc: BaseException) -> str:
    """Mark `span` failed by `exc` (once); returns the error.type used."""
    code = getattr(exc, "code", None)
    kind = error_type(exc)
    if isinstance(code, str) and code:
        etype = code
        message = f"{type(exc).__name__}: {code}"
        span.set_attribute(attr.DB_RESPONSE_STATUS_CODE, code)
        stack = "".join(traceback.format_tb(exc.__traceback__)) + f"{kind}: {code}\n"
        span.record_exception(exc, {attr.EXCEPTION_MESSAGE: code, attr.EXCEPTION_STACKTRACE: stack})
    elif isinstance(exc, DriverError):  # the driver's messages: addresses, usage, no data
        etype = kind
        message = f"{type(exc).__name__}: {exc}"
        span.record_exception(exc)
    else:  # e.g. packing a parameter: "Integer <value> out of range"; only the type
        etype = kind
        message = kind
        stack = "".join(traceback.format_tb(exc.__traceback__)) + f"{kind}\n"
        span.record_exception(exc, {attr.EXCEPTION_MESSAGE: kind, attr.EXCEPTION_STACKTRACE: stack})
    span.set_attribute(attr.ERROR_TYPE, etype)
    if _GQL_ON_EXCEPTIONS:
        _gql(span, getattr(exc, "gql_status", None), getattr(exc, "gql_classification", None))
    retryable = getattr(exc, "is_retryable", None)
    if callable(retryable):
        span.set_attribute(attr.NEO4J_ERROR_RETRYABLE, bool(retryable()))
    span.set_status(Status(StatusCode.ERROR, message))
    return etype


def failure_code(metadata: Mapping[str, Any]) -> str | None:
    """The classic Neo4j code of a Bolt FAILURE message."""
    code = metadata.get("neo4j_code") or metadata.get("code")
    return code if isinstance(code, str) else None


def record_failure(span: Span, metadata: Mapping[str, Any]) -> None:
    """Mark `span` failed from a Bolt FAILURE seen while streaming (no exception yet)."""
    code = failure_code(metadata) or "_OTHER"
    span.set_attribute(attr.DB_RESPONSE_STATUS_CODE, code)
    span.set_attribute(attr.ERROR_TYPE, code)
    diagnostic = metadata.get("diagnostic_record")
    classification = diagnostic.get("_classification") if isinstance(diagnostic, Mapping) else None
    _gql(span, metadata.get("gql_status"), classification)
    span.set_status(Status(StatusCode.ERROR, code))
