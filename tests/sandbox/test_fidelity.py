"""The sandbox held against real PhonePe answers (the corpus in tests/contract).

Every sample's situation is reproduced on a loopback sandbox and the two answers are
compared field by field; a difference fails this test unless the "Fidelity" table of
docs/SANDBOX.md lists it with its reason (and a row that no longer matches anything
fails it too, so the table stays true).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.corpus import Sample, load_samples

from .fidelity import Result, compare, documented_differences, is_documented, run

DOC = Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md"


@pytest.fixture(scope="module")
def results() -> list[Result]:
    return run()


def test_fidelity_when_driven_into_every_sample_then_only_documented_differences(
    results: list[Result],
) -> None:
    rows = documented_differences(DOC)
    undocumented = [d.row() for r in results for d in r.differences if not is_documented(d, rows)]
    assert not undocumented, (
        "differences from real PhonePe answers that docs/SANDBOX.md does not list "
        "(fix the sandbox, or add a row with the reason):\n" + "\n".join(undocumented)
    )


def test_fidelity_table_when_a_row_matches_no_difference_then_stale(
    results: list[Result],
) -> None:
    differences = [d for r in results for d in r.differences]
    stale = [
        row
        for row in documented_differences(DOC)
        if not any(is_documented(d, [row]) for d in differences)
    ]
    assert not stale, f"Fidelity rows that match no difference any more: {stale}"


def test_fidelity_when_measured_then_at_least_95_percent_and_documented(
    results: list[Result],
) -> None:
    compared = sum(r.compared for r in results)
    matching = sum(r.matching for r in results)
    assert compared > 2000  # the corpus is really compared, not skipped
    assert matching / compared >= 0.95
    line = f"fidelity: {matching} / {compared} fields match"
    assert line in DOC.read_text(encoding="utf-8"), f"docs/SANDBOX.md should show {line!r}"


def test_samples_when_not_compared_then_few_and_each_with_a_reason(
    results: list[Result],
) -> None:
    skipped = [r for r in results if r.skipped]
    assert all(r.skipped.strip() for r in skipped if r.skipped is not None)
    assert len(skipped) <= 20
    assert len(results) == len(load_samples())


def _sample(body: Any, status: int = 200) -> Sample:
    raw = {
        "id": "unit",
        "generation": 2,
        "api": "order_status",
        "situation": "unit",
        "tags": [],
        "source": {"kind": "docs", "url": "https://example.invalid", "checked": "2026-11-26"},
        "request": {"method": "GET", "base": "pg", "path": "/x"},
        "response": {"status": status, "status_published": True, "body": body},
    }
    return Sample(
        id="unit",
        generation=2,
        api="order_status",
        situation="unit",
        tags=(),
        source=raw["source"],
        request=raw["request"],
        response=raw["response"],
        webhook=None,
        raw=raw,
    )


def test_compare_when_fields_differ_then_each_kind_reported_and_counted() -> None:
    real = {
        "orderId": "OMO1",
        "state": "COMPLETED",
        "amount": 100,
        "gone": "x",
        "paymentDetails": [{"paymentMode": "UPI_QR", "timestamp": 1}],
    }
    mine = {
        "orderId": "OMO2",  # ids may differ
        "state": "PENDING",  # an enumerated value may not
        "amount": "100",  # nor a type
        "paymentDetails": [{"paymentMode": "UPI_QR", "timestamp": 2, "known": 1, "new": 2}],
    }
    result = compare(_sample(real), 404, mine, known={"paymentDetails[].known"})
    kinds = {(d.path, d.kind) for d in result.differences}
    assert kinds == {
        ("<status>", "value"),
        ("state", "value"),
        ("amount", "type"),
        ("gone", "missing"),
        ("paymentDetails[0].new", "extra"),
    }
    # compared: status, 5 real top-level paths, 3 inside the attempt, 2 sandbox-only
    assert result.compared == 1 + 5 + 3 + 2
    assert result.matching == result.compared - 5


def test_documented_differences_when_patterns_then_rows_expanded(tmp_path: Path) -> None:
    doc = tmp_path / "SANDBOX.md"
    doc.write_text(
        "| `a` | `b` | value | outside |\n"
        "<!-- fidelity-differences:begin -->\n"
        "| sample | path | kind | reason |\n"
        "|---|---|---|---|\n"
        "| `v2-webhook-*` | `event` | value, missing | why |\n"
        "<!-- fidelity-differences:end -->\n",
        encoding="utf-8",
    )
    rows = documented_differences(doc)
    assert rows == [("v2-webhook-*", "event", "value"), ("v2-webhook-*", "event", "missing")]
