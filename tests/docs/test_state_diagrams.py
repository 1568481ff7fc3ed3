"""The state diagrams in the docs and in states.py are the transition tables, drawn.

Every diagram (a run of ``STATE ──► A | B`` lines) must show exactly the moves the
tables allow, and every move the prose claims ("`PENDING` → `COMPLETED`") must be one.
"""

from __future__ import annotations

import pytest

from phonepe_gateway.django import states

from .markdown import prose_edges, read, state_diagrams

#: Where the ledger's state machine is drawn; each must carry a diagram.
DRAWN_IN = (
    "src/phonepe_gateway/django/states.py",
    "docs/ARCHITECTURE.md",
    "README.md",
    "docs/API.md",
)
#: Documents whose prose talks about the ledger's states.
PROSE = (*DRAWN_IN, "docs/OPERATIONS.md")


def table(transitions) -> dict[str, frozenset[str]]:
    return {
        str(source): frozenset(str(t) for t in targets) for source, targets in transitions.items()
    }


def test_payment_and_refund_tables_then_one_machine() -> None:
    # The docs draw one diagram for both; if the machines ever differ, draw two.
    assert table(states.PAYMENT_TRANSITIONS) == table(states.REFUND_TRANSITIONS)


@pytest.mark.parametrize("document", DRAWN_IN)
def test_state_diagram_in_document_then_exactly_the_transition_table(document: str) -> None:
    diagrams = state_diagrams(read(document))
    assert diagrams, f"{document} has no state diagram (lines like 'CREATED ──► PENDING | ...')"
    expected = table(states.PAYMENT_TRANSITIONS)
    for diagram in diagrams:
        missing = {(s, t) for s, ts in expected.items() for t in ts - diagram.get(s, frozenset())}
        invented = {(s, t) for s, ts in diagram.items() for t in ts - expected.get(s, frozenset())}
        assert diagram.keys() == expected.keys(), f"{document}: {diagram} does not list every state"
        assert not missing, (
            f"{document}: the diagram lacks moves the code allows: {sorted(missing)}"
        )
        assert not invented, (
            f"{document}: the diagram has moves the code refuses: {sorted(invented)}"
        )


@pytest.mark.parametrize("document", PROSE)
def test_moves_claimed_in_prose_then_allowed_by_the_table(document: str) -> None:
    allowed = table(states.PAYMENT_TRANSITIONS)
    wrong = [
        f"{source} → {target} (in {quote!r})"
        for source, target, quote in prose_edges(read(document))
        if target not in allowed[source]
    ]
    assert not wrong, f"{document} claims moves the state machine does not allow: {wrong}"
