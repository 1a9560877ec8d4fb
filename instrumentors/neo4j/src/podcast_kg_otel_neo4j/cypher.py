"""Cypher text analysis: comment removal, literal sanitizing, query summary, procedure.

One tokenizer pass per distinct query text (cached, bounded by entries and characters),
so a loop of the same query pays for the analysis once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podcast_kg_otel_neo4j.cache import BoundedCache

SUMMARY_MAX_LENGTH = 255
# Analyses kept: 512 texts, at most 2 million characters of texts and results together.
_ANALYSES = BoundedCache(max_entries=512, max_chars=2_000_000)

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^'\\]|\\.)*(?:'|\Z)|"(?:[^"\\]|\\.)*(?:"|\Z))
  | (?P<quoted>`(?:[^`]|``)*(?:`|\Z))
  | (?P<param>\$(?:`(?:[^`]|``)*`|\w+))
  | (?P<number>(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?))
  | (?P<word>[^\W\d]\w*)
  | (?P<space>\s+)
  | (?P<punct>.)
    """,
    re.DOTALL | re.VERBOSE,
)
_LITERAL_LIST = re.compile(r"\[\s*\?(?:\s*,\s*\?)*\s*\]")
_BLANK_LINES = re.compile(r"[ \t]*\n\s*\n")

_CLAUSES = {
    "MATCH",
    "MERGE",
    "CREATE",
    "DELETE",
    "SET",
    "REMOVE",
    "UNWIND",
    "CALL",
    "FOREACH",
    "USE",
    "SHOW",
    "DROP",
    "LOAD",
    "RETURN",
    "WITH",
    "FINISH",
}
_SUBQUERY_OPENERS = {"CALL", "EXISTS", "COUNT", "COLLECT", ""}
_SCHEMA_OBJECTS = {"INDEX", "INDEXES", "CONSTRAINT", "CONSTRAINTS", "DATABASE", "DATABASES"}


@dataclass(frozen=True)
class Analysis:
    """What the span needs from one query text."""

    text: str  # comments removed, otherwise as written
    sanitized: str  # comments removed, literals replaced by ?
    summary: str  # e.g. "MATCH Person KNOWS CREATE Episode"
    procedure: str | None  # the procedure a CALL names, when exactly one is called


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(match.lastgroup or "punct", match.group()) for match in _TOKEN.finditer(text)]


def _render(tokens: list[tuple[str, str]], sanitize: bool) -> str:
    parts: list[str] = []
    previous_word = ""
    for kind, value in tokens:
        if kind == "comment":
            parts.append(" ")
            continue
        if sanitize:
            if kind in ("string", "number"):
                value = "?"
            elif kind == "word":
                upper = value.upper()
                if upper in ("TRUE", "FALSE") or (
                    upper == "NULL" and previous_word not in ("IS", "NOT")
                ):
                    value = "?"
        if kind == "word":
            previous_word = value.upper()
        parts.append(value)
    rendered = "".join(parts)
    if sanitize:
        rendered = _LITERAL_LIST.sub("?", rendered)
    return _BLANK_LINES.sub("\n", rendered).strip()


def _name(value: str) -> str:
    return value[1:-1].replace("``", "`") if value.startswith("`") else value


class _Summary:
    """Clause keywords followed by the labels, relationship types and procedures they touch."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.quiet: list[str] = []
        self.procedures: list[str] = []
        self._targets: set[str] = set()

    def clause(self, keyword: str) -> None:
        self._targets = set()
        if self.parts and self.parts[-1] == keyword:
            return
        self.parts.append(keyword)

    def target(self, name: str) -> None:
        if name in self._targets:
            return
        self._targets.add(name)
        self.parts.append(name)

    def text(self) -> str:
        parts = self.parts or self.quiet[:1]
        summary = ""
        for part in parts:
            candidate = f"{summary} {part}" if summary else part
            if len(candidate) > SUMMARY_MAX_LENGTH:
                break
            summary = candidate
        return summary


def _summarize(tokens: list[tuple[str, str]]) -> _Summary:
    significant = [(k, v) for k, v in tokens if k not in ("space", "comment")]
    summary = _Summary()
    braces: list[bool] = []  # True for a map literal, False for a subquery block
    previous = ""
    index = 0
    while index < len(significant):
        kind, value = significant[index]
        upper = value.upper() if kind == "word" else ""
        if value == "{":
            braces.append(previous.upper() not in _SUBQUERY_OPENERS)
        elif value == "}":
            if braces:
                braces.pop()
        elif kind == "word" and upper in _CLAUSES and previous not in (".", ":", "$"):
            keyword = value
            nxt = significant[index + 1][1].upper() if index + 1 < len(significant) else ""
            prev_upper = previous.upper()
            if upper in ("CREATE", "MATCH") and prev_upper == "ON":
                keyword = ""  # MERGE ... ON CREATE SET / ON MATCH SET
            elif upper == "SET" and prev_upper in ("CREATE", "MATCH"):
                keyword = ""
            elif (upper == "MATCH" and prev_upper == "OPTIONAL") or (
                upper == "DELETE" and prev_upper == "DETACH"
            ):
                keyword = f"{significant[index - 1][1]} {value}"
            elif (upper == "LOAD" and nxt == "CSV") or (
                upper in ("CREATE", "DROP", "SHOW") and nxt in _SCHEMA_OBJECTS
            ):
                keyword = f"{value} {significant[index + 1][1]}"
                index += 1
            elif upper in ("RETURN", "WITH"):
                summary.quiet.append(value)
                keyword = ""
            if keyword:
                summary.clause(keyword)
            if upper == "CALL":
                index = _procedure(significant, index + 1, summary)
                previous = "CALL"
                continue
        elif value == ":" and not (braces and braces[-1]):
            index = _labels(significant, index + 1, summary)
            previous = ":"
            continue
        previous = value
        index += 1
    return summary


def _labels(tokens: list[tuple[str, str]], index: int, summary: _Summary) -> int:
    """Label or relationship-type expression after ':' (A|B, A&B, !A, :A:B, $(expr))."""
    while index < len(tokens):
        kind, value = tokens[index]
        if kind in ("word", "quoted"):
            summary.target(_name(value))
            index += 1
        elif value == "$" or kind == "param":
            summary.target("?")
            index += 1
            if index < len(tokens) and tokens[index][1] == "(":
                depth = 0
                while index < len(tokens):
                    depth += {"(": 1, ")": -1}.get(tokens[index][1], 0)
                    index += 1
                    if depth == 0:
                        break
        elif value in ("|", "&", "!", ":", "%"):
            index += 1
        else:
            break
    return index


def _procedure(tokens: list[tuple[str, str]], index: int, summary: _Summary) -> int:
    names: list[str] = []
    while index < len(tokens):
        kind, value = tokens[index]
        if kind in ("word", "quoted") and (not names or names[-1] == "."):
            names.append(_name(value))
        elif value == "." and names and names[-1] != ".":
            names.append(".")
        else:
            break
        index += 1
    procedure = "".join(names).strip(".")
    if procedure:
        summary.target(procedure)
        summary.procedures.append(procedure)
    return index


def analyse(text: str) -> Analysis:
    found = _ANALYSES.get(text)
    if found is not None:
        return found
    tokens = _tokens(text)
    summary = _summarize(tokens)
    procedures = set(summary.procedures)
    found = Analysis(
        text=_render(tokens, sanitize=False),
        sanitized=_render(tokens, sanitize=True),
        summary=summary.text(),
        procedure=procedures.pop() if len(procedures) == 1 else None,
    )
    size = len(text) + len(found.text) + len(found.sanitized) + len(found.summary)
    _ANALYSES.put(text, found, size)
    return found
