"""A failed payment's PhonePe code, said the way a driver understands it."""

from __future__ import annotations

import pytest

from lots.failures import why_failed


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("INSUFFICIENT_BALANCE", "your bank account did not have enough money"),
        ("authorization_error", "the UPI PIN was wrong"),
        ("PAYMENT_ERROR", "it was declined in your UPI app"),
        ("TXN_NOT_COMPLETED", "it was not completed in time"),
        ("XYZ_NEW", "code XYZ_NEW"),  # unknown: shown as it is, for the staff to look up
        ("", ""),
        (None, ""),
    ],
)
def test_why_failed_when_code_then_plain_words(code: str | None, said: str) -> None:
    assert why_failed(code) == said


def test_why_failed_when_unknown_not_shown_then_default() -> None:
    assert why_failed("XYZ_NEW", "the bank declined it", show_unknown=False) == (
        "the bank declined it"
    )
    assert why_failed(None, "the bank declined it") == "the bank declined it"
