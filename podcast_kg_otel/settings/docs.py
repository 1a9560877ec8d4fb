"""``docs/configuration.md``'s table of variables, generated from the declarations.

    python -m podcast_kg_otel.settings.docs            # rewrite the table in place
    python -m podcast_kg_otel.settings.docs --check    # exit 1 when the file differs

The prose around the table is written by hand; the table between the two markers is not
(``make docs``; a test fails when the committed file differs from the generated one).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from podcast_kg_otel.settings.declarations import SETTINGS, Setting

BEGIN = "<!-- generated from podcast_kg_otel/settings/declarations.py: make docs -->"
END = "<!-- end of generated table -->"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _shown(value: Any) -> str:
    if value is None or value == ():
        return "–"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return f"`{value}`"


def row(setting: Setting) -> str:
    names = ", ".join(f"`{name}`" for name in setting.variables if "[" not in name)
    default = setting.shown_default or _shown(setting.default)
    return f"| {names} | {default} | {setting.doc} |"


def table() -> str:
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    lines += [row(setting) for setting in SETTINGS if setting.variables]
    return "\n".join(lines)


def render(current: str) -> str:
    """``current`` with the text between the markers replaced by the generated table."""
    head, begin, rest = current.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOCS} lacks the markers {BEGIN!r} ... {END!r}")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOCS.read_text()
    generated = render(current)
    if "--check" in argv:
        if generated != current:
            print(f"{DOCS} differs from the declarations: run make docs", file=sys.stderr)
            return 1
        return 0
    if generated != current:
        DOCS.write_text(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
