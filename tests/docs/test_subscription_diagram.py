"""The mandate state diagrams (``SOURCE ──▷ A | B``, drawn apart from the payment ones)
are :data:`SUBSCRIPTION_TRANSITIONS`, drawn: every state once, exactly the allowed moves."""

from __future__ import annotations

import re

import pytest

from phonepe_gateway.django.subscription_states import SUBSCRIPTION_TRANSITIONS

from .markdown import read

ARROW = "──▷"
DRAWN_IN = ("src/phonepe_gateway/django/subscription_states.py", "docs/API.md")
_LINE = re.compile(
    rf"^\s*(?P<source>[A-Z]+)\s+{ARROW}\s+"
    r"(?P<targets>nothing|[A-Z]+(?:\s*\|\s*[A-Z]+)*)\s*(?:\([^()]*\))?\s*$"
)


def diagrams(text: str) -> list[dict[str, frozenset[str]]]:
    found: list[dict[str, frozenset[str]]] = []
    current: dict[str, frozenset[str]] | None = None
    for line in text.splitlines():
        if ARROW not in line:
            current = None
            continue
        match = _LINE.match(line)
        assert match, f"not a mandate state diagram line: {line!r}"
        if current is None:
            current = {}
            found.append(current)
        source, targets = match["source"], match["targets"]
        assert source not in current, f"{source} listed twice"
        current[source] = (
            frozenset() if targets == "nothing" else frozenset(re.split(r"\s*\|\s*", targets))
        )
    return found


@pytest.mark.parametrize("document", DRAWN_IN)
def test_mandate_diagram_then_exactly_the_transition_table(document: str) -> None:
    expected = {str(s): frozenset(str(t) for t in ts) for s, ts in SUBSCRIPTION_TRANSITIONS.items()}
    drawn = diagrams(read(document))
    assert drawn, f"{document} draws no mandate state diagram"
    for diagram in drawn:
        assert diagram == expected, f"{document}: {diagram} is not {expected}"
