"""Span attributes and events from the Bolt summary metadata of a finished result.

Reads the raw metadata the driver keeps on the Result (`type`, `t_first`, `t_last`,
`db`, `stats`, `notifications`/`statuses`, `server`) rather than building a
ResultSummary, so the user's own summary object is untouched. Records are never read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Span
from podcast_kg_otel_util.content import truncate

from podcast_kg_otel_neo4j import attributes as attr
from podcast_kg_otel_neo4j.cypher import analyse

DESCRIPTION_MAX_LENGTH = 512
_QUOTED = re.compile(r"['\"].*['\"]", re.DOTALL)  # greedy: first quote mark to last
# GQLSTATUS classes that mean success or "no data": not worth an event.
_QUIET_GQL_CLASSES = ("00", "02")


# Connection facts (peer, Bolt version, agent) by ServerInfo object: the driver keeps
# one per connection, so they are derived once per connection, not once per query. The
# entry holds the object itself, so its id cannot be reused while cached.
_SERVERS: dict[int, tuple[Any, dict[str, Any]]] = {}
_SERVERS_MAX = 256


def _server_attributes(server: Any) -> dict[str, Any]:
    """Derive (and cache, once complete) the facts of one connection; apply() reads
    the cache first."""
    found: dict[str, Any] = {}
    peer = getattr(server, "address", None)
    if peer:
        found[attr.NETWORK_PEER_ADDRESS] = str(peer[0])
        found[attr.NETWORK_PEER_PORT] = int(peer[1])
    version = getattr(server, "protocol_version", None)
    if version:
        found[attr.NETWORK_PROTOCOL_NAME] = attr.PROTOCOL_BOLT
        found[attr.NETWORK_PROTOCOL_VERSION] = ".".join(map(str, version))
    agent = getattr(server, "agent", None)
    if not agent:
        return found  # not complete yet (no HELLO answer): not cached
    found[attr.NEO4J_SERVER_AGENT] = str(agent)
    if len(_SERVERS) >= _SERVERS_MAX:
        _SERVERS.clear()
    _SERVERS[id(server)] = (server, found)
    return found


def apply(
    span: Span,
    metadata: Mapping[str, Any],
    namespace_known: bool,
    found: dict[str, Any] | None = None,
) -> None:
    """Set everything the summary metadata tells us on a recording span, together with
    the attributes already in `found`, in one call. Runs once per query: plain lookups,
    no per-query derivation of connection facts (see _server_attributes)."""
    found = {} if found is None else found
    get = metadata.get
    server = get("server")
    if server is not None:
        cached = _SERVERS.get(id(server))
        if cached is not None and cached[0] is server:
            found.update(cached[1])
        else:
            found.update(_server_attributes(server))
    if not namespace_known:
        database = get("db")
        if database and isinstance(database, str):
            found[attr.DB_NAMESPACE] = database
    query_type = get("type")
    if isinstance(query_type, str):
        found[attr.NEO4J_QUERY_TYPE] = query_type
    available = get("t_first")
    if isinstance(available, int):
        found[attr.NEO4J_RESULT_AVAILABLE_AFTER] = available
    consumed = get("t_last")
    if isinstance(consumed, int):
        found[attr.NEO4J_RESULT_CONSUMED_AFTER] = consumed
    stats = get("stats")
    if stats and isinstance(stats, dict):  # (the driver's metadata is plain dicts)
        for key, value in stats.items():
            if isinstance(value, int) and not isinstance(value, bool) and value:
                found[attr.NEO4J_COUNTERS_PREFIX + key.replace("-", "_")] = value
    if found:
        span.set_attributes(found)
    statuses = get("statuses")
    if isinstance(statuses, list):
        for status in statuses:
            if isinstance(status, dict):
                gql_status = status.get("gql_status")
                # success and no-data statuses (one on every query) are not events
                if isinstance(gql_status, str) and gql_status[:2] not in _QUIET_GQL_CLASSES:
                    _status_event(span, status, gql_status)
    else:
        for notification in get("notifications") or ():
            if isinstance(notification, dict):
                _notification_event(span, notification)


def _position(event: dict[str, Any], position: Any) -> None:
    if isinstance(position, Mapping):
        for key, name in (
            ("line", attr.NOTIFICATION_POSITION_LINE),
            ("column", attr.NOTIFICATION_POSITION_COLUMN),
        ):
            if isinstance(position.get(key), int):
                event[name] = position[key]


def _put(event: dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, str) and value:
        event[name] = truncate(value, DESCRIPTION_MAX_LENGTH)


def _described(event: dict[str, Any], value: Any) -> None:
    """Descriptions quote parts of the query, literals included: sanitize them too.

    The server puts single quotes around a pattern that holds the query's own quoted
    literals ('(a:L {r: 'x'})'), which a tokenizer reads inside out; so everything from
    the first quote mark to the last becomes ? before the rest is sanitized."""
    if isinstance(value, str) and value:
        quoted = _QUOTED.sub("?", value)
        _put(event, attr.NOTIFICATION_DESCRIPTION, analyse(quoted).sanitized)


def _status_event(span: Span, status: Mapping[str, Any], gql_status: str) -> None:
    """A GQL status object (Bolt 5.6+) other than success or no data."""
    event: dict[str, Any] = {attr.NEO4J_GQL_STATUS: gql_status}
    diagnostic = status.get("diagnostic_record")
    diagnostic = diagnostic if isinstance(diagnostic, Mapping) else {}
    _put(event, attr.NOTIFICATION_CODE, status.get("neo4j_code"))
    _put(event, attr.NOTIFICATION_SEVERITY, diagnostic.get("_severity"))
    _put(event, attr.NOTIFICATION_CATEGORY, diagnostic.get("_classification"))
    _put(event, attr.NOTIFICATION_TITLE, status.get("title"))
    _described(event, status.get("status_description"))
    _position(event, diagnostic.get("_position"))
    span.add_event(attr.EVENT_NOTIFICATION, event)


def _notification_event(span: Span, notification: Mapping[str, Any]) -> None:
    """A classic notification (Bolt before 5.6)."""
    event: dict[str, Any] = {}
    _put(event, attr.NOTIFICATION_CODE, notification.get("code"))
    _put(event, attr.NOTIFICATION_SEVERITY, notification.get("severity"))
    _put(event, attr.NOTIFICATION_CATEGORY, notification.get("category"))
    _put(event, attr.NOTIFICATION_TITLE, notification.get("title"))
    _described(event, notification.get("description"))
    _position(event, notification.get("position"))
    span.add_event(attr.EVENT_NOTIFICATION, event)
