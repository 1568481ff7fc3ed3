"""Small readers for the facts the documents state: tables, state diagrams, routes.

Each reader is strict about the shape it accepts, so that a document that changes its
wording in a way the readers no longer understand fails loudly instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATES = ("CREATED", "PENDING", "UNKNOWN", "COMPLETED", "FAILED")
ARROW = "──►"

_DIAGRAM_LINE = re.compile(
    rf"^\s*(?P<source>[A-Z]+)\s+{ARROW}\s+"
    r"(?P<targets>nothing|[A-Z]+(?:\s*\|\s*[A-Z]+)*)"
    r"\s*(?:\([^()]*\))?\s*$"
)
_STATE_SET = r"`?(?:{s})`?(?:\s*/\s*`?(?:{s})`?)*".format(s="|".join(STATES))
_PROSE_EDGE = re.compile(rf"({_STATE_SET})\s*(?:→|->|{ARROW})\s*(?=({_STATE_SET}))")


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of the Markdown section ``heading`` (up to the next heading of its level)."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, re.MULTILINE)
    assert match, f"no section {heading!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in ``text``, as stripped cells."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[-|: ]+\|", line):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [row for row in rows if row and row[0] not in ("variable", "option", "method and path")]


Diagram = dict[str, frozenset[str]]


def state_diagrams(text: str) -> list[Diagram]:
    """Every state diagram in ``text``: a run of lines ``SOURCE ──► A | B (note)``.

    A diagram lists each state exactly once as a source (``──► nothing`` for a final one).
    """
    diagrams: list[Diagram] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if ARROW not in lines[i]:
            i += 1
            continue
        diagram: dict[str, frozenset[str]] = {}
        while i < len(lines) and ARROW in lines[i]:
            match = _DIAGRAM_LINE.match(lines[i])
            assert match, f"not a state diagram line: {lines[i]!r}"
            source, targets = match["source"], match["targets"]
            assert source in STATES, f"unknown state {source!r} in {lines[i]!r}"
            assert source not in diagram, f"{source} listed twice in a diagram"
            named = (
                frozenset() if targets == "nothing" else frozenset(re.split(r"\s*\|\s*", targets))
            )
            assert named <= set(STATES), f"unknown state in {lines[i]!r}"
            diagram[source] = named
            i += 1
        diagrams.append(diagram)
    return diagrams


def prose_edges(text: str) -> Iterator[tuple[str, str, str]]:
    """Every move the prose claims, e.g. "`CREATED/PENDING` → `UNKNOWN`": (from, to, quote)."""
    for match in _PROSE_EDGE.finditer(text):
        sources = re.findall("|".join(STATES), match.group(1))
        targets = re.findall("|".join(STATES), match.group(2))
        quote = " ".join(text[match.start() : match.end() + len(match.group(2))].split())
        for source in sources:
            for target in targets:
                yield source, target, quote
