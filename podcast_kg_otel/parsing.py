"""Parsers for the structured ``OTEL_*`` values: key=value lists and endpoint URLs.

Each parser returns what it could use plus whether anything was malformed, so the caller can
give the one warning that names the variable.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def parse_key_values(raw: str) -> tuple[dict[str, str], bool]:
    """Parse ``k1=v1,k2=v2`` (values percent-decoded, as the spec says).

    Returns the well-formed pairs and True when some entry was malformed.
    """
    pairs: dict[str, str] = {}
    malformed = False
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = unquote(key.strip())
        if not sep or not key or any(ch.isspace() for ch in key):
            malformed = True
            continue
        pairs[key] = unquote(value.strip())
    return pairs, malformed


def redact_key_values(raw: str) -> str:
    """``k1=v1,k2=v2`` with values masked, for warnings about header lists."""
    return ",".join(
        f"{item.partition('=')[0].strip()}=***" if "=" in item else item.strip()
        for item in raw.split(",")
        if item.strip()
    )


def valid_endpoint(raw: str, *, scheme_required: bool) -> bool:
    """True for ``http(s)://host[:port][/path]`` (or ``host:port`` when no scheme is needed)."""
    candidate = raw if "://" in raw or scheme_required else f"http://{raw}"
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return port is None or 0 < port < 65536
