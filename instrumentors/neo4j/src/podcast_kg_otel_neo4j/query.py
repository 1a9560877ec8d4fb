"""Span name and start attributes of one query (all there at span creation, for samplers)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from podcast_kg_otel_util.content import truncate

from podcast_kg_otel_neo4j import attributes as attr
from podcast_kg_otel_neo4j.cache import BoundedCache
from podcast_kg_otel_neo4j.config import PARAMETER_VALUE_MAX_LENGTH, Settings
from podcast_kg_otel_neo4j.cypher import analyse

_ACCESS_MODES = {"r": "READ", "w": "WRITE", "READ": "READ", "WRITE": "WRITE"}
# Start attributes kept, by query text and call shape: 1024 shapes, at most 2 million
# characters of query texts (the keys) and recorded texts together.
_SHAPES = BoundedCache(max_entries=1024, max_chars=2_000_000)


def access_mode(value: Any) -> str | None:
    """READ/WRITE from a session access mode or a RoutingControl."""
    return _ACCESS_MODES.get(getattr(value, "value", value))


def query_text(query: Any) -> str:
    text = getattr(query, "text", query)  # neo4j.Query or str
    return text if isinstance(text, str) else str(text)


def start_attributes(
    settings: Settings,
    query: Any,
    parameters: Any,
    extra: Mapping[str, Any],
    database: str | None,
    mode: Any,
    tx_type: str,
    address: Any,
) -> tuple[str, Mapping[str, Any]]:
    """(span name, attributes) for a query about to run; `extra` are keyword parameters,
    `mode` a raw access mode or RoutingControl (see access_mode).

    The attributes are shared between calls with the same inputs: copy before changing.
    Everything derived from the query text and the call's shape is computed once per
    distinct input (bounded cache): the per-query cost is one cache lookup.
    """
    text = query if type(query) is str else query_text(query)
    key = (settings, text, bool(parameters or extra), database, mode, tx_type, address or None)
    found = _SHAPES.get(key)
    if found is None:
        found = _shape(*key)
        _SHAPES.put(key, found, len(text) + len(found[0]) + _text_length(found[1]))
    name, attributes = found
    if settings.capture_parameters and (parameters or extra):
        merged = {**(parameters or {}), **extra}  # the driver's rule: keywords win
        attributes = dict(attributes)
        for key in settings.capture_parameters.intersection(merged):
            value = truncate(str(merged[key]), PARAMETER_VALUE_MAX_LENGTH)
            attributes[attr.DB_QUERY_PARAMETER_PREFIX + key] = value
    return name, attributes


def _text_length(attributes: Mapping[str, Any]) -> int:
    """The characters of the texts in `attributes` (what a cached entry holds)."""
    return sum(len(value) for value in attributes.values() if isinstance(value, str))


def _shape(
    settings: Settings,
    text: str,
    parameterized: bool,
    database: str | None,
    mode: Any,
    tx_type: str,
    address: Any,
) -> tuple[str, Mapping[str, Any]]:
    """Span name and start attributes of one query shape (cached by start_attributes)."""
    analysis = analyse(text)
    mode = access_mode(mode)
    attributes: dict[str, Any] = {
        attr.DB_SYSTEM_NAME: attr.DB_SYSTEM_NEO4J,
        attr.NEO4J_TRANSACTION_TYPE: tx_type,
    }
    if analysis.summary:
        attributes[attr.DB_QUERY_SUMMARY] = analysis.summary
    if settings.query_text != "off":
        if settings.query_text == "raw" or (settings.query_text == "on" and parameterized):
            shown = analysis.text
        else:
            shown = analysis.sanitized
        attributes[attr.DB_QUERY_TEXT] = truncate(shown, settings.query_text_max_length)
    if analysis.procedure:
        attributes[attr.DB_STORED_PROCEDURE_NAME] = analysis.procedure
    if database:
        attributes[attr.DB_NAMESPACE] = database
    if mode:
        attributes[attr.NEO4J_ACCESS_MODE] = mode
    if address:
        attributes[attr.SERVER_ADDRESS] = str(address[0])
        attributes[attr.SERVER_PORT] = int(address[1])
    return analysis.summary or (database or attr.DB_SYSTEM_NEO4J), MappingProxyType(attributes)
